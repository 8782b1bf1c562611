package tokenizer

import (
	"sort"
	"sync"
	"unicode"
)

// Script identifiers for the piece validity rules of training: a piece may not mix
// scripts. Hiragana, Katakana and the prolonged sound mark count as Han; Inherited
// (combining marks) takes the script of the character before it.
const (
	scriptCommon    uint8 = 0 // Common, and code points in no script
	scriptInherited uint8 = 1
	scriptHan       uint8 = 2
)

var (
	scriptOnce  sync.Once
	scriptTable []uint8 // indexed by code point
)

func buildScriptTable() {
	scriptTable = make([]uint8, unicode.MaxRune+1)
	names := make([]string, 0, len(unicode.Scripts))
	for n := range unicode.Scripts {
		names = append(names, n)
	}
	sort.Strings(names)
	next := uint8(3)
	for _, n := range names {
		var id uint8
		switch n {
		case "Common":
			continue
		case "Inherited":
			id = scriptInherited
		case "Han", "Hiragana", "Katakana":
			id = scriptHan
		default:
			id = next
			next++
		}
		t := unicode.Scripts[n]
		for _, r := range t.R16 {
			for c := uint32(r.Lo); c <= uint32(r.Hi); c += uint32(r.Stride) {
				scriptTable[c] = id
			}
		}
		for _, r := range t.R32 {
			for c := r.Lo; c <= r.Hi; c += r.Stride {
				scriptTable[c] = id
			}
		}
	}
	scriptTable[0x30FC] = scriptHan
}

// scriptOf returns the script class of r.
func scriptOf(r rune) uint8 {
	scriptOnce.Do(buildScriptTable)
	if r < 0 || r > unicode.MaxRune {
		return scriptCommon
	}
	return scriptTable[r]
}
