// Package synth generates the files of the default suite (package data/suite): small
// text tasks built from templates, deterministically from fixed seeds. See the suite's
// README.md for what each task is.
package synth

import (
	"bytes"
	"fmt"
	"strings"
)

// Sizes of the generated splits.
const (
	TrainRows = 2000
	DevRows   = 400
)

// Files returns every file of the suite, keyed by its path relative to the suite's
// data folder ("sentiment/train.tsv", ...). The result is the same on every call.
func Files() map[string][]byte {
	files := map[string][]byte{}
	type task struct {
		name string
		seed uint64
		gen  func(r *rng, n int, seen map[string]bool) []byte
	}
	for _, t := range []task{
		{"sentiment", 0x5e471e47, sentimentRows},
		{"paraphrase", 0x9a4a9a5e, paraphraseRows},
		{"similarity", 0x5171a417, similarityRows},
	} {
		// Train and dev are drawn from separate streams, and share one set of seen
		// inputs, so no dev input also occurs in train.
		seen := map[string]bool{}
		files[t.name+"/train.tsv"] = t.gen(newRNG(t.seed), TrainRows, seen)
		files[t.name+"/dev.tsv"] = t.gen(newRNG(t.seed^0xde7de7de7), DevRows, seen)
	}
	return files
}

// tsvWriter builds a TSV file; cells must not contain tabs or line breaks.
type tsvWriter struct{ b bytes.Buffer }

func (w *tsvWriter) row(cells ...string) {
	for i, c := range cells {
		if strings.ContainsAny(c, "\t\n\r") {
			panic(fmt.Sprintf("synth: cell %q contains a tab or line break", c))
		}
		if i > 0 {
			w.b.WriteByte('\t')
		}
		w.b.WriteString(c)
	}
	w.b.WriteByte('\n')
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// shuffle puts rows in a random order (Fisher-Yates).
func shuffle[T any](r *rng, rows []T) {
	for i := len(rows) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		rows[i], rows[j] = rows[j], rows[i]
	}
}

// labelText writes a binary label as GLUE does: "1" or "0".
func labelText(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
