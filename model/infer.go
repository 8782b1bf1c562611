package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/ops"
)

// errNotT5 and errNotEncoder report a method called on the wrong architecture.
var (
	errNotT5      = errors.New("model: this method needs a t5 (encoder-decoder) model")
	errNotEncoder = errors.New("model: this method needs an encoder-only model")
)

// inference switches t to inference mode and returns a function restoring it.
func inference(t *autograd.Tape) func() {
	prev := t.SetRecording(false)
	return func() { t.SetRecording(prev) }
}

// Generate decodes greedily: for each example of b (its Inputs and Tasks; Targets are
// ignored) it emits the most likely token at each step until eos (when eos >= 0) or
// maxLen tokens. The returned sequences exclude eos. It runs the encoder once and
// the decoder incrementally, one position per step, with a cache of the decoder's
// keys and values, the encoder's cross-attention keys and values and the HyperGrid
// gates (see layers.StepCache); a decoder with a sublayer that cannot decode
// incrementally (a plugin without layers.StepAttention or layers.StepFeedForward) is
// re-run over all positions at every step instead. What is computed once — the
// encoder's output, the cross-attention's keys and values, the first step — stays on
// t, used in inference mode, until the caller resets it; the later steps run on a
// tape of their own, reset at every step, so memory grows only with the cache of the
// decoder's keys and values, linearly in the generated length.
func (m *Model) Generate(t *autograd.Tape, b *Batch, maxLen int, eos int32) ([][]int32, error) {
	return m.generate(t, b, maxLen, eos, nil)
}

// generate is Generate, calling observe (when not nil) with the logits of each
// example still decoding at each step.
func (m *Model) generate(t *autograd.Tape, b *Batch, maxLen int, eos int32, observe func(step, e int, logits []float32)) ([][]int32, error) {
	if err := m.checkGenerate(b, maxLen); err != nil {
		return nil, err
	}
	if !m.canStep() {
		return m.generateUncached(t, b, maxLen, eos, observe)
	}
	st := stepTapes.Get().(*autograd.Tape)
	defer stepTapes.Put(st)
	return m.generateOn(t, st, b, maxLen, eos, observe)
}

// generateOn is the cached generation with step tape st (in inference mode): step 0
// runs on t, which keeps what is computed once (the cross-attention's keys and values),
// the later steps on st, reset at every step.
func (m *Model) generateOn(t, st *autograd.Tape, b *Batch, maxLen int, eos int32, observe func(step, e int, logits []float32)) ([][]int32, error) {
	defer inference(t)()
	ctx := m.context(t, b, Options{})
	enc, encSeq := m.encode(ctx, b)
	g := newGreedy(b.Size, eos, observe)
	sctx := &layers.Context{Tape: st, Tasks: ctx.Tasks}
	cache := m.newDecodeCache()
	tokens := make([]int32, b.Size) // each example's input at this step: start token 0
	for step := range maxLen {
		c := ctx
		if step > 0 {
			st.Reset()
			c = sctx
		}
		logits := m.decodeStep(c, cache, tokens, step, enc, encSeq)
		v := logits.Cols
		all := g.pick(step, func(e int) []float32 { return logits.Data[e*v : (e+1)*v] }, func(e int, tok int32) { tokens[e] = tok })
		if all {
			break
		}
	}
	return g.out, nil
}

// stepTapes holds the tapes of Generate's steps after the first, in inference mode,
// for reuse by later calls.
var stepTapes = sync.Pool{New: func() any {
	t := autograd.NewTape()
	t.SetRecording(false)
	return t
}}

// checkGenerate validates Generate's arguments.
func (m *Model) checkGenerate(b *Batch, maxLen int) error {
	if m.Spec.Arch != ArchT5 {
		return errNotT5
	}
	if maxLen <= 0 {
		return fmt.Errorf("model: Generate: maxLen %d; want at least 1", maxLen)
	}
	probe := *b
	probe.Targets = nil
	return probe.Validate(&m.Spec)
}

// greedy is the token choice of greedy decoding, shared by the cached and uncached
// decoders.
type greedy struct {
	out     [][]int32
	done    []bool
	eos     int32
	observe func(step, e int, logits []float32)
}

func newGreedy(size int, eos int32, observe func(step, e int, logits []float32)) *greedy {
	return &greedy{out: make([][]int32, size), done: make([]bool, size), eos: eos, observe: observe}
}

// pick chooses the next token of every example still decoding from its logits row,
// records it and hands it to feed (eos and padding end the example and are not fed).
// It reports whether every example is done.
func (g *greedy) pick(step int, row func(e int) []float32, feed func(e int, tok int32)) bool {
	all := true
	for e := range g.out {
		if g.done[e] {
			continue
		}
		r := row(e)
		if g.observe != nil {
			g.observe(step, e, r)
		}
		best := argmax(r)
		if g.eos >= 0 && best == g.eos {
			g.done[e] = true
			continue
		}
		feed(e, best)
		g.out[e] = append(g.out[e], best)
		if best == 0 { // padding cannot be fed back as a token
			g.done[e] = true
			continue
		}
		all = false
	}
	return all
}

// generateUncached is the reference greedy decoder: at every step it re-runs the
// decoder over all the tokens so far (quadratic in the generated length; the
// cross-attentions' keys and values are projected once). Generate gives the same
// tokens.
func (m *Model) generateUncached(t *autograd.Tape, b *Batch, maxLen int, eos int32, observe func(step, e int, logits []float32)) ([][]int32, error) {
	if err := m.checkGenerate(b, maxLen); err != nil {
		return nil, err
	}
	defer inference(t)()
	ctx := m.context(t, b, Options{})
	enc, encSeq := m.encode(ctx, b)
	g := newGreedy(b.Size, eos, observe)
	// The cross-attentions project the encoder's output once, for every step.
	memCaches := make([]layers.StepCache, len(m.decoder.blocks))
	// The decoder sees the tokens so far plus one slot whose prediction is read.
	tokens := make([]int32, b.Size*maxLen)
	for step := range maxLen {
		tl := step + 1
		targets := make([]int32, b.Size*tl)
		for e := range b.Size {
			copy(targets[e*tl:], tokens[e*maxLen:e*maxLen+step])
			targets[e*tl+step] = 1 // any non-padding id: the slot is predicted, not read
		}
		logits, _ := m.decode(ctx, targets, b.Size, tl, enc, encSeq, memCaches)
		v := logits.Cols
		row := func(e int) []float32 { return logits.Data[(e*tl+step)*v : (e*tl+step+1)*v] }
		if g.pick(step, row, func(e int, tok int32) { tokens[e*maxLen+step] = tok }) {
			break
		}
	}
	return g.out, nil
}

func argmax(row []float32) int32 {
	best, bv := 0, row[0]
	for j, x := range row {
		if x > bv {
			best, bv = j, x
		}
	}
	return int32(best)
}

// ScoreCandidates returns, for each example of b (its Inputs and Tasks) and each
// candidate output sequence (e.g. a task's label words, without padding), the
// log-likelihood of the candidate given the input: scores[example][candidate].
func (m *Model) ScoreCandidates(t *autograd.Tape, b *Batch, candidates [][]int32) ([][]float64, error) {
	return m.ScoreCandidateSets(t, b, [][][]int32{candidates}, make([]int, b.Size))
}

// ScoreCandidateSets is ScoreCandidates for a batch whose examples score different
// candidate sets — a mixed-task batch, each task with its own label words: example e
// scores the candidates of sets[setOf[e]], and scores[e] has one entry per candidate
// of its set. The encoder runs once over the whole batch. The decoder then runs one
// pass per candidate position c, each example with its own set's c-th candidate
// (shorter candidates padded after their end, which a causal decoder never reads; an
// example whose set has no c-th candidate on padding, or left out once fewer than half
// have one), and the cross-attentions project the encoder's output once for all the
// passes: a batch mixing tasks with the same number of candidates costs what a
// single-task batch costs. Each example's scores are those a batch of its own set
// gives, bit for bit.
func (m *Model) ScoreCandidateSets(t *autograd.Tape, b *Batch, sets [][][]int32, setOf []int) ([][]float64, error) {
	if m.Spec.Arch != ArchT5 {
		return nil, errNotT5
	}
	if len(setOf) != b.Size {
		return nil, fmt.Errorf("model: ScoreCandidateSets: %d set indices for a batch of %d", len(setOf), b.Size)
	}
	for k, set := range sets {
		if err := m.checkCandidates(set); err != nil {
			if len(sets) > 1 {
				return nil, fmt.Errorf("set %d: %w", k, err)
			}
			return nil, err
		}
	}
	passes := 0
	for e, k := range setOf {
		if k < 0 || k >= len(sets) {
			return nil, fmt.Errorf("model: ScoreCandidateSets: example %d asks set %d of %d", e, k, len(sets))
		}
		passes = max(passes, len(sets[k]))
	}
	probe := *b
	probe.Targets = nil
	if err := probe.Validate(&m.Spec); err != nil {
		return nil, err
	}
	defer inference(t)()
	ctx := m.context(t, b, Options{})
	enc, encSeq := m.encode(ctx, b)
	// The encoder's layout and tasks outlive m's scratch and context, which the
	// sub-batches below reuse.
	inValid := slices.Clone(encSeq.Valid)
	tasks := slices.Clone(ctx.Tasks)
	scores := make([][]float64, b.Size)
	for e := range scores {
		scores[e] = make([]float64, len(sets[setOf[e]]))
	}
	// The passes decode every example, those without a c-th candidate on padding
	// (their rows unread), so that the cross-attentions project the encoder's output
	// once for all of them; once fewer than half the examples are left, the passes
	// decode only those, with their rows of the encoder's output and of its projections
	// gathered once (layers.GatherMemoryCache: the examples left by a later pass are
	// among them). A pass's decoder rows cost far less than projecting the memory.
	memCaches := make([]layers.StepCache, len(m.decoder.blocks))
	n := b.Size               // the examples the passes decode: all, then those left
	at := make([]int, b.Size) // each example's row in the passes' batch
	for e := range at {
		at[e] = e
	}
	mem, memSeq, sub, caches := enc, layers.Seq{Batch: b.Size, Len: encSeq.Len, Valid: inValid}, tasks, memCaches
	var rows []int // the examples with a c-th candidate
	for c := range passes {
		rows = rows[:0]
		tl := 0
		for e, k := range setOf {
			if c < len(sets[k]) {
				rows = append(rows, e)
				tl = max(tl, len(sets[k][c]))
			}
		}
		if n == b.Size && 2*len(rows) < b.Size {
			n = len(rows)
			idx := t.Ints(n * encSeq.Len)
			valid := make([]bool, n*encSeq.Len)
			sub = t.Ints(n)
			for j, e := range rows {
				at[e] = j
				for i := range encSeq.Len {
					idx[j*encSeq.Len+i] = int32(e*encSeq.Len + i)
					valid[j*encSeq.Len+i] = inValid[e*encSeq.Len+i]
				}
				sub[j] = tasks[e]
			}
			mem = t.GatherRows(enc, idx)
			memSeq = layers.Seq{Batch: n, Len: encSeq.Len, Valid: valid}
			caches = make([]layers.StepCache, len(memCaches))
			for i := range caches {
				caches[i] = layers.GatherMemoryCache(t, &memCaches[i], mem, idx)
			}
		}
		ctx.Tasks = sub
		targets := t.Ints(n * tl)
		clear(targets)
		for _, e := range rows {
			copy(targets[at[e]*tl:], sets[setOf[e]][c])
		}
		logits, _ := m.decode(ctx, targets, n, tl, mem, memSeq, caches)
		v := logits.Cols
		// Examples side by side: each sums its own tokens' log-probabilities, in order.
		ops.ParallelFor(len(rows), tl*v*logProbCost, func(_, lo, hi int) {
			p := make([]float32, v)
			for _, e := range rows[lo:hi] {
				var ll float64
				for i, tok := range sets[setOf[e]][c] {
					ll += logProb(logits.Data[(at[e]*tl+i)*v:(at[e]*tl+i+1)*v], tok, p)
				}
				scores[e][c] = ll
			}
		})
	}
	return scores, nil
}

// checkCandidates reports an empty candidate list, an empty candidate, an id out of
// the vocabulary and the padding id 0 inside a candidate.
func (m *Model) checkCandidates(candidates [][]int32) error {
	if len(candidates) == 0 {
		return errors.New("model: ScoreCandidates: no candidates")
	}
	for ci, c := range candidates {
		if len(c) == 0 {
			return fmt.Errorf("model: ScoreCandidates: candidate %d is empty", ci)
		}
		if err := checkIDs(fmt.Sprintf("candidate %d", ci), c, len(c), m.Spec.Vocab); err != nil {
			return err
		}
		for _, id := range c {
			if id == 0 {
				return fmt.Errorf("model: ScoreCandidates: candidate %d contains the padding id 0", ci)
			}
		}
	}
	return nil
}

// logProbCost is the work of one logit in logProb for ops.ParallelFor (a softmax and
// two maxima).
const logProbCost = 3

// logProb returns log softmax(row)[tok] as CrossEntropy computes it: x_tok − max x −
// log Σ exp(x − max x), where Σ exp(x − max x) = 1/max softmax(row), on the vector
// kernels (p is scratch of the row's length).
func logProb(row []float32, tok int32, p []float32) float64 {
	ops.SoftmaxRows(p, row, 1, len(row))
	return float64(row[tok]) - float64(ops.Max(row)) + math.Log(float64(ops.Max(p)))
}

// Classify returns, for each example of b, the index of the most likely candidate
// (see ScoreCandidates): classification restricted to a task's label words.
func (m *Model) Classify(t *autograd.Tape, b *Batch, candidates [][]int32) ([]int, error) {
	scores, err := m.ScoreCandidates(t, b, candidates)
	if err != nil {
		return nil, err
	}
	best := make([]int, len(scores))
	for e, s := range scores {
		for ci := range s {
			if s[ci] > s[best[e]] {
				best[e] = ci
			}
		}
	}
	return best, nil
}

// Prediction is an encoder-only model's output for one example: the task's class
// scores (classification) or its predicted value (regression).
type Prediction struct {
	// Task is the example's task index.
	Task int
	// Logits holds the class scores of a classification task (nil for regression).
	Logits []float32
	// Class is the highest-scoring class (classification).
	Class int
	// Value is the predicted value (regression).
	Value float32
}

// Predict runs an encoder-only model over b (its Inputs and Tasks) and returns each
// example's prediction by its task's head.
func (m *Model) Predict(t *autograd.Tape, b *Batch) ([]Prediction, error) {
	if m.Spec.Arch != ArchEncoder {
		return nil, errNotEncoder
	}
	probe := *b
	probe.Labels, probe.Values = nil, nil
	if err := probe.Validate(&m.Spec); err != nil {
		return nil, err
	}
	defer inference(t)()
	ctx := m.context(t, b, Options{})
	pooled := m.pool(ctx, b)
	out := make([]Prediction, b.Size)
	for ti, h := range m.heads {
		idx := m.examplesOf(t, b, ti)
		if len(idx) == 0 {
			continue
		}
		rows := t.GatherRows(pooled, idx)
		if h.cls != nil {
			lg := h.cls.Logits(ctx, rows)
			for i, e := range idx {
				row := append([]float32(nil), lg.Data[i*lg.Cols:(i+1)*lg.Cols]...)
				out[e] = Prediction{Task: ti, Logits: row, Class: int(argmax(row))}
			}
		} else {
			p := h.reg.Predict(ctx, rows)
			for i, e := range idx {
				out[e] = Prediction{Task: ti, Value: p.Data[i]}
			}
		}
	}
	return out, nil
}
