package tokenizer

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the .model reader: it must return an error or a
// model that encodes, decodes and re-serializes without panicking.
func FuzzParse(f *testing.F) {
	// Seeds: a small real model (with byte fallback and user-defined pieces), pieces of
	// it, and a few hand-made messages.
	small, err := Train(TrainOptions{
		Sentences: []string{"a tiny corpus for the fuzz seed", "tiny tiny corpus", "seeds grow into trees", "fuzzing finds the bugs that tests miss"},
		VocabSize: 285, ByteFallback: true, Normalization: Identity,
		UserDefinedSymbols: []string{"<x>"},
	})
	if err != nil {
		f.Fatal(err)
	}
	data := small.Marshal()
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add(buildModel([]pieceProto{p("<unk>", Unknown), p("a", Normal), p("ab", Normal)}))
	f.Add([]byte{0x0a, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		for _, s := range []string{"", "ab a\tb", "<x>tiny\xff☃"} {
			ids := m.Encode(s)
			m.EncodePieces(s)
			m.Decode(ids)
			m.Decode([]int{-1, m.VocabSize(), 0})
		}
		m2, err := Parse(m.Marshal())
		if err != nil {
			t.Fatalf("re-parsing a marshaled model: %v", err)
		}
		if !bytes.Equal(m2.Marshal(), m.Marshal()) {
			t.Fatal("Marshal is not stable")
		}
	})
}

// FuzzEncode checks the normalizer and both encoders on arbitrary text: no panics, IDs
// and pieces agree, and with byte fallback decoding returns the normalized text.
func FuzzEncode(f *testing.F) {
	for _, s := range trickyLines {
		f.Add(s)
	}
	f.Add("The café serves crêpes.")
	models := []*Model{testModel(f, "unigram-bytes"), testModel(f, "bpe-bytes"), testModel(f, "unigram"), testModel(f, "bpe")}
	f.Fuzz(func(t *testing.T, s string) {
		for i, m := range models {
			ids := m.Encode(s)
			pieces := m.EncodePieces(s)
			if len(ids) != len(pieces) {
				t.Fatalf("%d ids, %d pieces", len(ids), len(pieces))
			}
			norm := m.Normalize(s)
			if got := strings.Join(pieces, ""); i >= 2 && got != norm {
				t.Fatalf("pieces %q do not spell the normalized text %q", got, norm)
			}
			if i >= 2 || strings.Contains(s, "<cls>") {
				continue
			}
			// Byte fallback: every character survives the round trip.
			want := strings.ReplaceAll(strings.TrimPrefix(norm, spaceSymbol), spaceSymbol, " ")
			if got := m.Decode(ids); got != want {
				t.Fatalf("Decode(Encode(%q)) = %q, want %q", s, got, want)
			}
		}
	})
}
