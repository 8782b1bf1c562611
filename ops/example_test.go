package ops_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/ops"
)

func ExampleGemm() {
	// C (2×2) = A (2×3) · B (3×2)
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 0, 1, 1, 1}
	c := make([]float32, 4)
	ops.Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)
	// Output: [4 5 10 11]
}

func ExampleGridGatedGemm() {
	// Two examples of one row each share a 2×2 weight; each has its own 2×1 (row-only)
	// gate grid: example 0 keeps only the first row of the weight, example 1 the second.
	a := []float32{1, 1, 1, 1} // rows of A: example 0, example 1
	w := []float32{1, 2, 3, 4}
	g := []float32{1, 0, 0, 1} // G_0 = [1; 0], G_1 = [0; 1]
	c := make([]float32, 4)
	ops.GridGatedGemm(2, 1, 2, 2, 2, 1, a, 2, w, 2, g, 0, c, 2)
	fmt.Println(c)
	// Output: [1 2 3 4]
}
