package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRMSNormBackwardChunks checks RMSNorm's backward passes on inputs large enough to
// run chunk by chunk (rmsBackChunkRows): the same bits at 1, 2 and 3 threads; those of
// the kernel run chunk by chunk into zeroed sums added into dw in chunk order; dx the
// kernel's over all rows at once; and dw within rounding of the generic oracle's. Small
// inputs (one chunk, or fewer values than parallelMinValues) keep the kernel's one-call
// bits.
func TestRMSNormBackwardChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, c := range []struct {
		rows, cols int
		chunked    bool
	}{
		{1000, 96, true}, // the last chunk short
		{4096, 256, true},
		{256, 512, false}, // one chunk
		{600, 64, false},  // fewer values than parallelMinValues
	} {
		for _, add := range []bool{false, true} {
			name := fmt.Sprintf("%dx%d/add=%v", c.rows, c.cols, add)
			run, kernel := RMSNormRowsBackward, rmsNormRowsBackwardOp.use
			if add {
				run, kernel = RMSNormRowsBackwardAdd, rmsNormRowsBackwardAddOp.use
			}
			n := c.rows * c.cols
			x, dy, dx0 := fillVec(rng, n, 1, false), fillVec(rng, n, 1, false), fillVec(rng, n, 1, false)
			w, dw0 := fillVec(rng, c.cols, 1, false), fillVec(rng, c.cols, 1, false)
			inv := make([]float32, c.rows)
			for i := range inv {
				inv[i] = float32(0.5 + rng.Float64())
			}
			call := func(threads int) (dx, dw []float32) {
				defer SetThreads(SetThreads(threads))
				dx, dw = slices.Clone(dx0), slices.Clone(dw0)
				run(dx, dw, x, w, inv, dy, c.rows, c.cols)
				return dx, dw
			}
			dx1, dw1 := call(1)
			for _, threads := range []int{2, 3} {
				dx, dw := call(threads)
				sameBits(t, name+fmt.Sprintf(" threads=%d dx", threads), dx, dx1)
				sameBits(t, name+fmt.Sprintf(" threads=%d dw", threads), dw, dw1)
			}
			// dx: the kernel over all rows at once; dw: chunk sums in order, or one call.
			dxWant, dwWant := slices.Clone(dx0), slices.Clone(dw0)
			if !c.chunked {
				kernel(dxWant, dwWant, x, w, inv, dy, c.rows, c.cols)
			} else {
				kernel(dxWant, make([]float32, c.cols), x, w, inv, dy, c.rows, c.cols)
				for r0 := 0; r0 < c.rows; r0 += rmsBackChunkRows {
					r1 := min(c.rows, r0+rmsBackChunkRows)
					sum := make([]float32, c.cols)
					kernel(make([]float32, (r1-r0)*c.cols), sum, x[r0*c.cols:r1*c.cols], w, inv[r0:r1], dy[r0*c.cols:r1*c.cols], r1-r0, c.cols)
					addOp.use(dwWant, dwWant, sum)
				}
			}
			sameBits(t, name+" dx", dx1, dxWant)
			sameBits(t, name+" dw", dw1, dwWant)
			// The oracle: the generic kernel over all rows, one sum per column.
			dwOracle := slices.Clone(dw0)
			rmsNormRowsBackwardGeneric(make([]float32, n), dwOracle, x, w, inv, dy, c.rows, c.cols)
			for i := range dwOracle {
				if d := math.Abs(float64(dw1[i] - dwOracle[i])); d > 1e-4*(1+math.Abs(float64(dwOracle[i]))) {
					t.Fatalf("%s: dw[%d] = %v, the generic oracle %v", name, i, dw1[i], dwOracle[i])
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
