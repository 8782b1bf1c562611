package tokenizer

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hypergrid-go/hypergrid/tokenizer/internal/darts"
)

// spaceSymbol is U+2581 LOWER ONE EIGHTH BLOCK, which stands for a space inside pieces.
const spaceSymbol = "\u2581"

// replacementChar is what a malformed UTF-8 byte normalizes to.
const replacementChar = "\uFFFD"

// normalizer applies a NormalizerSpec the way SentencePiece's Normalizer does: the
// longest matching rule of the precompiled charsmap rewrites each prefix of the input,
// user-defined symbols pass through untouched, spaces are trimmed, collapsed and escaped
// as U+2581, and a dummy space is added in front (or behind, with
// treat_whitespace_as_suffix).
type normalizer struct {
	rules           *darts.Trie // nil: no charsmap (identity)
	targets         []byte      // NUL-terminated replacement strings the rules point into
	addDummyPrefix  bool
	removeExtraWS   bool
	escapeWS        bool
	treatWSAsSuffix bool
	userDefined     *darts.Trie // nil when the model has no user-defined symbols
}

// decodeCharsmap splits a precompiled charsmap into its trie and its string blob:
// <trie size: uint32 LE><double-array units><NUL-terminated strings>.
func decodeCharsmap(blob []byte) (*darts.Trie, []byte, error) {
	if len(blob) <= 4 {
		return nil, nil, fmt.Errorf("precompiled_charsmap of %d bytes is too short", len(blob))
	}
	n := binary.LittleEndian.Uint32(blob)
	if uint64(n) > uint64(len(blob)-4) {
		return nil, nil, fmt.Errorf("precompiled_charsmap trie size %d exceeds the %d bytes present", n, len(blob)-4)
	}
	trieBytes := blob[4 : 4+int(n)]
	trie, err := darts.FromBytes(trieBytes[:len(trieBytes)/4*4])
	if err != nil {
		return nil, nil, err
	}
	return trie, blob[4+int(n):], nil
}

// encodeCharsmap is the inverse of decodeCharsmap.
func encodeCharsmap(trie *darts.Trie, targets []byte) []byte {
	units := trie.Bytes()
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(units)))
	out = append(out, units...)
	return append(out, targets...)
}

func newNormalizer(spec *message, treatWSAsSuffix bool) (*normalizer, error) {
	x := spec.index()
	n := &normalizer{
		addDummyPrefix:  x.getBool(fNormAddDummyPrefix, true),
		removeExtraWS:   x.getBool(fNormRemoveExtraSpaces, true),
		escapeWS:        x.getBool(fNormEscapeSpaces, true),
		treatWSAsSuffix: treatWSAsSuffix,
	}
	if cm := x.getBytes(fNormCharsmap); len(cm) > 0 {
		var err error
		if n.rules, n.targets, err = decodeCharsmap(cm); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// oneCharLen is SentencePiece's UTF-8 length guess from a leading byte.
func oneCharLen(b byte) int {
	return int("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x02\x02\x03\x04"[b>>4])
}

// charLen returns the length of the character starting s, as SentencePiece steps
// through normalized text: by the leading byte, clipped to the string.
func charLen(s string) int {
	return min(oneCharLen(s[0]), len(s))
}

// validUTF8Prefix reports whether s starts with a well-formed character, and its length
// (1 for a malformed byte). A literal U+FFFD is well formed.
func validUTF8Prefix(s string) (int, bool) {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size <= 1 {
		return 1, false
	}
	return size, true
}

// longestUserDefined returns the length of the longest user-defined symbol that
// prefixes s, or 0.
func longestUserDefined(t *darts.Trie, s string, buf []darts.Match) int {
	if t == nil {
		return 0
	}
	best := 0
	for _, m := range t.CommonPrefixSearch(s, buf[:0]) {
		best = max(best, m.Length)
	}
	return best
}

// normalizePrefix rewrites the shortest prefix of s the rules allow. It returns the
// replacement and how many bytes of s it consumed (at least 1).
func (n *normalizer) normalizePrefix(s string, buf []darts.Match) (string, int) {
	if l := longestUserDefined(n.userDefined, s, buf); l > 0 {
		return s[:l], l
	}
	if n.rules != nil {
		longest, val := 0, int32(0)
		for _, m := range n.rules.CommonPrefixSearch(s, buf[:0]) {
			if longest == 0 || m.Length > longest {
				longest, val = m.Length, m.Value
			}
		}
		if longest > 0 {
			if int(val) >= len(n.targets) {
				return "", longest // a corrupt rule: the target lies outside the blob
			}
			t := n.targets[val:]
			if i := strings.IndexByte(string(t), 0); i >= 0 {
				t = t[:i]
			}
			return string(t), longest
		}
	}
	size, ok := validUTF8Prefix(s)
	if !ok {
		return replacementChar, 1
	}
	return s[:size], size
}

// normalize returns the normalized form of s, the string the segmentation works on.
func (n *normalizer) normalize(s string) string {
	if s == "" {
		return ""
	}
	var buf [32]darts.Match
	if n.removeExtraWS {
		for s != "" {
			out, used := n.normalizePrefix(s, buf[:])
			if out != " " {
				break
			}
			s = s[used:]
		}
	}
	if s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(s) * 3)
	space := " "
	if n.escapeWS {
		space = spaceSymbol
	}
	if !n.treatWSAsSuffix && n.addDummyPrefix {
		b.WriteString(space)
	}
	prevSpace := n.removeExtraWS
	for s != "" {
		out, used := n.normalizePrefix(s, buf[:])
		for prevSpace && strings.HasPrefix(out, " ") {
			out = out[1:]
		}
		if out != "" {
			if n.escapeWS {
				b.WriteString(strings.ReplaceAll(out, " ", spaceSymbol))
			} else {
				b.WriteString(out)
			}
			prevSpace = strings.HasSuffix(out, " ")
		}
		s = s[used:]
		if !n.removeExtraWS {
			prevSpace = false
		}
	}
	res := b.String()
	if n.removeExtraWS {
		for strings.HasSuffix(res, space) {
			res = res[:len(res)-len(space)]
		}
	}
	if n.treatWSAsSuffix && n.addDummyPrefix {
		res += space
	}
	return res
}
