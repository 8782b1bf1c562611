package tokenizer

import (
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// t5Layout builds a model of n pieces in T5's layout (<pad>=0, </s>=1, <unk>=2) with
// 100 sentinels, as Hugging Face's T5Tokenizer makes of spiece.model.
func t5Layout(t *testing.T, n int) *Model {
	t.Helper()
	pieces := []pieceProto{p("<pad>", Control), p("</s>", Control), p("<unk>", Unknown)}
	for i := len(pieces); i < n; i++ {
		pieces = append(pieces, p("▁w"+strconv.Itoa(i), Normal))
	}
	m, err := Parse(buildModel(pieces))
	if err != nil {
		t.Fatal(err)
	}
	m, err = m.WithExtraIDs(100)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSentinelIDsT5Small checks the ID layout against Hugging Face's t5-small
// (32000 pieces + 100 extra ids, checked by hand against its tokenizer: 32099 is
// <extra_id_0>, 32000 is <extra_id_99>, len(tokenizer) is 32100).
func TestSentinelIDsT5Small(t *testing.T) {
	m := t5Layout(t, 32000)
	if m.Pieces() != 32000 || m.VocabSize() != 32100 || m.ExtraIDs() != 100 {
		t.Fatalf("Pieces %d VocabSize %d ExtraIDs %d; want 32000 32100 100", m.Pieces(), m.VocabSize(), m.ExtraIDs())
	}
	for _, tc := range []struct {
		i  int
		id int32
	}{{0, 32099}, {1, 32098}, {2, 32097}, {50, 32049}, {99, 32000}} {
		if got := m.Sentinel(tc.i); got != tc.id {
			t.Errorf("Sentinel(%d) = %d; want %d", tc.i, got, tc.id)
		}
		piece := "<extra_id_" + strconv.Itoa(tc.i) + ">"
		if got := m.PieceToID(piece); got != int(tc.id) {
			t.Errorf("PieceToID(%s) = %d; want %d", piece, got, tc.id)
		}
		if got := m.IDToPiece(int(tc.id)); got != piece {
			t.Errorf("IDToPiece(%d) = %q; want %q", tc.id, got, piece)
		}
		if m.PieceType(int(tc.id)) != UserDefined || m.Score(int(tc.id)) != 0 {
			t.Errorf("sentinel %d: type %v score %v", tc.id, m.PieceType(int(tc.id)), m.Score(int(tc.id)))
		}
	}
	if m.EOSID() != 1 || m.PadID() != 0 {
		t.Errorf("EOS %d pad %d; want 1 0", m.EOSID(), m.PadID())
	}
	// Hugging Face's documented example, in this model's pieces: the text between the
	// sentinels is encoded on its own, spaces around sentinels stripped.
	got := m.Encode("w37 <extra_id_0> w10681 w16 <extra_id_1> w2447")
	want := []int{37, 32099, 10681, 16, 32098, 2447}
	if !slices.Equal(got, want) {
		t.Errorf("Encode = %v; want %v", got, want)
	}
	if m.PieceToID("<extra_id_100>") != m.UnkID() || m.PieceToID("<extra_id_01>") != m.UnkID() {
		t.Error("PieceToID accepts a sentinel out of range or with a leading zero")
	}
}

func TestWithExtraIDsErrors(t *testing.T) {
	own, err := Parse(buildModel([]pieceProto{p("<unk>", Unknown), p("a", Normal), p("<extra_id_3>", UserDefined)}))
	if err != nil {
		t.Fatal(err)
	}
	m := testModel(t, "unigram")
	for _, tc := range []struct {
		m    *Model
		n    int
		want string
	}{
		{m, -1, "want 0 to 10000"},
		{m, MaxExtraIDs + 1, "want 0 to 10000"},
		{own, 4, `piece 2 is already "<extra_id_3>"`},
	} {
		_, err := tc.m.WithExtraIDs(tc.n)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("WithExtraIDs(%d) = %v; want an error containing %q", tc.n, err, tc.want)
		}
	}
	if _, err := own.WithExtraIDs(3); err != nil {
		t.Errorf("WithExtraIDs(3) below the model's own sentinel: %v", err)
	}
	z, err := m.WithExtraIDs(0)
	if err != nil || z.VocabSize() != m.VocabSize() {
		t.Errorf("WithExtraIDs(0): %v, VocabSize %d", err, z.VocabSize())
	}
	if m.ExtraIDs() != 0 {
		t.Error("WithExtraIDs changed its receiver")
	}
}

// sentinelRef is an independent reading of Hugging Face's splitting: every match of
// the sentinel pattern with an index below n splits the text; the stretches around
// it lose their adjacent whitespace; each non-empty stretch is encoded by plain.
func sentinelRef(plain *Model, n int, text string) []int {
	re := regexp.MustCompile(`<extra_id_(0|[1-9][0-9]*)>`)
	var out []int
	pos, strip := 0, false
	for _, mt := range re.FindAllStringSubmatchIndex(text, -1) {
		i, err := strconv.Atoi(text[mt[2]:mt[3]])
		if err != nil || i >= n {
			continue
		}
		s := strings.TrimRightFunc(text[pos:mt[0]], unicode.IsSpace)
		if strip {
			s = strings.TrimLeftFunc(s, unicode.IsSpace)
		}
		out = append(out, plain.Encode(s)...)
		out = append(out, plain.Pieces()+n-1-i)
		pos, strip = mt[1], true
	}
	s := text[pos:]
	if strip {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	return append(out, plain.Encode(s)...)
}

var sentinelLines = []string{
	"The <extra_id_0> walks in <extra_id_1> park",
	"<extra_id_0> cute dog <extra_id_1> the <extra_id_2>",
	"<extra_id_0><extra_id_1>",
	"no sentinel at all",
	"",
	"  \t<extra_id_5>\n  x  ",
	"tight<extra_id_9>text",
	"out of range <extra_id_10> and <extra_id_100> stay text",
	"leading zero <extra_id_05> stays text, <extra_id_0 unterminated, <extra_id_> empty",
	"nested <extra_id_<extra_id_3>>",
	"unicode\u3000<extra_id_2>\u00a0spaces ☃",
}

func TestEncodeSentinels(t *testing.T) {
	for _, name := range []string{"unigram", "bpe", "unigram-bytes"} {
		plain := testModel(t, name)
		m, err := plain.WithExtraIDs(10)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range sentinelLines {
			got := m.Encode(line)
			if want := sentinelRef(plain, 10, line); !slices.Equal(got, want) {
				t.Errorf("%s: Encode(%q) = %v; want %v", name, line, got, want)
			}
			pieces := m.EncodePieces(line)
			for k, id := range got {
				if m.IDToPiece(id) != pieces[k] && m.PieceType(id) != Unknown && !(plain.byteFB && m.PieceType(id) == Byte) {
					t.Errorf("%s: %q: piece %d is %q, id %d is %q", name, line, k, pieces[k], id, m.IDToPiece(id))
				}
			}
		}
		// Decoding gives back the sentinels, one space around each.
		if got := m.Decode(m.Encode("the <extra_id_0>  cat sat\t<extra_id_1>")); got != "the <extra_id_0> cat sat <extra_id_1>" {
			t.Errorf("%s: Decode = %q", name, got)
		}
		if got := m.DecodePieces(m.EncodePieces("<extra_id_3> dog")); got != "<extra_id_3> dog" {
			t.Errorf("%s: DecodePieces = %q", name, got)
		}
	}
}

// TestSentinelStretchesMatchSPMEncode checks the text between sentinels against
// spm_encode: each stretch, as the splitting leaves it, encodes as spm_encode encodes
// it.
func TestSentinelStretchesMatchSPMEncode(t *testing.T) {
	needTool(t, "spm_encode")
	plain := testModel(t, "unigram-bytes")
	m, err := plain.WithExtraIDs(10)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.model")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`\s*<extra_id_[0-9]>\s*`)
	var stretches []string
	lines := append(slices.Clone(sentinelLines[:7]), corpusLines(t)[:20]...)
	for k := range lines[7:] {
		// Put sentinels into the corpus lines at word boundaries.
		w := strings.Fields(lines[7+k])
		for j := 1; j < len(w); j += 3 {
			w[j] = "<extra_id_" + strconv.Itoa(j%10) + ">"
		}
		lines[7+k] = strings.Join(w, " ")
	}
	for _, l := range lines {
		for _, s := range re.Split(l, -1) {
			if strings.TrimSpace(s) != "" && !strings.ContainsAny(s, "\t\n") {
				stretches = append(stretches, s)
			}
		}
	}
	spm := outputLines(runTool(t, []byte(strings.Join(stretches, "\n")+"\n"), "spm_encode", "--model="+path, "--output_format=id"))
	if len(spm) != len(stretches) {
		t.Fatalf("spm_encode wrote %d lines for %d", len(spm), len(stretches))
	}
	for i, s := range stretches {
		if got := joinInts(m.Encode(s)); got != spm[i] {
			t.Errorf("stretch %q: go %s, spm_encode %s", s, got, spm[i])
		}
	}
	if len(stretches) < 40 {
		t.Fatalf("only %d stretches compared", len(stretches))
	}
}
