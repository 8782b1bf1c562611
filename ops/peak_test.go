package ops

import (
	"math"
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
	for _, threads := range []int{1, 2} {
		if gb := streamGBps(threads, 30*time.Millisecond, 16<<20); !(gb > 0) || math.IsInf(gb, 0) {
			t.Errorf("streamGBps(%d) = %v", threads, gb)
		}
	}
}

// StreamGBps streams over twice the L3 (bounded), so that it measures memory.
func TestStreamBytes(t *testing.T) {
	for _, c := range []struct{ l3, want int }{
		{0, 64 << 20},        // no L3 reported
		{2 << 20, 64 << 20},  // small L3: the floor
		{960 << 20, 1 << 30}, // a VM's 480 MiB per core, 2 cores: the cap
	} {
		if got := streamBytes(c.l3); got != c.want {
			t.Errorf("L3 of %d bytes: streamBytes %d, want %d", c.l3, got, c.want)
		}
	}
}
