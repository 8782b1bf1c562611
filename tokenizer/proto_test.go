package tokenizer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/tokenizer/internal/protowire"
)

// buildModel returns a serialized ModelProto with the given pieces and trainer fields.
func buildModel(pieces []pieceProto, trainer ...protowire.Field) []byte {
	mp := &modelProto{pieces: pieces, hasTrainer: true, hasNorm: true}
	mp.trainer = newMessage(trainer...)
	return mp.marshal()
}

func p(s string, typ PieceType) pieceProto {
	return pieceProto{piece: s, typ: typ, hasType: true, hasScore: true, score: -1}
}

func TestParseErrors(t *testing.T) {
	unk := p("<unk>", Unknown)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"garbage", []byte{0xff, 0xff}, "not a valid SentencePiece model"},
		{"truncated", buildModel([]pieceProto{unk, p("a", Normal)})[:9], "not a valid SentencePiece model"},
		{"no pieces", buildModel(nil), "no pieces"},
		{"no unk", buildModel([]pieceProto{p("a", Normal)}), "no unknown piece"},
		{"two unk", buildModel([]pieceProto{unk, p("<u2>", Unknown)}), "already defined"},
		{"duplicate", buildModel([]pieceProto{unk, p("a", Normal), p("a", Normal)}), `"a" is already defined`},
		{"empty piece", buildModel([]pieceProto{unk, p("", Normal)}), "piece 1 is empty"},
		{"byte without fallback", buildModel([]pieceProto{unk, p("<0x41>", Byte)}), "byte_fallback is false"},
		{"bad byte piece", buildModel([]pieceProto{unk, p("<0xG1>", Byte)}, protowire.Bool(fTrainerByteFallback, true)), "is invalid"},
		{"missing bytes", buildModel([]pieceProto{unk, p("<0x41>", Byte)}, protowire.Bool(fTrainerByteFallback, true)), "<0x00> is missing"},
		{"word model", buildModel([]pieceProto{unk}, protowire.Varint(fTrainerModelType, 3)), "model type word is not supported"},
		{"wrong wire type", protowire.AppendField(nil, protowire.Varint(fModelPieces, 1)), "wire type"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestLoadErrorNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.model")
	os.WriteFile(path, []byte("not a model"), 0o644)
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Load error %v does not name %s", err, path)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.model")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func TestMarshalKeepsUnknownFields(t *testing.T) {
	m := testModel(t, "unigram")
	mp, err := parseModelProto(m.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	// Unknown fields at every level: model, trainer spec, normalizer spec, piece.
	mp.extra = protowire.AppendField(mp.extra, protowire.String(200, "model extension"))
	mp.trainer.add(protowire.Varint(999, 7))
	mp.normalizer.add(protowire.String(6, "a normalization_rule_tsv"))
	mp.pieces[5].extra = protowire.AppendField(mp.pieces[5].extra, protowire.Varint(3, 42)) // unknown enum value
	data := mp.marshal()
	m2, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m2.Marshal(), data) {
		t.Fatal("Parse/Marshal does not reproduce the bytes")
	}
	if f, ok := m2.proto.trainer.last(999); !ok || f.Value != 7 {
		t.Error("trainer_spec field 999 lost")
	}
	if m2.PieceType(5) != m.PieceType(5) {
		t.Error("an unknown enum value changed the piece type")
	}
	for _, line := range corpusLines(t)[:5] {
		if joinInts(m2.Encode(line)) != joinInts(m.Encode(line)) {
			t.Fatalf("round-tripped model encodes %q differently", line)
		}
	}
}

func TestSaveIsAtomic(t *testing.T) {
	m := testModel(t, "bpe")
	dir := t.TempDir()
	path := filepath.Join(dir, "m.model")
	os.WriteFile(path, []byte("old content"), 0o644)
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, m.Marshal()) {
		t.Fatalf("saved file differs: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("Save left %d files in the directory, want 1", len(entries))
	}
	if err := m.Save(filepath.Join(dir, "no", "such", "dir.model")); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
}
