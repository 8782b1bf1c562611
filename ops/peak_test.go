package ops

import (
	"testing"
	"time"
)

// Every FMA-peak variant does the work it claims: n iterations of accs chains of
// acc += m1·m2 sum to accs·n·m1·m2 (exact with these values).
func TestFMAPeakKernels(t *testing.T) {
	fmaPeakOp.forEach(func(isa ISA, k peakKernel) {
		for _, n := range []int{0, 1, 7, 1000} {
			buf := [2]float32{0.5, 0.25}
			k.run(n, &buf[0])
			if want := float32(k.accs*n) * 0.125; buf[0] != want {
				t.Errorf("%s: %d iterations of %d chains give %v, want %v", isa, n, k.accs, buf[0], want)
			}
		}
	})
}

func TestPeakGFLOPS(t *testing.T) {
	if g := PeakGFLOPS(1, 30*time.Millisecond); !(g > 0) {
		t.Errorf("PeakGFLOPS(1) = %v", g)
	}
}

func TestStreamGBps(t *testing.T) {
	if gb := StreamGBps(1, 30*time.Millisecond); !(gb > 0) {
		t.Errorf("StreamGBps(1) = %v", gb)
	}
}
