package model

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
)

// scratch holds the model's reusable per-batch buffers.
type scratch struct {
	inValid, tgtValid []bool
	decIn, tgt        []int32
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Options configures one forward pass.
type Options struct {
	// Train enables dropout.
	Train bool
	// Dropout draws the dropout masks (deterministic from the run's seed); nil uses
	// seed 0.
	Dropout *layers.DropoutSource
	// Tap receives the values layers show, such as HyperGrid gates (layers.Context.Tap).
	Tap func(name string, batch, rows, cols int, values []float32)
}

func (m *Model) context(t *autograd.Tape, b *Batch, o Options) *layers.Context {
	m.ctx = layers.Context{Tape: t, Train: o.Train, Tasks: b.Tasks, Dropout: o.Dropout, Tap: o.Tap}
	if m.ctx.Tasks == nil {
		m.ctx.Tasks = t.Ints(b.Size)
		clear(m.ctx.Tasks)
	}
	if o.Train && o.Dropout == nil {
		m.ctx.Dropout = layers.NewDropoutSource(0)
	}
	return &m.ctx
}

// inputSeq returns the encoder's sequence layout, marking padding (id 0) invalid.
func (m *Model) inputSeq(b *Batch) layers.Seq {
	m.scratch.inValid = grow(m.scratch.inValid, len(b.Inputs))
	for i, id := range b.Inputs {
		m.scratch.inValid[i] = id != 0
	}
	return layers.Seq{Batch: b.Size, Len: b.InputLen, Valid: m.scratch.inValid}
}

// runStack runs the blocks of st over x and returns the final-normalised output.
// memCaches, when not nil, has one layers.StepCache per block for its cross-attention
// (AttentionInput.MemoryCache): decoder passes over the same memory project it once.
func (m *Model) runStack(ctx *layers.Context, st *stack, x *autograd.Tensor, seq layers.Seq, mem *autograd.Tensor, memSeq layers.Seq, memCaches []layers.StepCache) *autograd.Tensor {
	st.state = layers.StackState{}
	drop := m.Spec.Dropout
	for i, b := range st.blocks {
		h := b.selfNorm.Forward(ctx, x)
		a := b.self.Forward(ctx, layers.AttentionInput{X: h, XSeq: seq, Shared: &st.state})
		x = layers.AddDropout(ctx, x, a, drop)
		if b.cross != nil {
			h = b.crossNorm.Forward(ctx, x)
			in := layers.AttentionInput{X: h, XSeq: seq, Memory: mem, MemorySeq: memSeq}
			if memCaches != nil {
				in.MemoryCache = &memCaches[i]
			}
			a = b.cross.Forward(ctx, in)
			x = layers.AddDropout(ctx, x, a, drop)
		}
		h = b.ffnNorm.Forward(ctx, x)
		x = layers.AddDropout(ctx, x, b.ffn.Forward(ctx, h, seq), drop)
	}
	return st.final.Forward(ctx, x)
}

// encode runs the encoder over the batch's inputs and returns its output,
// (Size·InputLen)×DModel, on ctx's tape.
func (m *Model) encode(ctx *layers.Context, b *Batch) (*autograd.Tensor, layers.Seq) {
	seq := m.inputSeq(b)
	x := m.embed.Lookup(ctx, b.Inputs)
	return m.runStack(ctx, m.encoder, x, seq, nil, layers.Seq{}, nil), seq
}

// decode is decodeHidden's output projected onto the vocabulary: the logits,
// (Size·TargetLen)×Vocab, and the targets to predict.
func (m *Model) decode(ctx *layers.Context, targets []int32, size, tlen int, mem *autograd.Tensor, memSeq layers.Seq, memCaches []layers.StepCache) (*autograd.Tensor, []int32) {
	y, tgt := m.decodeHidden(ctx, targets, size, tlen, mem, memSeq, memCaches)
	return m.lm.Logits(ctx, y), tgt
}

// decodeHidden runs the decoder over targets shifted right (start token 0) and returns
// its output, (Size·TargetLen)×DModel, and the targets to predict (-1 for padding);
// memCaches as for runStack.
func (m *Model) decodeHidden(ctx *layers.Context, targets []int32, size, tlen int, mem *autograd.Tensor, memSeq layers.Seq, memCaches []layers.StepCache) (*autograd.Tensor, []int32) {
	sc := &m.scratch
	sc.decIn = grow(sc.decIn, size*tlen)
	sc.tgt = grow(sc.tgt, size*tlen)
	sc.tgtValid = grow(sc.tgtValid, size*tlen)
	for e := range size {
		for i := range tlen {
			j := e*tlen + i
			if i == 0 {
				sc.decIn[j] = 0
			} else {
				sc.decIn[j] = targets[j-1]
			}
			if targets[j] == 0 {
				sc.tgt[j] = -1
			} else {
				sc.tgt[j] = targets[j]
			}
			// A position is real when it or an earlier one predicts a token: the
			// start position is always real.
			sc.tgtValid[j] = i == 0 || targets[j-1] != 0
		}
	}
	seq := layers.Seq{Batch: size, Len: tlen, Valid: sc.tgtValid}
	y := m.embed.Lookup(ctx, sc.decIn)
	return m.runStack(ctx, m.decoder, y, seq, mem, memSeq, memCaches), sc.tgt
}

// Loss records the forward pass of batch b on tape t and returns the scalar training
// loss: the mean token cross-entropy of the targets (t5), or the mean over examples of
// each example's task loss (encoder: cross-entropy for classification, squared error
// for regression). Call t.Backward on it to get the gradients.
func (m *Model) Loss(t *autograd.Tape, b *Batch, o Options) (*autograd.Tensor, error) {
	if err := b.Validate(&m.Spec); err != nil {
		return nil, err
	}
	ctx := m.context(t, b, o)
	if m.Spec.Arch == ArchT5 {
		if b.Targets == nil {
			return nil, fmt.Errorf("batch: a t5 model's loss needs targets")
		}
		enc, encSeq := m.encode(ctx, b)
		y, tgt := m.decodeHidden(ctx, b.Targets, b.Size, b.TargetLen, enc, encSeq, nil)
		return m.lm.Loss(ctx, y, tgt), nil
	}
	pooled := m.pool(ctx, b)
	var total *autograd.Tensor
	for ti, h := range m.heads {
		idx := m.examplesOf(t, b, ti)
		if len(idx) == 0 {
			continue
		}
		rows := t.GatherRows(pooled, idx)
		var l *autograd.Tensor
		if h.cls != nil {
			if b.Labels == nil {
				return nil, fmt.Errorf("batch: task %q is a classification task; the batch needs labels", m.Spec.Tasks[ti].Name)
			}
			labels := t.Ints(len(idx))
			for i, e := range idx {
				labels[i] = b.Labels[e]
			}
			l = h.cls.Loss(ctx, h.cls.Logits(ctx, rows), labels)
		} else {
			if b.Values == nil {
				return nil, fmt.Errorf("batch: task %q is a regression task; the batch needs values", m.Spec.Tasks[ti].Name)
			}
			vals := t.Floats(len(idx))
			for i, e := range idx {
				vals[i] = b.Values[e]
			}
			l = h.reg.Loss(ctx, h.reg.Predict(ctx, rows), vals)
		}
		l = t.Scale(l, float32(len(idx))/float32(b.Size))
		if total == nil {
			total = l
		} else {
			total = t.Add(total, l)
		}
	}
	return total, nil
}

// pool runs the encoder and pools each example (encoder-only models).
func (m *Model) pool(ctx *layers.Context, b *Batch) *autograd.Tensor {
	enc, seq := m.encode(ctx, b)
	t := ctx.Tape
	if m.Spec.Pooling == PoolMean {
		return t.MeanRows(enc, b.Size, seq.Valid)
	}
	idx := t.Ints(b.Size)
	for e := range idx {
		idx[e] = int32(e * b.InputLen)
	}
	return t.GatherRows(enc, idx)
}

// examplesOf returns the indices of the batch's examples of task ti.
func (m *Model) examplesOf(t *autograd.Tape, b *Batch, ti int) []int32 {
	n := 0
	for e := range b.Size {
		if b.task(e) == ti {
			n++
		}
	}
	idx := t.Ints(n)[:0]
	for e := range b.Size {
		if b.task(e) == ti {
			idx = append(idx, int32(e))
		}
	}
	return idx
}
