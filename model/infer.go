package model

import (
	"errors"
	"fmt"
	"math"

	"github.com/hypergrid-go/hypergrid/autograd"
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
// maxLen tokens. The returned sequences exclude eos. It uses t in inference mode and
// leaves its memory in use until the caller resets it.
func (m *Model) Generate(t *autograd.Tape, b *Batch, maxLen int, eos int32) ([][]int32, error) {
	if m.Spec.Arch != ArchT5 {
		return nil, errNotT5
	}
	if maxLen <= 0 {
		return nil, fmt.Errorf("model: Generate: maxLen %d; want at least 1", maxLen)
	}
	probe := *b
	probe.Targets = nil
	if err := probe.Validate(&m.Spec); err != nil {
		return nil, err
	}
	defer inference(t)()
	ctx := m.context(t, b, Options{})
	enc, encSeq := m.encode(ctx, b)
	out := make([][]int32, b.Size)
	done := make([]bool, b.Size)
	// The decoder sees the tokens so far plus one slot whose prediction is read.
	tokens := make([]int32, b.Size*maxLen)
	for step := range maxLen {
		tl := step + 1
		targets := make([]int32, b.Size*tl)
		for e := range b.Size {
			copy(targets[e*tl:], tokens[e*maxLen:e*maxLen+step])
			targets[e*tl+step] = 1 // any non-padding id: the slot is predicted, not read
		}
		logits, _ := m.decode(ctx, targets, b.Size, tl, enc, encSeq)
		v := logits.Cols
		all := true
		for e := range b.Size {
			if done[e] {
				continue
			}
			row := logits.Data[(e*tl+step)*v : (e*tl+step+1)*v]
			best := argmax(row)
			if eos >= 0 && best == eos {
				done[e] = true
				continue
			}
			tokens[e*maxLen+step] = best
			out[e] = append(out[e], best)
			if best == 0 { // padding cannot be fed back as a token
				done[e] = true
				continue
			}
			all = false
		}
		if all {
			break
		}
	}
	return out, nil
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
	if m.Spec.Arch != ArchT5 {
		return nil, errNotT5
	}
	if len(candidates) == 0 {
		return nil, errors.New("model: ScoreCandidates: no candidates")
	}
	for ci, c := range candidates {
		if len(c) == 0 {
			return nil, fmt.Errorf("model: ScoreCandidates: candidate %d is empty", ci)
		}
		if err := checkIDs(fmt.Sprintf("candidate %d", ci), c, len(c), m.Spec.Vocab); err != nil {
			return nil, err
		}
		for _, id := range c {
			if id == 0 {
				return nil, fmt.Errorf("model: ScoreCandidates: candidate %d contains the padding id 0", ci)
			}
		}
	}
	probe := *b
	probe.Targets = nil
	if err := probe.Validate(&m.Spec); err != nil {
		return nil, err
	}
	defer inference(t)()
	ctx := m.context(t, b, Options{})
	enc, encSeq := m.encode(ctx, b)
	scores := make([][]float64, b.Size)
	for e := range scores {
		scores[e] = make([]float64, len(candidates))
	}
	for ci, c := range candidates {
		tl := len(c)
		targets := t.Ints(b.Size * tl)
		for e := range b.Size {
			copy(targets[e*tl:], c)
		}
		logits, _ := m.decode(ctx, targets, b.Size, tl, enc, encSeq)
		v := logits.Cols
		for e := range b.Size {
			var ll float64
			for i, tok := range c {
				ll += logProb(logits.Data[(e*tl+i)*v:(e*tl+i+1)*v], tok)
			}
			scores[e][ci] = ll
		}
	}
	return scores, nil
}

// logProb returns log softmax(row)[tok].
func logProb(row []float32, tok int32) float64 {
	mx := float64(ops.Max(row))
	var s float64
	for _, x := range row {
		s += math.Exp(float64(x) - mx)
	}
	return float64(row[tok]) - mx - math.Log(s)
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
