package data

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hypergrid-go/hypergrid/internal/fileio"
)

// KindSpanCorruption is the TaskDef.Kind of a span-corruption pretraining task: T5's
// unsupervised objective over plain text (see SpanOptions, NoiseMask, SpanCorrupt).
const KindSpanCorruption = "span_corruption"

// Limits of the text a span-corruption task reads.
const (
	// MaxDocumentFileSize bounds one text file (and all files of a folder together).
	MaxDocumentFileSize int64 = 1 << 30
	// MaxDocumentLineSize bounds one document (one line).
	MaxDocumentLineSize = 1 << 20
	// MaxDocuments bounds the number of documents read.
	MaxDocuments = 10_000_000
	// MaxDocumentFiles bounds the number of .txt files of a folder.
	MaxDocumentFiles = 100_000
)

// SpanOptions are the settings of a span-corruption task (TaskDef.Span): T5's noise
// density and mean noise span length. Zero values take T5's defaults.
type SpanOptions struct {
	// NoiseDensity is the fraction of tokens corrupted (T5: 0.15).
	NoiseDensity float64 `yaml:"noise_density,omitempty"`
	// MeanSpanLength is the mean length of a noise span in tokens (T5: 3).
	MeanSpanLength float64 `yaml:"mean_span_length,omitempty"`
}

// T5's span-corruption settings.
const (
	DefaultNoiseDensity   = 0.15
	DefaultMeanSpanLength = 3.0
)

// WithDefaults returns o with T5's values for the settings left at zero.
func (o SpanOptions) WithDefaults() SpanOptions {
	if o.NoiseDensity == 0 {
		o.NoiseDensity = DefaultNoiseDensity
	}
	if o.MeanSpanLength == 0 {
		o.MeanSpanLength = DefaultMeanSpanLength
	}
	return o
}

// Validate reports settings out of range.
func (o SpanOptions) Validate() error {
	var errs []error
	if !(o.NoiseDensity >= 0 && o.NoiseDensity < 1) {
		errs = append(errs, fmt.Errorf("span.noise_density is %v; want a fraction in (0, 1) (T5: 0.15)", o.NoiseDensity))
	}
	if !(o.MeanSpanLength == 0 || o.MeanSpanLength >= 1 && o.MeanSpanLength <= 1000) {
		errs = append(errs, fmt.Errorf("span.mean_span_length is %v; want 1 to 1000 tokens (T5: 3)", o.MeanSpanLength))
	}
	return errors.Join(errs...)
}

// validateSpan checks a span-corruption task: a name, the text's path in Dir, its
// options, and none of the settings of a labelled task.
func (d *TaskDef) validateSpan(bad func(string, ...any)) {
	if d.Dir == "" {
		bad("dir is empty: a span_corruption task reads a text file (one document per line) or a folder of .txt files; give its path in dir")
	}
	if d.Span != nil {
		if err := d.Span.Validate(); err != nil {
			for _, e := range flattenErrors(err) {
				bad("%v", e)
			}
		}
	}
	for _, f := range []struct {
		key string
		set bool
	}{{"format", d.Format != ""}, {"inputs", len(d.Inputs) > 0}, {"label", d.Label != ""}, {"label_words", len(d.LabelWords) > 0},
		{"metrics", len(d.Metrics) > 0}, {"splits", len(d.Splits) > 0}, {"type", d.Type != ""}, {"transform", d.Transform != ""}} {
		if f.set {
			bad("%s is set, but a span_corruption task reads plain text and has no %s: remove it", f.key, f.key)
		}
	}
}

func flattenErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// IsSpanCorruption reports whether d is a span-corruption task.
func (d *TaskDef) IsSpanCorruption() bool { return d.Kind == KindSpanCorruption }

// ReadDocuments reads the documents of a span-corruption task: path is a text file
// (one document per line) or a folder whose .txt files (sorted by name, not
// recursively) are read so. Blank lines are skipped; each document is trimmed of
// surrounding white space. Files must be regular, and stay within
// MaxDocumentFileSize (together), lines within MaxDocumentLineSize, at most
// MaxDocuments documents.
func ReadDocuments(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("span_corruption text: %w", err)
	}
	files := []string{path}
	if fi.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("span_corruption text: %w", err)
		}
		files = files[:0]
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".txt") {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("span_corruption text: folder %s has no .txt files; put the text in NAME.txt files, one document per line", path)
		}
		if len(files) > MaxDocumentFiles {
			return nil, fmt.Errorf("span_corruption text: folder %s has %d .txt files, more than %d", path, len(files), MaxDocumentFiles)
		}
		slices.Sort(files)
	}
	var docs []string
	budget := MaxDocumentFileSize
	for _, name := range files {
		b, err := fileio.ReadRegular(name, "text file", budget)
		if err != nil {
			return nil, fmt.Errorf("span_corruption text: %w", err)
		}
		budget -= int64(len(b))
		if docs, err = appendDocuments(docs, name, b); err != nil {
			return nil, err
		}
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("span_corruption text: %s holds no text (every line is blank)", path)
	}
	return docs, nil
}

// appendDocuments appends the non-blank lines of b, the file name, to docs.
func appendDocuments(docs []string, name string, b []byte) ([]string, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), MaxDocumentLineSize)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		if len(docs) == MaxDocuments {
			return nil, fmt.Errorf("span_corruption text: %s:%d: more than %d documents; use a smaller corpus", name, line, MaxDocuments)
		}
		docs = append(docs, s)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("span_corruption text: %s:%d: a line longer than %s; split documents into lines", name, line+1, fileio.ByteSize(MaxDocumentLineSize))
		}
		return nil, fmt.Errorf("span_corruption text: %s: %w", name, err)
	}
	return docs, nil
}

// spanCounts returns T5's numbers of noise tokens and noise spans for a sequence of
// length tokens (length ≥ 2).
func spanCounts(length int, o SpanOptions) (noise, spans int) {
	noise = int(math.RoundToEven(float64(length) * o.NoiseDensity))
	noise = min(max(noise, 1), length-1)
	spans = max(int(math.RoundToEven(float64(noise)/o.MeanSpanLength)), 1)
	return noise, spans
}

// NoiseMask returns T5's random_spans_noise_mask for length tokens: round(length ·
// density) noise tokens (at least 1, at most length−1) in round(noise /
// mean_span_length) spans (at least 1), the noise and the non-noise tokens each cut
// into that many spans of random lengths (each at least 1, every cut equally
// likely), interleaved starting with a non-noise span, so the mask ends with noise.
// A length below 2 has no noise. The mask depends only on length, o and seed.
func NoiseMask(length int, o SpanOptions, seed uint64) []bool {
	mask := make([]bool, length)
	if length < 2 {
		return mask
	}
	o = o.WithDefaults()
	noise, spans := spanCounts(length, o)
	spans = min(spans, noise, length-noise)
	state := seed
	noiseLens := randomSegmentation(noise, spans, &state)
	keepLens := randomSegmentation(length-noise, spans, &state)
	pos := 0
	for i := range spans {
		pos += keepLens[i]
		for range noiseLens[i] {
			mask[pos] = true
			pos++
		}
	}
	return mask
}

// randomSegmentation cuts n items into k non-empty segments, every choice of the k−1
// cut points among the n−1 gaps equally likely, and returns their lengths.
func randomSegmentation(n, k int, state *uint64) []int {
	// Choose k−1 distinct gaps by a partial Fisher–Yates shuffle of 1..n−1.
	gaps := make([]int, n-1)
	for i := range gaps {
		gaps[i] = i + 1
	}
	for i := 0; i < k-1; i++ {
		j := i + int(boundedRand(state, uint64(len(gaps)-i)))
		gaps[i], gaps[j] = gaps[j], gaps[i]
	}
	cuts := append(slices.Clone(gaps[:k-1]), n)
	slices.Sort(cuts)
	lens := make([]int, k)
	prev := 0
	for i, c := range cuts {
		lens[i], prev = c-prev, c
	}
	return lens
}

// SpanCorrupt applies a noise mask to tokens as T5's span_corruption does: the inputs
// are the tokens with each noise span replaced by one sentinel, and the targets the
// tokens with each non-noise span replaced by one sentinel, sentinels numbered from 0
// in order (sentinel(i) is the ID of <extra_id_i>). For "The cute dog walks in the
// park" with "cute dog" and "the" as noise: inputs "The <0> walks in <1> park",
// targets "<0> cute dog <1> the <2>". Neither gets EOS.
func SpanCorrupt(tokens []int32, mask []bool, sentinel func(i int) int32) (inputs, targets []int32) {
	if len(mask) != len(tokens) {
		panic(fmt.Sprintf("data: SpanCorrupt: %d mask entries for %d tokens", len(mask), len(tokens)))
	}
	replace := func(noise bool) []int32 {
		var out []int32
		n := 0
		for i, t := range tokens {
			if mask[i] != noise {
				out = append(out, t)
				continue
			}
			if i == 0 || mask[i-1] != noise {
				out = append(out, sentinel(n))
				n++
			}
		}
		return out
	}
	return replace(true), replace(false)
}

// SpanSentinels returns the number of sentinels SpanCorrupt needs for a mask: the
// larger of its numbers of noise and non-noise spans.
func SpanSentinels(mask []bool) int {
	var noise, keep int
	for i, m := range mask {
		if i == 0 || m != mask[i-1] {
			if m {
				noise++
			} else {
				keep++
			}
		}
	}
	return max(noise, keep)
}

// SpanChunkLength returns the largest number of tokens a chunk of text can have so
// that, span-corrupted with o, its inputs fit maxInput and its targets maxTarget
// (each with its EOS), as T5's random_spans_helper computes; 0 when not even 2 tokens
// fit.
func SpanChunkLength(maxInput, maxTarget int, o SpanOptions) int {
	o = o.WithDefaults()
	best := 0
	for n := 2; n <= maxInput*4+4; n++ {
		noise, spans := spanCounts(n, o)
		// Inputs: the kept tokens, one sentinel per noise span, EOS. Targets: the noise
		// tokens, one sentinel per span (NoiseMask ends with noise: no sentinel after
		// the last span), EOS.
		if n-noise+spans+1 <= maxInput && noise+spans+1 <= maxTarget {
			best = n
		}
	}
	return best
}
