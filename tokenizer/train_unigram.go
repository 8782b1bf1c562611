package tokenizer

import (
	"errors"
	"math"
	"sort"
)

// Unigram training follows SentencePiece's recipe: seed the vocabulary with every
// character and the most frequent substrings (internal nodes of the suffix tree of the
// text, scored by frequency times length), then alternate EM iterations over the words
// of the text with pruning rounds that drop the pieces whose removal costs the least
// likelihood, until the vocabulary is 10% above the target; finally keep the best.

// upiece is a piece of the unigram model under training.
type upiece struct {
	text  string
	score float64 // log probability
}

// lattice node: the piece id (-1 for an unknown character) spanning bytes [start, end).
type unode struct {
	start, end int32
	id         int32
	score      float64
}

// pieceSet indexes the current pieces for lattice building.
type pieceSet struct {
	pieces   []upiece
	index    map[string]int32
	maxChars int
	unkScore float64
}

func newPieceSet(pieces []upiece, maxChars int) *pieceSet {
	ps := &pieceSet{pieces: pieces, index: make(map[string]int32, len(pieces)), maxChars: maxChars}
	minScore := math.Inf(1)
	for i, p := range pieces {
		ps.index[p.text] = int32(i)
		minScore = min(minScore, p.score)
	}
	ps.unkScore = minScore - float64(unkPenalty)
	return ps
}

// nodes appends the lattice of w: every piece that starts at a character boundary,
// plus an unknown node wherever no single-character piece exists. Nodes come sorted
// by start.
func (ps *pieceSet) nodes(w string, dst []unode, bounds []int32) ([]unode, []int32) {
	bounds = bounds[:0]
	for i := 0; i < len(w); i += charLen(w[i:]) {
		bounds = append(bounds, int32(i))
	}
	bounds = append(bounds, int32(len(w)))
	for ci := 0; ci+1 < len(bounds); ci++ {
		start := bounds[ci]
		single := false
		for cj := ci + 1; cj < len(bounds) && cj-ci <= ps.maxChars; cj++ {
			end := bounds[cj]
			if id, ok := ps.index[w[start:end]]; ok {
				dst = append(dst, unode{start, end, id, ps.pieces[id].score})
				if cj == ci+1 {
					single = true
				}
			}
		}
		if !single {
			dst = append(dst, unode{start, bounds[ci+1], -1, ps.unkScore})
		}
	}
	return dst, bounds
}

func logAddExp(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// viterbi returns the best path through the lattice as node indexes, skipping the node
// with index skip (-1 for none). ok is false when no path exists.
func viterbi(nodes []unode, n int, skip int, score []float64, back []int32) (path []int, ok bool) {
	for i := range score[:n+1] {
		score[i] = math.Inf(-1)
		back[i] = -1
	}
	score[0] = 0
	for k, nd := range nodes {
		if k == skip || math.IsInf(score[nd.start], -1) {
			continue
		}
		if s := score[nd.start] + nd.score; s > score[nd.end] {
			score[nd.end] = s
			back[nd.end] = int32(k)
		}
	}
	if back[n] < 0 && n > 0 {
		return nil, false
	}
	for pos := n; pos > 0; {
		k := back[pos]
		path = append(path, int(k))
		pos = int(nodes[k].start)
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path, true
}

// lattice scratch space for one goroutine.
type latticeBuf struct {
	nodes  []unode
	bounds []int32
	alpha  []float64
	beta   []float64
	back   []int32
}

func (b *latticeBuf) grow(n int) {
	if cap(b.alpha) < n+1 {
		b.alpha = make([]float64, n+1)
		b.beta = make([]float64, n+1)
		b.back = make([]int32, n+1)
	}
	b.alpha, b.beta, b.back = b.alpha[:n+1], b.beta[:n+1], b.back[:n+1]
}

func (tr *trainer) trainUnigram() ([]scoredPiece, error) {
	seeds, err := tr.seedPieces()
	if err != nil {
		return nil, err
	}
	words := tr.words()
	ps := newPieceSet(seeds, tr.opts.MaxPieceLength)
	desired := int(float64(tr.opts.VocabSize) * 1.1)
	for {
		for it := 0; it < tr.opts.SubIterations; it++ {
			expected := tr.eStep(ps, words)
			ps = newPieceSet(mStep(ps.pieces, expected), tr.opts.MaxPieceLength)
			if len(ps.pieces) == 0 {
				return nil, errors.New("EM left no pieces (the text is too small)")
			}
		}
		if len(ps.pieces) <= desired {
			break
		}
		pruned := tr.prune(ps, words, desired)
		if len(pruned) >= len(ps.pieces) {
			break
		}
		ps = newPieceSet(pruned, tr.opts.MaxPieceLength)
	}
	return tr.finalizeUnigram(ps), nil
}

// seedPieces returns the initial pieces with log-probability scores.
func (tr *trainer) seedPieces() ([]upiece, error) {
	// All sentences in one array, each ended by a separator of its own (0..K-1), so no
	// repeat crosses a sentence boundary; characters follow as K + dense id.
	charID := map[rune]int32{}
	var chars []rune
	total := 0
	for _, s := range tr.sentences {
		for _, c := range s.text {
			if _, ok := charID[c]; !ok {
				charID[c] = int32(len(chars))
				chars = append(chars, c)
			}
			total++
		}
		total++
	}
	k := int32(len(tr.sentences))
	text := make([]int32, 0, total)
	weight := make([]int64, 0, total)
	charFreq := map[rune]int64{}
	for i, s := range tr.sentences {
		for _, c := range s.text {
			text = append(text, k+charID[c])
			weight = append(weight, s.freq)
			if c != unkChar && c != '\t' {
				charFreq[c] += s.freq
			}
		}
		text = append(text, int32(i))
		weight = append(weight, s.freq)
	}
	sa := suffixArray(text, int(k)+len(chars))
	lcp := lcpArray(text, sa)
	prefix := make([]int64, len(sa)+1)
	for i, p := range sa {
		prefix[i+1] = prefix[i] + weight[p]
	}
	type cand struct {
		text  string
		score int64
	}
	var cands []cand
	var rs []rune
	lcpIntervals(lcp, func(depth, lo, hi int) {
		if depth <= 1 || depth > tr.opts.MaxPieceLength {
			return
		}
		start := int(sa[lo])
		rs = rs[:0]
		for _, v := range text[start : start+depth] {
			if v < k {
				return
			}
			rs = append(rs, chars[v-k])
		}
		if !tr.validPiece(rs) {
			return
		}
		cands = append(cands, cand{string(rs), (prefix[hi] - prefix[lo]) * int64(depth)})
	})
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		return cands[i].text < cands[j].text
	})
	var seeds []upiece
	for c, f := range charFreq {
		seeds = append(seeds, upiece{string(c), float64(f)})
	}
	sort.Slice(seeds, func(i, j int) bool {
		if seeds[i].score != seeds[j].score {
			return seeds[i].score > seeds[j].score
		}
		return seeds[i].text < seeds[j].text
	})
	for _, c := range cands {
		if len(seeds) >= tr.opts.SeedPieces {
			break
		}
		seeds = append(seeds, upiece{c.text, float64(c.score)})
	}
	if len(seeds) == 0 {
		return nil, errors.New("no characters to train on")
	}
	var sum float64
	for _, s := range seeds {
		sum += s.score
	}
	logSum := math.Log(sum)
	for i := range seeds {
		seeds[i].score = math.Log(seeds[i].score) - logSum
	}
	return seeds, nil
}

// eStep returns the expected count of every piece under the current model
// (forward-backward over each word's lattice).
func (tr *trainer) eStep(ps *pieceSet, words []sentence) []float64 {
	chunks := parallelChunks(len(words))
	partial := make([][]float64, len(chunks))
	byLo := map[int]int{}
	for i, c := range chunks {
		byLo[c[0]] = i
	}
	tr.parallel(len(words), func(lo, hi int) {
		exp := make([]float64, len(ps.pieces))
		var b latticeBuf
		for _, w := range words[lo:hi] {
			b.nodes, b.bounds = ps.nodes(w.text, b.nodes[:0], b.bounds)
			n := len(w.text)
			b.grow(n)
			for i := range b.alpha {
				b.alpha[i], b.beta[i] = math.Inf(-1), math.Inf(-1)
			}
			b.alpha[0], b.beta[n] = 0, 0
			for _, nd := range b.nodes {
				b.alpha[nd.end] = logAddExp(b.alpha[nd.end], b.alpha[nd.start]+nd.score)
			}
			for k := len(b.nodes) - 1; k >= 0; k-- {
				nd := b.nodes[k]
				b.beta[nd.start] = logAddExp(b.beta[nd.start], nd.score+b.beta[nd.end])
			}
			z := b.alpha[n]
			f := float64(w.freq)
			for _, nd := range b.nodes {
				if nd.id >= 0 {
					exp[nd.id] += f * math.Exp(b.alpha[nd.start]+nd.score+b.beta[nd.end]-z)
				}
			}
		}
		partial[byLo[lo]] = exp
	})
	total := make([]float64, len(ps.pieces))
	for _, p := range partial {
		for i, v := range p {
			total[i] += v
		}
	}
	return total
}

// digamma is the derivative of log Gamma (asymptotic series after shifting x >= 7).
func digamma(x float64) float64 {
	var r float64
	for ; x < 7; x++ {
		r -= 1 / x
	}
	x -= 0.5
	xx := 1 / x
	xx2 := xx * xx
	xx4 := xx2 * xx2
	return r + math.Log(x) + xx2/24 - 7.0/960*xx4 + 31.0/8064*xx4*xx2 - 127.0/30720*xx4*xx4
}

// mStep turns expected counts into scores with the Bayesian (digamma) update that
// SentencePiece uses as a sparse prior, dropping pieces expected less than half a time.
func mStep(pieces []upiece, expected []float64) []upiece {
	var out []upiece
	var sum float64
	for i, p := range pieces {
		if expected[i] < 0.5 {
			continue
		}
		out = append(out, upiece{p.text, expected[i]})
		sum += expected[i]
	}
	logSum := digamma(sum)
	for i := range out {
		out[i].score = digamma(out[i].score) - logSum
	}
	return out
}

// prune keeps the pieces whose removal would lose the most likelihood, shrinking the
// vocabulary by the shrinking factor (but not below desired).
func (tr *trainer) prune(ps *pieceSet, words []sentence, desired int) []upiece {
	n := len(ps.pieces)
	alwaysKeep := make([]bool, n)
	alternatives := make([][]int32, n)
	tr.parallel(n, func(lo, hi int) {
		var b latticeBuf
		for i := lo; i < hi; i++ {
			w := ps.pieces[i].text
			b.nodes, b.bounds = ps.nodes(w, b.nodes[:0], b.bounds)
			b.grow(len(w))
			best, ok := viterbi(b.nodes, len(w), -1, b.alpha, b.back)
			if !ok {
				alwaysKeep[i] = true
				continue
			}
			if len(best) >= 2 {
				continue // the piece is not its own best segmentation: removable
			}
			alwaysKeep[i] = true
			self := best[0]
			second, ok := viterbi(b.nodes, len(w), self, b.alpha, b.back)
			if !ok {
				continue
			}
			var alt []int32
			for _, k := range second {
				if b.nodes[k].id < 0 {
					alt = nil // would become unknown: keep without alternatives
					break
				}
				alt = append(alt, b.nodes[k].id)
			}
			alternatives[i] = alt
		}
	})
	// Viterbi frequencies of the pieces over the text.
	chunks := parallelChunks(len(words))
	partial := make([][]float64, len(chunks))
	partialSum := make([]float64, len(chunks))
	byLo := map[int]int{}
	for i, c := range chunks {
		byLo[c[0]] = i
	}
	tr.parallel(len(words), func(lo, hi int) {
		freq := make([]float64, n)
		var vsum float64
		var b latticeBuf
		for _, w := range words[lo:hi] {
			b.nodes, b.bounds = ps.nodes(w.text, b.nodes[:0], b.bounds)
			b.grow(len(w.text))
			path, _ := viterbi(b.nodes, len(w.text), -1, b.alpha, b.back)
			vsum += float64(w.freq)
			for _, k := range path {
				if id := b.nodes[k].id; id >= 0 {
					freq[id] += float64(w.freq)
				}
			}
		}
		partial[byLo[lo]] = freq
		partialSum[byLo[lo]] = vsum
	})
	freq := make([]float64, n)
	var vsum, sum float64
	for c, p := range partial {
		vsum += partialSum[c]
		for i, v := range p {
			freq[i] += v
		}
	}
	for _, f := range freq {
		sum += f
	}
	logSum := math.Log(sum)
	type cand struct {
		id   int
		loss float64
	}
	var kept []upiece
	var cands []cand
	for i := 0; i < n; i++ {
		switch {
		case freq[i] == 0 || !alwaysKeep[i]:
			// Not on any best path, or not even its own best segmentation.
		case len(alternatives[i]) == 0:
			kept = append(kept, ps.pieces[i])
		default:
			f := freq[i] / vsum
			logProb := math.Log(freq[i]) - logSum
			logSumAlt := math.Log(sum + freq[i]*float64(len(alternatives[i])-1))
			var logProbAlt float64
			for _, a := range alternatives[i] {
				logProbAlt += math.Log(freq[a]+freq[i]) - logSumAlt
			}
			cands = append(cands, cand{i, f * (logProb - logProbAlt)})
		}
	}
	size := max(desired, int(tr.opts.ShrinkingFactor*float64(n)))
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].loss > cands[j].loss })
	for _, c := range cands {
		if len(kept) >= size {
			break
		}
		kept = append(kept, ps.pieces[c.id])
	}
	return kept
}

// finalizeUnigram returns the final pieces, best first: every required character
// (missing ones just below the lowest score) and then the best-scoring pieces.
func (tr *trainer) finalizeUnigram(ps *pieceSet) []scoredPiece {
	final := map[string]float64{}
	minScore := math.Inf(1)
	for _, p := range ps.pieces {
		minScore = min(minScore, p.score)
	}
	penalty := 0.0
	for _, c := range tr.required {
		s := string(c.c)
		if id, ok := ps.index[s]; ok {
			final[s] = ps.pieces[id].score
		} else {
			final[s] = minScore + penalty
			penalty += 0.0001
		}
	}
	budget := tr.opts.VocabSize - len(tr.meta)
	sorted := append([]upiece(nil), ps.pieces...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].score > sorted[j].score })
	for _, p := range sorted {
		if len(final) >= budget {
			break
		}
		if _, ok := final[p.text]; !ok {
			final[p.text] = p.score
		}
	}
	out := make([]scoredPiece, 0, len(final))
	for t, s := range final {
		out = append(out, scoredPiece{t, float32(s)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return out[i].piece < out[j].piece
	})
	return out
}
