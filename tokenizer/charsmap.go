package tokenizer

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/hypergrid-go/hypergrid/tokenizer/internal/darts"
)

// Normalization rule sets that Train can compile into a model's precompiled_charsmap.
const (
	// NmtNFKC is SentencePiece's default: NFKC plus the rules of its "nmt" variant
	// (control characters removed, other spaces mapped to U+0020, full-width tilde
	// kept).
	NmtNFKC = "nmt_nfkc"
	// NFKC is plain Unicode NFKC.
	NFKC = "nfkc"
	// Identity applies no character rules (only the whitespace handling).
	Identity = "identity"
)

// maxRulePrefixes is SentencePiece's bound on how many rules may share a prefix
// (Normalizer::kMaxTrieResultsSize).
const maxRulePrefixes = 32

var charsmapCache sync.Map // rule-set name -> *charsmapResult

type charsmapResult struct {
	once sync.Once
	blob []byte
	err  error
}

// compiledCharsmap returns the precompiled charsmap for a rule set, compiling it from
// golang.org/x/text's Unicode tables on first use. Identity has none.
func compiledCharsmap(name string) ([]byte, error) {
	switch name {
	case Identity:
		return nil, nil
	case NmtNFKC, NFKC:
	default:
		return nil, fmt.Errorf("unknown normalization %q: want %s, %s or %s", name, NmtNFKC, NFKC, Identity)
	}
	v, _ := charsmapCache.LoadOrStore(name, &charsmapResult{})
	r := v.(*charsmapResult)
	r.once.Do(func() {
		rules := nfkcRules()
		if name == NmtNFKC {
			addNmtRules(rules)
		}
		removeRedundantRules(rules)
		r.blob, r.err = compileCharsmap(rules)
	})
	return r.blob, r.err
}

// isUnicodeChar reports whether c is a Unicode scalar value that is not a
// noncharacter (ICU's U_IS_UNICODE_CHAR).
func isUnicodeChar(c rune) bool {
	if c < 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF) {
		return false
	}
	if c >= 0xFDD0 && c <= 0xFDEF {
		return false
	}
	return c&0xFFFE != 0xFFFE
}

// nfkcRules maps strings to their NFKC form, as SentencePiece's rule builder does:
// every character whose NFKC differs from it, plus every sequence of characters that
// decomposes (NFKD) to a multi-character decomposition which NFC composes, e.g. "e"
// followed by U+0301 to "é". Keys and values are UTF-8.
func nfkcRules() map[string]string {
	rules := map[string]string{}
	norm2orig := map[rune][]rune{}
	decomposed := map[string]bool{}
	var buf [utf8.UTFMax]byte
	for c := rune(1); c <= 0x10FFFF; c++ {
		if !isUnicodeChar(c) {
			continue
		}
		b := buf[:utf8.EncodeRune(buf[:], c)]
		if norm.NFKD.IsNormal(b) {
			// No decomposition: NFKC and NFKD leave the character alone.
			norm2orig[c] = append(norm2orig[c], c)
			continue
		}
		s := string(b)
		if nfkc := norm.NFKC.String(s); nfkc != s {
			rules[s] = nfkc
		}
		nfkd := norm.NFKD.String(s)
		if r, size := utf8.DecodeRuneInString(nfkd); size == len(nfkd) {
			norm2orig[r] = append(norm2orig[r], c)
		} else {
			decomposed[nfkd] = true
		}
	}
	keys := make([]string, 0, len(decomposed))
	for k := range decomposed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, nfkd := range keys {
		nfc := norm.NFC.String(nfkd)
		if nfc == nfkd {
			continue
		}
		// Every sequence of characters whose NFKDs spell nfkd normalizes to nfc.
		seqs := []string{""}
		for _, r := range nfkd {
			var next []string
			for _, s := range seqs {
				for _, o := range norm2orig[r] {
					next = append(next, s+string(o))
				}
			}
			seqs = next
		}
		for _, s := range seqs {
			if s != nfc {
				rules[s] = nfc
			}
		}
	}
	return rules
}

// addNmtRules adds SentencePiece's nmt_nfkc adjustments to NFKC rules.
func addNmtRules(rules map[string]string) {
	for _, c := range []rune{0x09, 0x0A, 0x0C, 0x0D, 0x1680, 0x200B, 0x200E, 0x200F,
		0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD, 0x200C} {
		rules[string(c)] = " "
	}
	for c := rune(1); c <= 0x1F; c++ {
		switch c {
		case 0x09, 0x0A, 0x0C, 0x0D:
		default:
			rules[string(c)] = ""
		}
	}
	for _, c := range []rune{0x7F, 0x8F, 0x9F} {
		rules[string(c)] = ""
	}
	// Full-width tilde stays: Japanese uses it differently from "~".
	delete(rules, "\uFF5E")
}

// applyRules normalizes s with the rules whose keys have at most maxLen characters,
// longest match first, copying characters no rule covers.
func applyRules(rules map[string]string, s []rune, maxLen int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		n := min(maxLen, len(s)-i)
		for ; n > 0; n-- {
			if v, ok := rules[string(s[i:i+n])]; ok {
				b.WriteString(v)
				break
			}
		}
		if n == 0 {
			b.WriteRune(s[i])
			i++
		} else {
			i += n
		}
	}
	return b.String()
}

// removeRedundantRules drops multi-character rules that the shorter rules already
// imply, as SentencePiece's RemoveRedundantMap does.
func removeRedundantRules(rules map[string]string) {
	byLen := map[int][]string{}
	maxLen := 0
	for k := range rules {
		n := utf8.RuneCountInString(k)
		byLen[n] = append(byLen[n], k)
		maxLen = max(maxLen, n)
	}
	kept := map[string]string{}
	for _, k := range byLen[1] {
		kept[k] = rules[k]
	}
	for n := 2; n <= maxLen; n++ {
		keys := byLen[n]
		sort.Strings(keys)
		var add []string
		for _, k := range keys {
			if applyRules(kept, []rune(k), n-1) != rules[k] {
				add = append(add, k)
			}
		}
		for _, k := range add {
			kept[k] = rules[k]
		}
	}
	for k := range rules {
		if _, ok := kept[k]; !ok {
			delete(rules, k)
		}
	}
}

// compileCharsmap builds the precompiled_charsmap blob for rules.
func compileCharsmap(rules map[string]string) ([]byte, error) {
	if len(rules) == 0 {
		return nil, fmt.Errorf("no normalization rules")
	}
	targets := make([]string, 0, len(rules))
	seen := map[string]bool{}
	for _, v := range rules {
		if !seen[v] {
			seen[v] = true
			targets = append(targets, v)
		}
	}
	sort.Strings(targets)
	var blob []byte
	offsets := map[string]int32{}
	for _, v := range targets {
		offsets[v] = int32(len(blob))
		blob = append(blob, v...)
		blob = append(blob, 0)
	}
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	vals := make([]int32, len(keys))
	for i, k := range keys {
		vals[i] = offsets[rules[k]]
	}
	trie, err := darts.Build(keys, vals)
	if err != nil {
		return nil, err
	}
	var buf []darts.Match
	for _, k := range keys {
		if buf = trie.CommonPrefixSearch(k, buf[:0]); len(buf) >= maxRulePrefixes {
			return nil, fmt.Errorf("%d normalization rules share the prefix %q; at most %d may", len(buf), k, maxRulePrefixes-1)
		}
	}
	return encodeCharsmap(trie, blob), nil
}
