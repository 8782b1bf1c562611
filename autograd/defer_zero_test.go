package autograd_test

import (
	"math"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/autograd/gradcheck"
)

// DeferZeroGrads, Backward, SettleGrads gives the gradients ZeroGrads then Backward
// gives, whatever the stale gradients held (NaN here, so a stale value read anywhere
// shows): parameters reached once, several times, by the adopting and the copying
// side of an Add, through a View, by an embedding's scatter, by a norm's gain, and not
// at all (SettleGrads clears it). A second Backward without zeroing adds to them as
// before.
func TestDeferZeroGradsMatchesZeroGrads(t *testing.T) {
	r := gradcheck.Random
	build := func() []*autograd.Param {
		return []*autograd.Param{r("x", 1, 1, 6, 4), r("w", 2, 1, 4, 4), r("b", 3, 1, 6, 4),
			r("g", 4, 1, 4), r("emb", 5, 1, 5, 4), r("bias", 6, 1, 4), r("unused", 7, 1, 3, 3)}
	}
	run := func(deferred bool, twice bool) [][]float32 {
		p := build()
		for _, q := range p {
			for i := range q.Grad {
				q.Grad[i] = float32(math.NaN())
			}
		}
		tape := autograd.NewTape()
		w := gradcheck.Random("ws", 8, 1, 6, 4).Data
		fwd := func() *autograd.Tensor {
			x, wt, b, g, emb, bias := &p[0].Tensor, &p[1].Tensor, &p[2].Tensor, &p[3].Tensor, &p[4].Tensor, &p[5].Tensor
			h := tape.Add(x, b)
			h = tape.Add(h, tape.GatherRows(emb, []int32{1, 3, 1, 0, 4, 2}))
			h = tape.RMSNorm(tape.MatMul(h, wt, false), g, 1e-6)
			h = tape.AddRow(tape.Add(h, tape.View(b, 6, 4)), bias)
			h = tape.Add(tape.MatMul(h, wt, true), tape.Add(x, x))
			return tape.WeightedSum(h, w)
		}
		if deferred {
			autograd.DeferZeroGrads(p)
		} else {
			autograd.ZeroGrads(p)
		}
		tape.Backward(fwd())
		if deferred {
			autograd.SettleGrads(p)
		}
		if twice {
			tape.Reset()
			tape.Backward(fwd())
		}
		out := make([][]float32, len(p))
		for i, q := range p {
			out[i] = q.Grad
		}
		return out
	}
	for _, twice := range []bool{false, true} {
		want, got := run(false, twice), run(true, twice)
		for i := range want {
			for j := range want[i] {
				if got[i][j] != want[i][j] || math.IsNaN(float64(got[i][j])) {
					t.Fatalf("twice=%v: param %d gradient[%d] = %v, want %v", twice, i, j, got[i][j], want[i][j])
				}
			}
		}
		if got[6][0] != 0 {
			t.Errorf("the unreached parameter's gradient is %v, want 0", got[6][0])
		}
	}
}
