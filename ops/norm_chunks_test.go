package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNormBackwardChunks checks the norms' backward passes (RMSNorm's, with and without
// adding into dx, and LayerNorm's) on inputs large enough to run chunk by chunk
// (normBackChunkRows): the same bits at 1, 2 and 3 threads; those of the kernel run
// chunk by chunk into zeroed sums added into the gradients in chunk order; dx the
// kernel's over all rows at once; and the column sums within rounding of the generic
// oracle's. Small inputs (one chunk, or fewer values than parallelMinValues) keep the
// kernel's one-call bits.
func TestNormBackwardChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	type norm struct {
		name string
		nsum int
		// run is the exported pass; kernel the selected kernel, oracle the generic one
		// (sums: dw, and db for LayerNorm).
		run, kernel, oracle func(dx []float32, sums [][]float32, x, w, a, b, dy []float32, rows, cols int)
	}
	rmsOf := func(f func(dx, dw, x, w, inv, dy []float32, rows, cols int)) func(dx []float32, sums [][]float32, x, w, a, b, dy []float32, rows, cols int) {
		return func(dx []float32, sums [][]float32, x, w, a, _, dy []float32, rows, cols int) {
			f(dx, sums[0], x, w, a, dy, rows, cols)
		}
	}
	lnOf := func(f func(dx, dw, db, x, w, mean, rstd, dy []float32, rows, cols int)) func(dx []float32, sums [][]float32, x, w, a, b, dy []float32, rows, cols int) {
		return func(dx []float32, sums [][]float32, x, w, a, b, dy []float32, rows, cols int) {
			f(dx, sums[0], sums[1], x, w, a, b, dy, rows, cols)
		}
	}
	norms := []norm{
		{"rmsnorm", 1, rmsOf(RMSNormRowsBackward), rmsOf(rmsNormRowsBackwardOp.use), rmsOf(rmsNormRowsBackwardGeneric)},
		{"rmsnorm_add", 1, rmsOf(RMSNormRowsBackwardAdd), rmsOf(rmsNormRowsBackwardAddOp.use), rmsOf(rmsNormRowsBackwardAddGeneric)},
		{"layernorm", 2, lnOf(LayerNormRowsBackward), lnOf(layerNormRowsBackOp.use), lnOf(layerNormRowsBackwardGeneric)},
	}
	for _, c := range []struct {
		rows, cols int
		chunked    bool
	}{
		{1000, 96, true}, // the last chunk short
		{4096, 256, true},
		{256, 512, false}, // one chunk
		{600, 64, false},  // fewer values than parallelMinValues
	} {
		for _, nm := range norms {
			name := fmt.Sprintf("%s/%dx%d", nm.name, c.rows, c.cols)
			n := c.rows * c.cols
			x, dy, dx0 := fillVec(rng, n, 1, false), fillVec(rng, n, 1, false), fillVec(rng, n, 1, false)
			w := fillVec(rng, c.cols, 1, false)
			sums0 := [][]float32{fillVec(rng, c.cols, 1, false), fillVec(rng, c.cols, 1, false)}[:nm.nsum]
			a, b := make([]float32, c.rows), make([]float32, c.rows)
			for i := range a {
				a[i], b[i] = float32(0.5+rng.Float64()), float32(0.5+rng.Float64())
			}
			clone := func() [][]float32 {
				out := make([][]float32, nm.nsum)
				for i := range out {
					out[i] = slices.Clone(sums0[i])
				}
				return out
			}
			call := func(threads int) ([]float32, [][]float32) {
				defer SetThreads(SetThreads(threads))
				dx, sums := slices.Clone(dx0), clone()
				nm.run(dx, sums, x, w, a, b, dy, c.rows, c.cols)
				return dx, sums
			}
			dx1, sums1 := call(1)
			for _, threads := range []int{2, 3} {
				dx, sums := call(threads)
				sameBits(t, fmt.Sprintf("%s threads=%d dx", name, threads), dx, dx1)
				for i := range sums {
					sameBits(t, fmt.Sprintf("%s threads=%d sum %d", name, threads, i), sums[i], sums1[i])
				}
			}
			// dx: the kernel over all rows at once; the sums: chunk sums in order, or one call.
			dxWant, sumsWant := slices.Clone(dx0), clone()
			if !c.chunked {
				nm.kernel(dxWant, sumsWant, x, w, a, b, dy, c.rows, c.cols)
			} else {
				scratch := [][]float32{make([]float32, c.cols), make([]float32, c.cols)}[:nm.nsum]
				nm.kernel(dxWant, scratch, x, w, a, b, dy, c.rows, c.cols)
				for r0 := 0; r0 < c.rows; r0 += normBackChunkRows {
					r1 := min(c.rows, r0+normBackChunkRows)
					part := [][]float32{make([]float32, c.cols), make([]float32, c.cols)}[:nm.nsum]
					nm.kernel(slices.Clone(dx0[r0*c.cols:r1*c.cols]), part, x[r0*c.cols:r1*c.cols], w, a[r0:r1], b[r0:r1], dy[r0*c.cols:r1*c.cols], r1-r0, c.cols)
					for i := range part {
						addOp.use(sumsWant[i], sumsWant[i], part[i])
					}
				}
			}
			sameBits(t, name+" dx", dx1, dxWant)
			for i := range sumsWant {
				sameBits(t, fmt.Sprintf("%s sum %d", name, i), sums1[i], sumsWant[i])
			}
			// The oracle: the generic kernel over all rows, one sum per column.
			sumsOracle := clone()
			nm.oracle(slices.Clone(dx0), sumsOracle, x, w, a, b, dy, c.rows, c.cols)
			for i := range sumsOracle {
				for k, v := range sumsOracle[i] {
					if d := math.Abs(float64(sums1[i][k] - v)); d > 1e-4*(1+math.Abs(float64(v))) {
						t.Fatalf("%s: sum %d [%d] = %v, the generic oracle %v", name, i, k, sums1[i][k], v)
					}
				}
			}
		}
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}
