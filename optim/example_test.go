package optim_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/optim"
)

// AdamW minimises (w - 3)² from w = 0.
func ExampleAdamW() {
	w := []float32{0}
	g := []float32{0}
	opt, err := optim.NewAdamW(optim.AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
		[]optim.Param{{Name: "w", Value: w, Grad: g}})
	if err != nil {
		panic(err)
	}
	for range 500 {
		g[0] = 2 * (w[0] - 3)
		opt.Step(0.1)
	}
	fmt.Printf("w = %.2f after %d steps\n", w[0], opt.Steps())
	// Output: w = 3.00 after 500 steps
}
