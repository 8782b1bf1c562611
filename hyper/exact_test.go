package hyper_test

import (
	"math"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/autograd/gradcheck"
	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
)

// With exact_init and gate_init 1 every gate is exactly 1 at the start, in every
// variant: the layer's output equals the plain GLU layer's with the same weights bit
// for bit. One gradient step then moves the gates: the layer trains.
func TestExactInitIsIdentityAndTrains(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			c := config(v)
			c.GateInit, c.ExactInit = 1, true
			g, err := c.BuildFFN(site(layers.Encoder))
			if err != nil {
				t.Fatal(err)
			}
			f := g.(*hyper.GridFFN)
			x := input()
			tape := autograd.NewTape()
			got := f.Forward(ctx(tape), &x.Tensor, seq)
			plain := autograd.NewTape()
			want := f.GLU.Forward(ctx(plain), &x.Tensor, seq)
			for i := range want.Data {
				if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
					t.Fatalf("output[%d] = %v, the plain layer gives %v: not exactly the identity gate", i, got.Data[i], want.Data[i])
				}
			}
			// Without exact_init the same layer is not exactly the plain one.
			c.ExactInit = false
			g2, _ := c.BuildFFN(site(layers.Encoder))
			y2 := g2.Forward(ctx(autograd.NewTape()), &x.Tensor, seq)
			same := true
			for i := range want.Data {
				same = same && y2.Data[i] == want.Data[i]
			}
			if same {
				t.Error("without exact_init the gates are exactly 1 too: the test cannot tell")
			}

			// One SGD step on the gates' parameters changes the output.
			w := gradcheck.Weights(len(got.Data), 7)
			tape.Backward(tape.WeightedSum(got, w))
			moved := false
			for _, p := range f.Params() {
				if p.Group != hyper.ParamGroup {
					continue
				}
				for i := range p.Data {
					if p.Grad != nil && p.Grad[i] != 0 {
						p.Data[i] -= 0.5 * p.Grad[i]
						moved = true
					}
				}
			}
			if !moved {
				t.Fatal("no gate parameter has a gradient: exact_init stops training")
			}
			after := f.Forward(ctx(autograd.NewTape()), &x.Tensor, seq)
			diff := 0.0
			for i := range after.Data {
				diff = max(diff, math.Abs(float64(after.Data[i]-want.Data[i])))
			}
			if diff < 1e-6 {
				t.Errorf("after a step the output moved by %g only", diff)
			}
		})
	}
}
