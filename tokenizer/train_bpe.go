package tokenizer

import (
	"container/heap"
	"unicode/utf8"
)

// BPE training: start from the characters of every word and repeatedly merge the most
// frequent adjacent pair of symbols (ties: the shorter piece, then the smaller string)
// whose union is a valid piece. The n-th merged piece gets score -n, and the characters
// follow with lower scores, as spm_train orders a BPE vocabulary.

type bpeKey uint64

func pairKey(a, b int32) bpeKey { return bpeKey(uint64(uint32(a))<<32 | uint64(uint32(b))) }

func (k bpeKey) split() (int32, int32) { return int32(uint64(k) >> 32), int32(uint32(k)) }

type bpeCand struct {
	key   bpeKey
	count int64
	chars int
	piece string
}

type bpeHeap []bpeCand

func (h bpeHeap) Len() int { return len(h) }
func (h bpeHeap) Less(i, j int) bool {
	if h[i].count != h[j].count {
		return h[i].count > h[j].count
	}
	if h[i].chars != h[j].chars {
		return h[i].chars < h[j].chars
	}
	if h[i].piece != h[j].piece {
		return h[i].piece < h[j].piece
	}
	return h[i].key < h[j].key
}
func (h bpeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *bpeHeap) Push(x any)   { *h = append(*h, x.(bpeCand)) }
func (h *bpeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type bpeState struct {
	tr      *trainer
	symbols []string         // symbol id -> text
	symID   map[string]int32 // text -> symbol id
	words   [][]int32        // the symbols of each word
	freq    []int64          // frequency of each word
	counts  map[bpeKey]int64
	where   map[bpeKey][]int32 // words that contained the pair when it was counted
	valid   map[bpeKey]bool
	agenda  bpeHeap
	changed map[bpeKey]bool
}

func (st *bpeState) symbol(s string) int32 {
	if id, ok := st.symID[s]; ok {
		return id
	}
	id := int32(len(st.symbols))
	st.symbols = append(st.symbols, s)
	st.symID[s] = id
	return id
}

func (st *bpeState) isValid(k bpeKey) bool {
	v, ok := st.valid[k]
	if !ok {
		a, b := k.split()
		v = st.tr.validPiece([]rune(st.symbols[a] + st.symbols[b]))
		st.valid[k] = v
	}
	return v
}

// count adds delta times the pairs of word w.
func (st *bpeState) count(w int32, delta int64) {
	syms := st.words[w]
	for i := 1; i < len(syms); i++ {
		k := pairKey(syms[i-1], syms[i])
		if !st.isValid(k) {
			continue
		}
		st.counts[k] += delta * st.freq[w]
		st.changed[k] = true
		if delta > 0 {
			st.where[k] = append(st.where[k], w)
		}
	}
}

func (st *bpeState) push() {
	for k := range st.changed {
		if c := st.counts[k]; c > 0 {
			a, b := k.split()
			p := st.symbols[a] + st.symbols[b]
			heap.Push(&st.agenda, bpeCand{k, c, utf8.RuneCountInString(p), p})
		}
	}
	clear(st.changed)
}

func (tr *trainer) trainBPE() ([]scoredPiece, error) {
	words := tr.words()
	st := &bpeState{
		tr:      tr,
		symID:   map[string]int32{},
		counts:  map[bpeKey]int64{},
		where:   map[bpeKey][]int32{},
		valid:   map[bpeKey]bool{},
		changed: map[bpeKey]bool{},
	}
	for _, w := range words {
		var syms []int32
		for _, c := range w.text {
			syms = append(syms, st.symbol(string(c)))
		}
		st.words = append(st.words, syms)
		st.freq = append(st.freq, w.freq)
	}
	for w := range st.words {
		st.count(int32(w), 1)
	}
	st.push()
	target := tr.opts.VocabSize - len(tr.meta) - len(tr.required)
	var merged []scoredPiece
	inVocab := map[string]bool{}
	for _, c := range tr.required {
		inVocab[string(c.c)] = true
	}
	stamp := make([]int, len(st.words))
	round := 0
	for len(merged) < target && st.agenda.Len() > 0 {
		top := heap.Pop(&st.agenda).(bpeCand)
		if st.counts[top.key] != top.count {
			continue // stale entry; a fresh one was pushed when the count changed
		}
		piece := top.piece
		if inVocab[piece] {
			// The same string made from other symbols: never select this pair again.
			delete(st.counts, top.key)
			continue
		}
		inVocab[piece] = true
		merged = append(merged, scoredPiece{piece, -float32(len(merged))})
		a, b := top.key.split()
		c := st.symbol(piece)
		round++
		for _, w := range st.where[top.key] {
			if stamp[w] == round {
				continue
			}
			stamp[w] = round
			syms := st.words[w]
			has := false
			for i := 1; i < len(syms); i++ {
				if syms[i-1] == a && syms[i] == b {
					has = true
					break
				}
			}
			if !has {
				continue
			}
			st.count(w, -1)
			out := syms[:0]
			for i := 0; i < len(syms); i++ {
				if i+1 < len(syms) && syms[i] == a && syms[i+1] == b {
					out = append(out, c)
					i++
				} else {
					out = append(out, syms[i])
				}
			}
			st.words[w] = out
			st.count(w, 1)
		}
		delete(st.where, top.key)
		delete(st.counts, top.key)
		st.push()
	}
	for _, c := range tr.required {
		merged = append(merged, scoredPiece{piece: string(c.c)})
	}
	// Scores fall with the position: merges in order, then the characters.
	for i := range merged {
		merged[i].score = -float32(i)
	}
	return merged, nil
}
