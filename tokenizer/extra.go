package tokenizer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// MaxExtraIDs bounds the number of sentinels a model can carry (T5 uses 100).
const MaxExtraIDs = 10000

// sentinelPrefix starts the text of every sentinel: "<extra_id_N>".
const sentinelPrefix = "<extra_id_"

// SentinelPiece returns the text of sentinel i: "<extra_id_i>".
func SentinelPiece(i int) string { return sentinelPrefix + strconv.Itoa(i) + ">" }

// WithExtraIDs returns a copy of m with n sentinels <extra_id_0> … <extra_id_{n-1}>
// above its pieces, laid out as Hugging Face's T5Tokenizer does: they count down from
// the top of the vocabulary, so <extra_id_0> is Pieces()+n-1 and <extra_id_{n-1}> is
// Pieces() (for t5-small's spiece.model of 32000 pieces and n = 100: <extra_id_0> =
// 32099, <extra_id_99> = 32000). VocabSize() becomes Pieces()+n. n = 0 gives the model
// without sentinels. n must be in [0, MaxExtraIDs], and no piece of the model may
// already spell a sentinel.
//
// A model with sentinels encodes text as Hugging Face's T5 tokenizer does (see
// Encode). The sentinels are not stored by Marshal or Save: keep n beside the file
// (the recipe key tokenizer.extra_ids does).
func (m *Model) WithExtraIDs(n int) (*Model, error) {
	if n < 0 || n > MaxExtraIDs {
		return nil, fmt.Errorf("tokenizer: %d extra ids: want 0 to %d sentinels (T5 uses 100)", n, MaxExtraIDs)
	}
	for i := 0; i < n; i++ {
		p := SentinelPiece(i)
		if id, ok := m.pieces[p]; ok {
			return nil, fmt.Errorf("tokenizer: piece %d is already %q: a model with its own sentinel pieces cannot take extra ids; use extra_ids 0", id, p)
		}
		if id, ok := m.reserved[p]; ok {
			return nil, fmt.Errorf("tokenizer: piece %d is already %q: a model with its own sentinel pieces cannot take extra ids; use extra_ids 0", id, p)
		}
	}
	c := *m
	c.extraIDs = n
	return &c, nil
}

// ExtraIDs returns the number of sentinels (0 unless set with WithExtraIDs).
func (m *Model) ExtraIDs() int { return m.extraIDs }

// Sentinel returns the ID of sentinel i, <extra_id_i>: Pieces()+ExtraIDs()-1-i. It
// panics unless 0 ≤ i < ExtraIDs().
func (m *Model) Sentinel(i int) int32 {
	if i < 0 || i >= m.extraIDs {
		panic(fmt.Sprintf("tokenizer: sentinel %d of a model with %d extra ids", i, m.extraIDs))
	}
	return int32(len(m.proto.pieces) + m.extraIDs - 1 - i)
}

// sentinelIndex returns i when id is the ID of sentinel i.
func (m *Model) sentinelIndex(id int) (int, bool) {
	base := len(m.proto.pieces)
	if id < base || id >= base+m.extraIDs {
		return 0, false
	}
	return base + m.extraIDs - 1 - id, true
}

// parseSentinel reads a sentinel "<extra_id_N>" at the start of s, N written in
// decimal without leading zeros (as Hugging Face's added tokens are spelled). It
// returns N and the sentinel's length, or n = 0 when s does not start with one.
func parseSentinel(s string) (i, n int) {
	if !strings.HasPrefix(s, sentinelPrefix) {
		return 0, 0
	}
	j := len(sentinelPrefix)
	start := j
	for j < len(s) && s[j] >= '0' && s[j] <= '9' && j-start < 6 {
		i = i*10 + int(s[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || (digits > 1 && s[start] == '0') || j >= len(s) || s[j] != '>' {
		return 0, 0
	}
	return i, j + 1
}

// encodeSentinels is Encode for a model with sentinels: the text is split at every
// sentinel <extra_id_N> with N < ExtraIDs(); the whitespace on both sides of a
// sentinel is stripped (Hugging Face's added tokens with lstrip and rstrip); each
// remaining non-empty stretch of text is encoded on its own by SentencePiece, so it
// gets its own dummy prefix (Hugging Face's legacy behaviour, the default of every
// released T5 tokenizer).
func (m *Model) encodeSentinels(text string) []token {
	var out []token
	chunk := func(s string) {
		if s != "" {
			out = append(out, m.encodePlain(s)...)
		}
	}
	stripLeft := false
	for {
		k := strings.Index(text, sentinelPrefix)
		at, i, n := -1, 0, 0
		for k >= 0 {
			if i, n = parseSentinel(text[k:]); n > 0 && i < m.extraIDs {
				at = k
				break
			}
			next := strings.Index(text[k+1:], sentinelPrefix)
			if next < 0 {
				k = -1
				break
			}
			k += 1 + next
		}
		if at < 0 {
			if stripLeft {
				text = strings.TrimLeftFunc(text, unicode.IsSpace)
			}
			chunk(text)
			return out
		}
		before := text[:at]
		if stripLeft {
			before = strings.TrimLeftFunc(before, unicode.IsSpace)
		}
		chunk(strings.TrimRightFunc(before, unicode.IsSpace))
		out = append(out, token{SentinelPiece(i), int(m.Sentinel(i))})
		text, stripLeft = text[at+n:], true
	}
}

// decodeSentinels decodes pieces that may hold sentinels: the stretches between
// sentinels are decoded by SentencePiece, and the parts (stretches and sentinels) are
// joined with one space, empty stretches left out.
func (m *Model) decodeSentinels(pieces []string, ids []int) string {
	var parts []string
	start := 0
	flush := func(end int) {
		if end > start {
			if s := m.decode(pieces[start:end], ids[start:end]); s != "" {
				parts = append(parts, s)
			}
		}
	}
	for k, id := range ids {
		if i, ok := m.sentinelIndex(id); ok {
			flush(k)
			parts = append(parts, SentinelPiece(i))
			start = k + 1
		}
	}
	flush(len(ids))
	return strings.Join(parts, " ")
}
