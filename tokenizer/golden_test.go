package tokenizer

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/internal/golden"
)

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
	golden.Check(t, filepath.Join("testdata", "encode.golden"), []byte(b.String()))
}
