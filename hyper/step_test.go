package hyper_test

import (
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/ops"
)

// Stepping through the positions one at a time gives the rows Forward gives over the
// whole sequence: the gates computed at position 0 (first_token), from the task
// (task_embedding) or global (GG) are the ones Forward uses at every position.
func TestForwardStepMatchesForward(t *testing.T) {
	for _, v := range variants() {
		c := config(v)
		if c.Conditioning == hyper.Mean {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			f := build(t, c)
			tape := autograd.NewTape()
			tape.SetRecording(false)
			x := input()
			full := f.Forward(ctx(tape), &x.Tensor, layers.Seq{Batch: batch, Len: seqLen})
			var cache layers.StepCache
			for pos := range seqLen {
				rows := tape.New(batch, dModel)
				for e := range batch {
					copy(rows.Data[e*dModel:(e+1)*dModel], x.Data[(e*seqLen+pos)*dModel:])
				}
				y := f.ForwardStep(ctx(tape), rows, pos, &cache)
				for e := range batch {
					for j := range y.Cols {
						got, want := y.Data[e*y.Cols+j], full.Data[(e*seqLen+pos)*full.Cols+j]
						if got != want {
							t.Fatalf("position %d example %d column %d: step %v, full %v", pos, e, j, got, want)
						}
					}
				}
			}
		})
	}
}

// ForwardStep refuses what cannot step: a recording tape, mean conditioning, and a
// first step after position 0.
func TestForwardStepRefuses(t *testing.T) {
	mustPanic := func(name, want string, fn func()) {
		t.Helper()
		defer func() {
			r := recover()
			if r == nil || !strings.Contains(r.(string), want) {
				t.Errorf("%s: panic %v; want one mentioning %q", name, r, want)
			}
		}()
		fn()
	}
	x := input()
	rows := &autograd.Tensor{Data: x.Data[:batch*dModel], Rows: batch, Cols: dModel}
	f := build(t, config(variants()[0]))
	rec := autograd.NewTape()
	mustPanic("recording", "inference only", func() { f.ForwardStep(ctx(rec), rows, 0, &layers.StepCache{}) })
	inf := autograd.NewTape()
	inf.SetRecording(false)
	mustPanic("position 1 first", "position 1", func() { f.ForwardStep(ctx(inf), rows, 1, &layers.StepCache{}) })
	mean := build(t, config(variants()[2]))
	mustPanic("mean", "mean", func() { mean.ForwardStep(ctx(inf), rows, 0, &layers.StepCache{}) })
}

// A decoding step of the paper's setting (gated GLU, only Wo gated) runs the gated
// product once over the batch, one row per example (the one-row path, split over the
// threads); a pass over whole sequences runs the layer as one autograd.GridGatedFFN,
// whose gated products go block by block, an example per call. The profile's product
// shapes tell the two apart.
func TestForwardStepRunsGatedProductOverTheBatch(t *testing.T) {
	f := build(t, config(variants()[0]))
	tape := autograd.NewTape()
	tape.SetRecording(false)
	x := input()
	gatedShapes := func(run func()) []ops.ProductShape {
		ops.StartProfile()
		run()
		var out []ops.ProductShape
		for _, s := range ops.ProfileShapes() {
			if s.Op == "GridGatedGemm" {
				out = append(out, s.ProductShape)
			}
		}
		ops.StopProfile()
		return out
	}
	step := gatedShapes(func() {
		rows := tape.New(batch, dModel)
		f.ForwardStep(ctx(tape), rows, 0, &layers.StepCache{})
	})
	if len(step) != 1 || step[0].Batch != batch || step[0].M != 1 {
		t.Errorf("a decoding step ran the gated products %+v; want one over %d examples of 1 row", step, batch)
	}
	full := gatedShapes(func() { f.Forward(ctx(tape), &x.Tensor, layers.Seq{Batch: batch, Len: seqLen}) })
	if len(full) != 1 || full[0].Batch != 1 || full[0].M != seqLen {
		t.Errorf("a pass over whole sequences ran the gated products %+v; want GridGatedFFN's, one example of %d rows a call", full, seqLen)
	}
}
