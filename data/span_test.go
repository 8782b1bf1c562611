package data

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func spansOf(mask []bool) (noise, spans int, lens []int) {
	for i, m := range mask {
		if !m {
			continue
		}
		noise++
		if i == 0 || !mask[i-1] {
			spans++
			lens = append(lens, 0)
		}
		lens[len(lens)-1]++
	}
	return noise, spans, lens
}

// The mask has T5's counts for every length: round(0.15·n) noise tokens in
// round(noise/3) spans, starting with a kept token and ending with noise; over many
// seeds the density is 0.15 and the mean span length 3, and every span length occurs.
func TestNoiseMaskStatistics(t *testing.T) {
	o := SpanOptions{}.WithDefaults()
	for _, tc := range []struct {
		length, noise, spans int
	}{{2, 1, 1}, {3, 1, 1}, {10, 2, 1}, {20, 3, 1}, {100, 15, 5}, {114, 17, 6}, {568, 85, 28}, {1000, 150, 50}} {
		for seed := range uint64(50) {
			mask := NoiseMask(tc.length, o, seed)
			noise, spans, _ := spansOf(mask)
			if noise != tc.noise || spans != tc.spans {
				t.Fatalf("length %d seed %d: %d noise tokens in %d spans; want %d in %d", tc.length, seed, noise, spans, tc.noise, tc.spans)
			}
			if mask[0] || !mask[tc.length-1] {
				t.Fatalf("length %d seed %d: the mask must start with a kept token and end with noise", tc.length, seed)
			}
		}
	}
	var noise, total, spans int
	hist := map[int]int{}
	for seed := range uint64(2000) {
		n := 50 + int(seed%400)
		m := NoiseMask(n, o, seed)
		k, s, lens := spansOf(m)
		noise, total, spans = noise+k, total+n, spans+s
		for _, l := range lens {
			hist[l]++
		}
	}
	if d := float64(noise) / float64(total); math.Abs(d-0.15) > 0.002 {
		t.Errorf("noise density %v; want 0.15", d)
	}
	if l := float64(noise) / float64(spans); math.Abs(l-3) > 0.05 {
		t.Errorf("mean span length %v; want 3", l)
	}
	for l := 1; l <= 6; l++ {
		if hist[l] == 0 {
			t.Errorf("no span of length %d in 2000 masks: %v", l, hist)
		}
	}
	if slices.Equal(NoiseMask(100, o, 1), NoiseMask(100, o, 2)) {
		t.Error("two seeds give the same mask")
	}
	if !slices.Equal(NoiseMask(100, o, 7), NoiseMask(100, o, 7)) {
		t.Error("one seed gives two masks")
	}
	if m := NoiseMask(1, o, 3); len(m) != 1 || m[0] {
		t.Errorf("a single token is noise: %v", m)
	}
	// Other settings.
	o2 := SpanOptions{NoiseDensity: 0.5, MeanSpanLength: 1}
	if k, s, _ := spansOf(NoiseMask(40, o2, 1)); k != 20 || s != 20 {
		t.Errorf("density 0.5, span 1: %d noise in %d spans", k, s)
	}
}

// One example's exact form on a fixed seed: the mask, and the inputs and targets it
// makes with sentinels counted down from 32099 as in t5-small.
func TestSpanCorruptExactForm(t *testing.T) {
	sentinel := func(i int) int32 { return int32(32099 - i) }
	// Hugging Face's example: "The cute dog walks in the park" with "cute dog" and
	// "the" as noise.
	toks := []int32{37, 5295, 1782, 10681, 16, 8, 2447}
	mask := []bool{false, true, true, false, false, true, false}
	in, out := SpanCorrupt(toks, mask, sentinel)
	if want := []int32{37, 32099, 10681, 16, 32098, 2447}; !slices.Equal(in, want) {
		t.Errorf("inputs %v; want %v", in, want)
	}
	if want := []int32{32099, 5295, 1782, 32098, 8, 32097}; !slices.Equal(out, want) {
		t.Errorf("targets %v; want %v", out, want)
	}
	if SpanSentinels(mask) != 3 {
		t.Errorf("SpanSentinels = %d; want 3", SpanSentinels(mask))
	}
	// A fixed seed's mask over 40 tokens (6 noise tokens in 2 spans), and the example
	// it makes.
	toks = make([]int32, 40)
	for i := range toks {
		toks[i] = int32(100 + i)
	}
	mask = NoiseMask(40, SpanOptions{}, 42)
	var b strings.Builder
	for _, m := range mask {
		b.WriteByte(".x"[boolInt(m)])
	}
	const wantMask = "..........x........................xxxxx"
	if b.String() != wantMask {
		t.Fatalf("mask %s; want %s", b.String(), wantMask)
	}
	in, out = SpanCorrupt(toks, mask, sentinel)
	wantIn := append(append(append(slices.Clone(toks[:10]), 32099), toks[11:35]...), 32098)
	if !slices.Equal(in, wantIn) {
		t.Errorf("inputs %v; want %v", in, wantIn)
	}
	if want := []int32{32099, 110, 32098, 135, 136, 137, 138, 139}; !slices.Equal(out, want) {
		t.Errorf("targets %v; want %v", out, want)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSpanChunkLength(t *testing.T) {
	for _, tc := range []struct{ in, out, want int }{{512, 114, 568}, {64, 16, 0}, {8, 4, 0}} {
		got := SpanChunkLength(tc.in, tc.out, SpanOptions{})
		if tc.want != 0 && got != tc.want {
			t.Errorf("SpanChunkLength(%d, %d) = %d; want %d", tc.in, tc.out, got, tc.want)
		}
		// Every chunk length up to the answer fits.
		for n := 2; n <= got; n++ {
			mask := NoiseMask(n, SpanOptions{}, uint64(n))
			toks := make([]int32, n)
			in, out := SpanCorrupt(toks, mask, func(int) int32 { return 1 })
			if len(in)+1 > tc.in || len(out)+1 > tc.out {
				t.Fatalf("chunk of %d tokens: %d inputs, %d targets (+EOS) exceed %d, %d", n, len(in), len(out), tc.in, tc.out)
			}
		}
	}
}

func TestReadDocuments(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.txt", "first doc\n\n  second doc  \r\n")
	write("b.txt", "third")
	write("notes.md", "ignored")
	got, err := ReadDocuments(a)
	if err != nil || !slices.Equal(got, []string{"first doc", "second doc"}) {
		t.Errorf("file: %q, %v", got, err)
	}
	got, err = ReadDocuments(dir)
	if err != nil || !slices.Equal(got, []string{"first doc", "second doc", "third"}) {
		t.Errorf("folder: %q, %v", got, err)
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	blank := write("blank.txt", "\n \n")
	long := write("long.txt", "ok\n"+strings.Repeat("x", MaxDocumentLineSize+1)+"\n")
	for _, tc := range []struct{ path, want string }{
		{empty, "has no .txt files"},
		{blank, "holds no text"},
		{long, "long.txt:2: a line longer than 1 MiB"},
		{filepath.Join(dir, "missing.txt"), "no such file"},
	} {
		if _, err := ReadDocuments(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadDocuments(%s) = %v; want an error containing %q", filepath.Base(tc.path), err, tc.want)
		}
	}
}

func TestSpanTaskValidate(t *testing.T) {
	ok := TaskDef{Name: "pre", Kind: KindSpanCorruption, Dir: "/corpus"}
	if err := ok.Validate(); err != nil {
		t.Errorf("a valid span task: %v", err)
	}
	for _, tc := range []struct {
		def  TaskDef
		want string
	}{
		{TaskDef{Name: "pre", Kind: KindSpanCorruption}, "dir is empty"},
		{TaskDef{Name: "pre", Kind: KindSpanCorruption, Dir: "c", Label: "label"}, "label is set"},
		{TaskDef{Name: "pre", Kind: KindSpanCorruption, Dir: "c", Span: &SpanOptions{NoiseDensity: 1.5}}, "span.noise_density is 1.5"},
		{TaskDef{Name: "pre", Kind: KindSpanCorruption, Dir: "c", Span: &SpanOptions{MeanSpanLength: 0.5}}, "span.mean_span_length is 0.5"},
		{TaskDef{Name: "pre", Kind: "masked_lm", Dir: "c"}, `kind is "masked_lm"`},
	} {
		if err := tc.def.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want an error containing %q", tc.def, err, tc.want)
		}
	}
}

// FuzzAppendDocuments checks the document reader on arbitrary bytes: no panic, no
// blank or untrimmed document, no line break inside one.
func FuzzAppendDocuments(f *testing.F) {
	f.Add([]byte("a\n\nb c \r\n"))
	f.Add([]byte("\xff\xfe\n\t\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		docs, err := appendDocuments(nil, "f.txt", b)
		if err != nil {
			return
		}
		for _, d := range docs {
			if d == "" || strings.TrimSpace(d) != d || strings.Contains(d, "\n") {
				t.Fatalf("document %q", d)
			}
		}
	})
}
