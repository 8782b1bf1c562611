package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
)

// ParallelFor covers every item exactly once, whatever the threads and the cost.
func TestParallelFor(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		prev := SetThreads(threads)
		for _, n := range []int{0, 1, 2, 5, 17, 64} {
			for _, cost := range []int{0, 1, 1 << 20} {
				hits := make([]atomic.Int32, n)
				var calls atomic.Int32
				ParallelFor(n, cost, func(lo, hi int) {
					calls.Add(1)
					if lo >= hi {
						t.Errorf("threads %d, n %d: empty range [%d, %d)", threads, n, lo, hi)
					}
					for i := lo; i < hi; i++ {
						hits[i].Add(1)
					}
				})
				for i := range hits {
					if h := hits[i].Load(); h != 1 {
						t.Errorf("threads %d, n %d, cost %d: item %d run %d times", threads, n, cost, i, h)
					}
				}
				if c := int(calls.Load()); c > max(1, min(threads, n)) || (n > 0 && c == 0) {
					t.Errorf("threads %d, n %d, cost %d: %d ranges", threads, n, cost, c)
				}
				if cost == 1 && n > 0 && calls.Load() != 1 {
					t.Errorf("threads %d, n %d: a cheap loop was split into %d ranges", threads, n, calls.Load())
				}
			}
		}
		SetThreads(prev)
	}
}

// GemmStridedSerial gives GemmStrided's products bit for bit, for every ISA, and its
// serial Gemm variants equal the generic Gemm.
func TestGemmStridedSerial(t *testing.T) {
	restoreISA(t)
	rng := rand.New(rand.NewPCG(7, 8))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return x
	}
	for _, isa := range KnownISAs {
		if !supported(isa) {
			continue
		}
		if err := SetISA(isa); err != nil {
			t.Fatal(err)
		}
		for _, s := range [][4]int{{4, 128, 128, 64}, {3, 7, 9, 5}, {2, 64, 64, 128}, {1, 200, 33, 70}} {
			batch, m, n, k := s[0], s[1], s[2], s[3]
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}} {
				name := fmt.Sprintf("%s/%v/trans=%v", isa, s, tr)
				a, b := fill(batch*m*k), fill(batch*k*n)
				lda, ldb := k, n
				if tr[0] {
					lda = m
				}
				if tr[1] {
					ldb = k
				}
				c0 := fill(batch * m * n)
				want, got := slices.Clone(c0), slices.Clone(c0)
				prev := SetThreads(3)
				GemmStrided(tr[0], tr[1], batch, m, n, k, 0.7, a, lda, m*k, b, ldb, k*n, 0.5, want, n, m*n)
				SetThreads(prev)
				GemmStridedSerial(tr[0], tr[1], batch, m, n, k, 0.7, a, lda, m*k, b, ldb, k*n, 0.5, got, n, m*n)
				if !slices.Equal(got, want) {
					t.Errorf("%s: GemmStridedSerial differs from GemmStrided", name)
				}
				ref := slices.Clone(c0)
				for i := range batch {
					gemmGeneric(tr[0], tr[1], m, n, k, 0.7, a[i*m*k:], lda, b[i*k*n:], ldb, 0.5, ref[i*m*n:], n)
				}
				for i := range ref {
					if d := got[i] - ref[i]; d > 1e-3 || d < -1e-3 {
						t.Errorf("%s: element %d is %v, the generic Gemm gives %v", name, i, got[i], ref[i])
						break
					}
				}
			}
		}
	}
}
