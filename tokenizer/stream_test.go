package tokenizer

import (
	"bytes"
	"strings"
	"testing"
)

func TestEncodeDecodeLines(t *testing.T) {
	m := testModel(t, "unigram")
	in := "hello world\n\n  the tea  \nno newline at end"
	var ids, pieces bytes.Buffer
	if err := m.EncodeLines(strings.NewReader(in), &ids, false); err != nil {
		t.Fatal(err)
	}
	if err := m.EncodeLines(strings.NewReader(in), &pieces, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(in, "\n")
	idLines := strings.Split(strings.TrimSuffix(ids.String(), "\n"), "\n")
	pieceLines := strings.Split(strings.TrimSuffix(pieces.String(), "\n"), "\n")
	if len(idLines) != len(lines) || len(pieceLines) != len(lines) {
		t.Fatalf("%d input lines, %d id lines, %d piece lines", len(lines), len(idLines), len(pieceLines))
	}
	for i, l := range lines {
		if idLines[i] != joinInts(m.Encode(l)) {
			t.Errorf("line %d: ids %q", i+1, idLines[i])
		}
	}
	var back, back2 bytes.Buffer
	if err := m.DecodeLines(&ids, &back, false); err != nil {
		t.Fatal(err)
	}
	if err := m.DecodeLines(&pieces, &back2, true); err != nil {
		t.Fatal(err)
	}
	want := "hello world\n\nthe tea\nno newline at end\n"
	if back.String() != want || back2.String() != want {
		t.Errorf("decoded %q and %q, want %q", back.String(), back2.String(), want)
	}
	for _, bad := range []string{"1 x", "-1", "400", "99999999999999999999"} {
		err := m.DecodeLines(strings.NewReader("3\n"+bad+"\n"), &back, false)
		if err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("DecodeLines(%q): error %v, want one naming line 2", bad, err)
		}
	}
}
