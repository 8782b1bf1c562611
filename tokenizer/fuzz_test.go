package tokenizer

import (
	"bytes"
	"slices"
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

// FuzzParseIDs: ParseIDs never panics; what it accepts is one id per field, each in
// range, and written back it parses to the same ids; an error names an item.
func FuzzParseIDs(f *testing.F) {
	f.Add("0 1 2", 10)
	f.Add(" 9\t3  4\r", 10)
	f.Add("1 x -1 99999999999999999999 +5 007", 10)
	f.Add("", 0)
	f.Add("5", -3)
	f.Fuzz(func(t *testing.T, line string, vocab int) {
		ids, err := ParseIDs(line, vocab)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "item ") {
				t.Fatalf("error %q does not name the item", err)
			}
			return
		}
		if len(ids) != len(strings.Fields(line)) {
			t.Fatalf("%d ids from %d fields", len(ids), len(strings.Fields(line)))
		}
		for _, id := range ids {
			if id < 0 || id >= vocab {
				t.Fatalf("id %d accepted for a vocabulary of %d", id, vocab)
			}
		}
		again, err := ParseIDs(joinInts(ids), vocab)
		if err != nil || joinInts(again) != joinInts(ids) {
			t.Fatalf("ids %v written back parse to %v, %v", ids, again, err)
		}
	})
}

// FuzzReadTrainingText: the training-text reader never panics, hands out lines that
// spell its input, never a line or a total over the limits, and names the input and
// the line in its errors.
func FuzzReadTrainingText(f *testing.F) {
	f.Add([]byte("a b\n\nc\r\nlast"), 8, 64)
	f.Add([]byte("a b\rc d\re f\rg"), 4, 64)
	f.Add([]byte("a\x00b\x00\n\x00"), 2, 64)
	f.Add([]byte("0123456789\n0123456789\n"), 10, 21)
	f.Fuzz(func(t *testing.T, in []byte, maxLine, limit int) {
		maxLine = 1 + abs(maxLine)%64
		limit = abs(limit) % 256
		var lines []string
		read, err := readTextLines(strings.NewReader(string(in)), "in.txt", maxLine, int64(limit), func(l string, n int) error {
			if n != len(lines)+1 || len(l) > maxLine || strings.Contains(l, "\n") {
				t.Fatalf("line %d %q (limit %d) after %d lines", n, l, maxLine, len(lines))
			}
			lines = append(lines, l)
			return nil
		})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "in.txt:") {
				t.Fatalf("error %q does not name the input", err)
			}
			if len(in) <= limit && !strings.Contains(err.Error(), "line is longer") {
				t.Fatalf("input within the limit refused: %v", err)
			}
			return
		}
		if len(in) > limit || read != int64(len(in)) {
			t.Fatalf("read %d of %d bytes with a limit of %d", read, len(in), limit)
		}
		text := strings.Join(lines, "\n")
		if want := strings.TrimSuffix(string(in), "\n"); text != want {
			t.Fatalf("lines spell %q, want %q", text, want)
		}
	})
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// FuzzEncodeSentinels checks the sentinel-aware encoder on arbitrary text against an
// independent splitter (sentinelRef): same IDs, all in range, and decoding never
// panics.
func FuzzEncodeSentinels(f *testing.F) {
	for _, s := range sentinelLines {
		f.Add(s)
	}
	plain := testModel(f, "unigram-bytes")
	m, err := plain.WithExtraIDs(12)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := m.Encode(s)
		if want := sentinelRef(plain, 12, s); !slices.Equal(ids, want) {
			t.Fatalf("Encode(%q) = %v; want %v", s, ids, want)
		}
		for _, id := range ids {
			if id < 0 || id >= m.VocabSize() {
				t.Fatalf("Encode(%q): id %d out of [0, %d)", s, id, m.VocabSize())
			}
		}
		if p := m.EncodePieces(s); len(p) != len(ids) {
			t.Fatalf("EncodePieces(%q): %d pieces for %d ids", s, len(p), len(ids))
		}
		m.Decode(ids)
	})
}
