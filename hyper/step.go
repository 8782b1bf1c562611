package hyper

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
)

// gridSteps is GridFFN's layers.StepCache state: each example's gates, computed at
// the first step and reused at every later one.
type gridSteps struct {
	batch  int
	wi, wo []float32 // batch×(Rows·Cols) each; nil for an ungated weight
}

// ForwardStep implements layers.StepFeedForward. The gates depend only on the
// example: with first_token conditioning on the first position's normalised input,
// which is the input of step 0 (in a causal stack later positions do not change it);
// with task_embedding on the example's task; with GG on nothing. They are computed at
// step 0, exactly as Forward computes them, and kept in cache for the later steps.
// Mean conditioning looks at every position and is refused (BuildFFN refuses it in a
// decoder).
func (f *GridFFN) ForwardStep(ctx *layers.Context, x *autograd.Tensor, pos int, cache *layers.StepCache) *autograd.Tensor {
	if ctx.Tape.Recording() {
		panic("hyper: GridFFN.ForwardStep is inference only; switch the tape to inference mode (SetRecording(false))")
	}
	batch := x.Rows
	seq := layers.Seq{Batch: batch, Len: 1}
	st, _ := cache.State.(*gridSteps)
	if st == nil {
		if pos != 0 {
			panic(fmt.Sprintf("hyper: GridFFN.ForwardStep: the first step is at position %d; the gates are conditioned on position 0", pos))
		}
		if f.Grid.Conditioning == Mean && f.Grid.Composition != GG {
			panic("hyper: GridFFN.ForwardStep: mean conditioning pools over every position and cannot decode incrementally")
		}
		cond := f.conditioning(ctx, x, seq)
		st = &gridSteps{batch: batch}
		if f.Wi != nil {
			st.wi = append([]float32(nil), f.Wi.Forward(ctx, cond, batch).Data...)
		}
		if f.Wo != nil {
			st.wo = append([]float32(nil), f.Wo.Forward(ctx, cond, batch).Data...)
		}
		cache.State = st
	}
	if st.batch != batch {
		panic(fmt.Sprintf("hyper: GridFFN.ForwardStep: a batch of %d, but the gates were computed for %d examples", batch, st.batch))
	}
	gate := func(g *Gate) *autograd.Tensor {
		data := st.wo
		if g == f.Wi {
			data = st.wi
		}
		return &autograd.Tensor{Data: data, Rows: batch, Cols: g.Rows * g.Cols}
	}
	return f.gated(ctx, x, seq, gate)
}
