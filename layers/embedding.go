package layers

import (
	"math"

	"github.com/hypergrid-go/hypergrid/autograd"
)

// Embedding maps token ids to Vocab×DModel learned vectors, and can serve as the tied
// output projection.
type Embedding struct {
	Table *autograd.Param
}

// NewEmbedding creates a vocab×d table named name, drawn from N(0, 1) as in T5. It
// panics when vocab or d is not positive or vocab·d exceeds MaxElements; a model
// spec that passed validation never does.
func NewEmbedding(init *Init, name string, vocab, d int) *Embedding {
	return &Embedding{Table: init.Normal(newParam(name, vocab, d), 1)}
}

// Lookup returns the vectors of ids (len(ids)×DModel). Ids must lie in [0, Vocab).
func (e *Embedding) Lookup(ctx *Context, ids []int32) *autograd.Tensor {
	return ctx.Tape.GatherRows(&e.Table.Tensor, ids)
}

// Logits is the tied output projection: x·Tableᵀ scaled by 1/√DModel (T5's rescaling
// for tied embeddings).
func (e *Embedding) Logits(ctx *Context, x *autograd.Tensor) *autograd.Tensor {
	t := ctx.Tape
	x = t.Scale(x, e.logitScale())
	return t.MatMul(x, &e.Table.Tensor, true)
}

// logitScale is the tied projection's scale of its input, 1/√DModel.
func (e *Embedding) logitScale() float32 { return float32(1 / math.Sqrt(float64(e.Table.Cols))) }
