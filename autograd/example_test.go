package autograd_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/autograd"
)

// One training step of a linear model y = x·w on a reused tape.
func ExampleTape() {
	w := autograd.NewParam("w", 2, 1)
	copy(w.Data, []float32{0.5, -1})
	tape := autograd.NewTape()
	for step := range 2 {
		tape.Reset() // reuse last step's memory
		w.ZeroGrad()
		x := tape.From([]float32{1, 2, 3, 4}, 2, 2)
		loss := tape.MSE(tape.MatMul(x, &w.Tensor, false), []float32{1, 0})
		tape.Backward(loss)
		fmt.Printf("step %d: loss %.3f, grad %.3f\n", step, loss.Data[0], w.Grad)
		for i, g := range w.Grad {
			w.Data[i] -= 0.02 * g
		}
	}
	// Output:
	// step 0: loss 6.250, grad [-10.000 -15.000]
	// step 1: loss 1.690, grad [-3.800 -6.200]
}
