package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ParallelFor covers every item exactly once, whatever the threads and the cost.
func TestParallelFor(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		prev := SetThreads(threads)
		for _, n := range []int{0, 1, 2, 5, 17, 64} {
			for _, cost := range []int{0, 1, 1 << 20} {
				hits := make([]atomic.Int32, n)
				var calls atomic.Int32
				parts := Parts(n, cost)
				seen := make([]atomic.Int32, max(parts, 1))
				ParallelFor(n, cost, func(part, lo, hi int) {
					calls.Add(1)
					if part < 0 || part >= parts {
						t.Errorf("threads %d, n %d: part %d of %d", threads, n, part, parts)
						return
					}
					seen[part].Add(1)
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
				if c := int(calls.Load()); c != parts || c > max(1, min(threads, n)) {
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

// ParallelRangeIn runs at most the parts it is given, whatever the threads are now
// (another goroutine may have changed them since the caller sized its scratch), and
// covers every item exactly once with no empty range.
func TestParallelRangeIn(t *testing.T) {
	for _, threads := range []int{1, 2, 8} {
		prev := SetThreads(threads)
		for _, n := range []int{0, 1, 2, 5, 7, 17} {
			for _, parts := range []int{0, 1, 2, 3, 4, 6, 40} {
				hits := make([]atomic.Int32, n)
				var calls atomic.Int32
				ParallelRangeIn(parts, n, RangeFunc(func(part, lo, hi int) {
					calls.Add(1)
					if part < 0 || part >= max(parts, 1) || lo >= hi {
						t.Errorf("threads %d, %d parts of %d: part %d gets [%d, %d)", threads, parts, n, part, lo, hi)
					}
					for i := lo; i < hi; i++ {
						hits[i].Add(1)
					}
				}))
				for i := range hits {
					if h := hits[i].Load(); h != 1 {
						t.Errorf("threads %d, %d parts of %d: item %d run %d times", threads, parts, n, i, h)
					}
				}
				if c := int(calls.Load()); c > max(parts, 1) || (n > 0 && c == 0) {
					t.Errorf("threads %d, %d parts of %d: %d ranges", threads, parts, n, c)
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

// Parallel operations nest: the parts of a ParallelFor may run parallel kernels (here
// a Gemm split over the threads, and a nested ParallelFor) without deadlock, with
// more nested parts than workers.
func TestParallelNested(t *testing.T) {
	defer SetThreads(SetThreads(8))
	const m = 96
	a, b := make([]float32, m*m), make([]float32, m*m)
	for i := range a {
		a[i], b[i] = float32(i%7)-3, float32(i%5)-2
	}
	want := make([]float32, m*m)
	gemmGeneric(false, false, m, m, m, 1, a, m, b, m, 0, want, m)
	outs := make([][]float32, 16)
	var inner atomic.Int32
	ParallelFor(len(outs), 1<<20, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			outs[i] = make([]float32, m*m)
			Gemm(false, false, m, m, m, 1, a, m, b, m, 0, outs[i], m)
			ParallelFor(8, 1<<20, func(_, lo, hi int) { inner.Add(int32(hi - lo)) })
		}
	})
	for i, c := range outs {
		if !slices.Equal(c, want) {
			t.Fatalf("nested Gemm %d differs from the generic product", i)
		}
	}
	if inner.Load() != 16*8 {
		t.Errorf("nested loops ran %d items, want %d", inner.Load(), 16*8)
	}
}

// The vector and row kernels split long inputs over the threads: the results are the
// same bit for bit as on one thread, for every ISA.
func TestVectorKernelsSplitBitIdentical(t *testing.T) {
	restoreISA(t)
	const rows, cols = 300, 517 // 155,100 values: split; odd sizes leave tails
	n := rows * cols
	rng := rand.New(rand.NewPCG(9, 10))
	x, y, z := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], y[i], z[i] = rng.Float32()*6-3, rng.Float32()*2-1, rng.Float32()
	}
	w, b := y[:cols], z[:cols]
	prev := SetThreads(3)
	if !bigVector(n) || Parts((n+63)/64, 8*64) < 2 || Parts(rows, 8*cols) < 2 {
		t.Fatal("the test's inputs are too small to be split over 3 threads")
	}
	SetThreads(prev)
	kernels := map[string]func() []float32{
		"Axpy":    func() []float32 { d := slices.Clone(y); Axpy(0.3, x, d); return d },
		"Scale":   func() []float32 { d := slices.Clone(x); Scale(-1.7, d); return d },
		"Add":     func() []float32 { d := make([]float32, n); Add(d, x, y); return d },
		"Mul":     func() []float32 { d := make([]float32, n); Mul(d, x, y); return d },
		"MulAdd":  func() []float32 { d := slices.Clone(z); MulAdd(d, x, y); return d },
		"Exp":     func() []float32 { d := make([]float32, n); Exp(d, x); return d },
		"Sigmoid": func() []float32 { d := make([]float32, n); Sigmoid(d, x); return d },
		"SigmoidBackward": func() []float32 {
			d := make([]float32, n)
			SigmoidBackward(d, z, y)
			return d
		},
		"GELU":         func() []float32 { d := make([]float32, n); GELU(d, x); return d },
		"GELUBackward": func() []float32 { d := make([]float32, n); GELUBackward(d, x, y); return d },
		"ReLU":         func() []float32 { d := make([]float32, n); ReLU(d, x); return d },
		"ReLUBackward": func() []float32 { d := make([]float32, n); ReLUBackward(d, x, y); return d },
		"SiLU":         func() []float32 { d := make([]float32, n); SiLU(d, x); return d },
		"SiLUBackward": func() []float32 { d := make([]float32, n); SiLUBackward(d, x, y); return d },
		"SoftmaxRows":  func() []float32 { d := make([]float32, n); SoftmaxRows(d, x, rows, cols); return d },
		"SoftmaxRowsBackward": func() []float32 {
			d := make([]float32, n)
			SoftmaxRowsBackward(d, z, y, rows, cols)
			return d
		},
		"RMSNormRows": func() []float32 {
			d, inv := make([]float32, n), make([]float32, rows)
			RMSNormRows(d, x, w, rows, cols, 1e-6, inv)
			return append(d, inv...)
		},
		"LayerNormRows": func() []float32 {
			d, mean, rstd := make([]float32, n), make([]float32, rows), make([]float32, rows)
			LayerNormRows(d, x, w, b, rows, cols, 1e-6, mean, rstd)
			return append(append(d, mean...), rstd...)
		},
	}
	for _, isa := range KnownISAs {
		if !supported(isa) {
			continue
		}
		if err := SetISA(isa); err != nil {
			t.Fatal(err)
		}
		for name, k := range kernels {
			prev := SetThreads(1)
			want := k()
			SetThreads(3)
			got := k()
			SetThreads(prev)
			if !slices.Equal(got, want) {
				t.Errorf("%s %s: 3 threads differ from 1", isa, name)
			}
		}
	}
}

// Parallel sections complete, every part run once, whether the workers are polling
// (sections back to back), asleep (a pause longer than workerSpin between sections),
// or shared by several goroutines calling at once (a server's requests).
func TestParallelWorkersPollSleepShare(t *testing.T) {
	defer SetThreads(SetThreads(4))
	var ran atomic.Int64
	section := func() {
		ParallelFor(4, 1<<20, func(_, lo, hi int) { ran.Add(int64(hi - lo)) })
	}
	for i := range 20 {
		section()
		if i%5 == 4 {
			time.Sleep(3 * workerSpin)
		}
	}
	if ran.Load() != 20*4 {
		t.Fatalf("sections ran %d parts, want %d", ran.Load(), 20*4)
	}
	ran.Store(0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				section()
			}
		}()
	}
	wg.Wait()
	if ran.Load() != 8*200*4 {
		t.Fatalf("concurrent sections ran %d parts, want %d", ran.Load(), 8*200*4)
	}
}

// BenchmarkParallelSection is the cost of a parallel section of two parts of the given
// length, between 50 µs of serial work (a training step's rhythm: its sections are
// 100 µs-scale products and loops, a few hundred a step). A section costs its part plus
// a few µs when the workers take their part at once; the part again when the other
// goroutine's part waits for a sleeping processor to wake.
//
//	go test -run '^$' -bench ParallelSection ./ops
func BenchmarkParallelSection(b *testing.B) {
	defer SetThreads(SetThreads(2))
	busy := func(d time.Duration) {
		for t0 := time.Now(); time.Since(t0) < d; {
		}
	}
	for _, d := range []time.Duration{0, 20 * time.Microsecond, 100 * time.Microsecond} {
		b.Run("part="+d.String(), func(b *testing.B) {
			for b.Loop() {
				parallel(2, func(int) { busy(d) })
				busy(50 * time.Microsecond)
			}
		})
	}
}
