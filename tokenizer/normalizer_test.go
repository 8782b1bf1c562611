package tokenizer

import (
	"testing"

	"github.com/hypergrid-go/hypergrid/tokenizer/internal/protowire"
)

func testNormalizer(t *testing.T, rules string, opts ...protowire.Field) *normalizer {
	t.Helper()
	var spec message
	cm, err := compiledCharsmap(rules)
	if err != nil {
		t.Fatal(err)
	}
	if len(cm) > 0 {
		spec.set(protowire.Bytes(fNormCharsmap, cm))
	}
	for _, o := range opts {
		spec.set(o)
	}
	n, err := newNormalizer(&spec, false)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNormalize(t *testing.T) {
	nmt := testNormalizer(t, NmtNFKC)
	nfkc := testNormalizer(t, NFKC)
	id := testNormalizer(t, Identity)
	noDummy := testNormalizer(t, NmtNFKC, protowire.Bool(fNormAddDummyPrefix, false))
	keepSpaces := testNormalizer(t, Identity, protowire.Bool(fNormRemoveExtraSpaces, false))
	noEscape := testNormalizer(t, Identity, protowire.Bool(fNormEscapeSpaces, false))
	suffix := testNormalizer(t, Identity)
	suffix.treatWSAsSuffix = true
	tests := []struct {
		name string
		n    *normalizer
		in   string
		want string
	}{
		{"empty", nmt, "", ""},
		{"only spaces", nmt, "  \t ", ""},
		{"dummy prefix", nmt, "hello", "▁hello"},
		{"collapse spaces", nmt, "  a   b  ", "▁a▁b"},
		{"full width", nmt, "ＡＢＣ１２３", "▁ABC123"},
		{"ligature", nmt, "ﬁne", "▁fine"},
		{"compose accent", nmt, "cafe\u0301", "▁café"},
		{"tab and newline", nmt, "a\tb\nc", "▁a▁b▁c"},
		{"ideographic space", nmt, "a\u3000b", "▁a▁b"},
		{"control removed", nmt, "a\x01\x1fb", "▁ab"},
		{"zero width space", nmt, "a\u200bb", "▁a▁b"},
		{"bar is a space", nmt, "a\u2581b", "▁a▁b"},
		{"full-width tilde kept", nmt, "\uff5e", "▁\uff5e"},
		{"malformed byte", nmt, "a\xffb", "▁a\ufffdb"},
		{"nfkc keeps tab", nfkc, "a\tb", "▁a\tb"},
		{"identity", id, "ＡＢ  c", "▁ＡＢ▁c"},
		{"no dummy prefix", noDummy, "a b", "a▁b"},
		{"keep extra spaces", keepSpaces, " a  b ", "▁▁a▁▁b▁"},
		{"no escaping", noEscape, " a  b ", " a b"},
		{"suffix space", suffix, "a b", "a▁b▁"},
	}
	for _, tc := range tests {
		if got := tc.n.normalize(tc.in); got != tc.want {
			t.Errorf("%s: normalize(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestCharsmapErrors(t *testing.T) {
	for _, blob := range [][]byte{{1, 2}, {0xff, 0, 0, 0, 1}} {
		if _, _, err := decodeCharsmap(blob); err == nil {
			t.Errorf("decodeCharsmap(%v) accepted a broken blob", blob)
		}
	}
	if _, err := compiledCharsmap("nfkc_cf"); err == nil {
		t.Error("unknown normalization accepted")
	}
}
