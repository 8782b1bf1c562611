package tokenizer

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGoldenEncodings pins the pieces and ids the test models produce, so a change in
// training or encoding shows up as a diff of testdata/encode.golden (run with -update
// to accept it).
func TestGoldenEncodings(t *testing.T) {
	var b strings.Builder
	inputs := append(trickyLines, corpusLines(t)[:8]...)
	for _, name := range []string{"unigram", "bpe", "unigram-bytes", "bpe-bytes"} {
		m := testModel(t, name)
		fmt.Fprintf(&b, "## %s (vocab %d)\n", name, m.VocabSize())
		for _, in := range inputs {
			fmt.Fprintf(&b, "%q\n  %s\n  %s\n", in, strings.Join(m.EncodePieces(in), " "), joinInts(m.Encode(in)))
		}
	}
	got := b.String()
	const path = "testdata/encode.golden"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test -update if the change is intended)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: got %d lines, want %d (run go test -update if intended)", path, len(gl), len(wl))
	}
}
