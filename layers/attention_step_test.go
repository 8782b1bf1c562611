package layers_test

import (
	"math"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/autograd/gradcheck"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/ops"
)

// rowsAt returns the rows of position pos of every example of x ((batch·n)×d).
func rowsAt(tape *autograd.Tape, x *autograd.Tensor, batch, n, pos int) *autograd.Tensor {
	d := x.Cols
	r := tape.New(batch, d)
	for e := range batch {
		copy(r.Data[e*d:(e+1)*d], x.Data[(e*n+pos)*d:(e*n+pos+1)*d])
	}
	return r
}

// Decoding one position at a time with ForwardStep gives, at every position, the rows
// of Forward over the whole sequence: causal self-attention with the relative position
// bias (the first layer's, shared with the second), and cross-attention over a padded
// memory. The positions run past the exact buckets into the logarithmic ones.
func TestAttentionForwardStepMatchesForward(t *testing.T) {
	const batch, n, memLen = 3, 11, 5
	for _, scaled := range []bool{false, true} {
		cfg := layers.T5AttentionConfig{ScaleScores: scaled}
		mk := func(layer int, cross bool) *layers.T5Attention {
			s := site("decoder.block.x")
			s.Stack, s.Layer, s.Causal, s.Cross = layers.Decoder, layer, !cross, cross
			s.RelativeMaxDistance = 9
			a := layers.NewT5Attention(s, cfg)
			for i, p := range a.Params() { // T5's small initial bias would hide it
				copy(p.Data, gradcheck.Random(p.Name, uint64(i+7), 1, p.Shape...).Data)
			}
			return a
		}
		first, second, cross := mk(0, false), mk(1, false), mk(0, true)
		tape := autograd.NewTape()
		tape.SetRecording(false)
		ctx := &layers.Context{Tape: tape}
		x := gradcheck.Random("x", 1, 1, batch*n, 6)
		mem := gradcheck.Random("mem", 2, 1, batch*memLen, 6)
		memSeq := layers.Seq{Batch: batch, Len: memLen, Valid: []bool{
			true, true, true, false, false,
			true, true, true, true, true,
			true, false, false, false, false,
		}}
		seq := layers.Seq{Batch: batch, Len: n}
		var shared layers.StackState
		want1 := first.Forward(ctx, layers.AttentionInput{X: &x.Tensor, XSeq: seq, Shared: &shared})
		want2 := second.Forward(ctx, layers.AttentionInput{X: &x.Tensor, XSeq: seq, Shared: &shared})
		wantC := cross.Forward(ctx, layers.AttentionInput{X: &x.Tensor, XSeq: seq, Memory: &mem.Tensor, MemorySeq: memSeq})
		var c1, c2, cc layers.StepCache
		for pos := range n {
			xr := rowsAt(tape, &x.Tensor, batch, n, pos)
			var st layers.StepState
			in := layers.StepInput{X: xr, Batch: batch, Pos: pos, Shared: &st}
			got := []*autograd.Tensor{
				first.ForwardStep(ctx, in, &c1),
				second.ForwardStep(ctx, in, &c2),
				cross.ForwardStep(ctx, layers.StepInput{X: xr, Batch: batch, Pos: pos, Memory: &mem.Tensor, MemorySeq: memSeq}, &cc),
			}
			for i, want := range []*autograd.Tensor{want1, want2, wantC} {
				w := rowsAt(tape, want, batch, n, pos)
				// Bit for bit: the step runs the full pass's products on the same
				// kernels (greedy decoding must pick what the full pass would). The
				// NEON softmax groups a row's sums by the row's length (four lanes,
				// then one at a time), and a step's rows are shorter than the full
				// pass's masked ones: there, within a few units in the last place.
				for j := range w.Data {
					g, f := got[i].Data[j], w.Data[j]
					same := math.Float32bits(g) == math.Float32bits(f)
					if ops.ActiveISA() == ops.NEON {
						same = math.Abs(float64(g-f)) <= 1e-6*max(1, math.Abs(float64(f)))
					}
					if !same {
						t.Fatalf("scaled=%v sublayer %d position %d value %d: step %v, full %v", scaled, i, pos, j, g, f)
					}
				}
			}
		}
	}
}

// ForwardStep refuses a recording tape and a step out of order.
func TestAttentionForwardStepRefuses(t *testing.T) {
	s := site("decoder.block.0.self_attn")
	s.Stack, s.Causal = layers.Decoder, true
	a := layers.NewT5Attention(s, layers.T5AttentionConfig{})
	x := gradcheck.Random("x", 1, 1, 2, 6)
	for name, fn := range map[string]func(tape *autograd.Tape){
		"recording": func(tape *autograd.Tape) {
			tape.SetRecording(true)
			a.ForwardStep(&layers.Context{Tape: tape}, layers.StepInput{X: &x.Tensor, Batch: 2}, &layers.StepCache{})
		},
		"out of order": func(tape *autograd.Tape) {
			a.ForwardStep(&layers.Context{Tape: tape}, layers.StepInput{X: &x.Tensor, Batch: 2, Pos: 3}, &layers.StepCache{})
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			tape := autograd.NewTape()
			tape.SetRecording(false)
			fn(tape)
		}()
	}
}
