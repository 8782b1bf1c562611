package data

import (
	"fmt"
	"strconv"
	"strings"
)

// wscSpans marks the two spans of a WSC example in its text as T5 does: the noun
// (span1) as "* noun *" and the pronoun (span2) as "# pronoun #". A span index counts
// the words before the span, where a word is a run of non-space characters followed
// by exactly one space character; a span whose text does not start at that word is
// left unmarked (T5's regular expression does not match either). It reads text,
// span1_text, span1_index, span2_text and span2_index, and rewrites text.
func wscSpans(v map[string]string) error {
	i1, err := strconv.Atoi(v["span1_index"])
	if err != nil || i1 < 0 {
		return fmt.Errorf("span1_index %q is not a word index", v["span1_index"])
	}
	i2, err := strconv.Atoi(v["span2_index"])
	if err != nil || i2 < 0 {
		return fmt.Errorf("span2_index %q is not a word index", v["span2_index"])
	}
	text := markSpan(v["text"], v["span1_text"], i1, "*")
	if i1 < i2 {
		i2 += 2 // the two marks added before the pronoun are words too
	}
	v["text"] = markSpan(text, v["span2_text"], i2, "#")
	return nil
}

// isRE2Space reports whether c is in RE2's \s class.
func isRE2Space(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// markSpan puts mark around span when it starts after the first n words of text.
func markSpan(text, span string, n int, mark string) string {
	pos := 0
	for range n {
		start := pos
		for pos < len(text) && !isRE2Space(text[pos]) {
			pos++
		}
		if pos == start || pos == len(text) {
			return text
		}
		pos++ // exactly one space character
	}
	if !strings.HasPrefix(text[pos:], span) {
		return text
	}
	return text[:pos] + mark + " " + span + " " + mark + text[pos+len(span):]
}
