package model

import (
	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
)

// decodeCache is the decoder's state during one incremental generation: one
// layers.StepCache per sublayer of each block.
type decodeCache struct {
	self, cross, ffn []layers.StepCache
}

func (m *Model) newDecodeCache() *decodeCache {
	n := len(m.decoder.blocks)
	return &decodeCache{self: make([]layers.StepCache, n), cross: make([]layers.StepCache, n), ffn: make([]layers.StepCache, n)}
}

// canStep reports whether every sublayer of the decoder can decode incrementally.
func (m *Model) canStep() bool {
	if m.decoder == nil {
		return false
	}
	for _, b := range m.decoder.blocks {
		if _, ok := b.self.(layers.StepAttention); !ok {
			return false
		}
		if _, ok := b.cross.(layers.StepAttention); !ok {
			return false
		}
		if _, ok := b.ffn.(layers.StepFeedForward); !ok {
			return false
		}
	}
	return true
}

// decodeStep runs the decoder over one new position, pos, of every example, whose
// input tokens are tokens (the start token 0 at pos 0, then the previous step's
// choice), and returns the logits of that position, len(tokens)×Vocab. mem and memSeq
// are the encoder's output, read at the first step only. ctx's tape must not record.
func (m *Model) decodeStep(ctx *layers.Context, c *decodeCache, tokens []int32, pos int, mem *autograd.Tensor, memSeq layers.Seq) *autograd.Tensor {
	t := ctx.Tape
	size := len(tokens)
	var shared layers.StepState
	x := m.embed.Lookup(ctx, tokens)
	for i, b := range m.decoder.blocks {
		h := b.selfNorm.Forward(ctx, x)
		a := b.self.(layers.StepAttention).ForwardStep(ctx, layers.StepInput{X: h, Batch: size, Pos: pos, Shared: &shared}, &c.self[i])
		x = t.Add(x, a)
		h = b.crossNorm.Forward(ctx, x)
		a = b.cross.(layers.StepAttention).ForwardStep(ctx, layers.StepInput{X: h, Batch: size, Pos: pos, Memory: mem, MemorySeq: memSeq}, &c.cross[i])
		x = t.Add(x, a)
		h = b.ffnNorm.Forward(ctx, x)
		x = t.Add(x, b.ffn.(layers.StepFeedForward).ForwardStep(ctx, h, pos, &c.ffn[i]))
	}
	return m.lm.Logits(ctx, m.decoder.final.Forward(ctx, x))
}
