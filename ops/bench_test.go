package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// gemmShape is one benchmarked product: op(A) m×k, op(B) k×n.
type gemmShape struct {
	name       string
	m, n, k    int
	transA, tB bool
}

// benchShapes are the acceptance shapes: a square product and the two training shapes of
// a 256→1024→256 feed-forward layer over 32×128 tokens, with the transposes backward uses
// (both weight gradients: op(A) = Aᵀ with k the 4096 tokens); and t5-mini's output
// projection forward and its weight gradient.
var benchShapes = []gemmShape{
	{"1024x1024x1024", 1024, 1024, 1024, false, false},
	{"4096x1024x256", 4096, 1024, 256, false, false},
	{"4096x256x1024", 4096, 256, 1024, false, false},
	{"4096x256x1024/NT", 4096, 256, 1024, false, true},
	{"1024x256x4096/TN", 1024, 256, 4096, true, false},
	{"256x1024x4096/TN", 256, 1024, 4096, true, false},
	// The output projection of 8 target tokens over a vocabulary of 8000 (fewRowsNC).
	{"256x8000x256", 256, 8000, 256, false, false},
	{"256x8000x256/TN", 256, 8000, 256, true, false},
}

func benchOperands(m, n, k int, ta, tb bool) (a []float32, lda int, b []float32, ldb int, c []float32) {
	rng := rand.New(rand.NewPCG(1, 1))
	lda, ldb = k, n
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	return randSlice(rng, m*k), lda, randSlice(rng, k*n), ldb, make([]float32, m*n)
}

func reportGflops(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGemm runs every Gemm variant this CPU supports on each shape, 1 and 2 threads.
func BenchmarkGemm(b *testing.B) {
	for _, s := range benchShapes {
		a, lda, bb, ldb, c := benchOperands(s.m, s.n, s.k, s.transA, s.tB)
		for _, threads := range []int{1, 2} {
			gemmOp.forEach(func(isa ISA, fn func(bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int)) {
				if isa == Generic {
					return // the oracle is far too slow to time here; see BenchmarkGemmGeneric
				}
				b.Run(fmt.Sprintf("%s/%s/threads=%d", s.name, isa, threads), func(b *testing.B) {
					prev := SetThreads(threads)
					defer SetThreads(prev)
					for b.Loop() {
						fn(s.transA, s.tB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
					}
					reportGflops(b, 2*float64(s.m)*float64(s.n)*float64(s.k))
				})
			})
		}
	}
}

// BenchmarkGemmGonum is the pure-Go peer: gonum's blas32 Sgemm at 1024³.
func BenchmarkGemmGonum(b *testing.B) {
	const n = 1024
	a, _, bb, _, c := benchOperands(n, n, n, false, false)
	A := blas32.General{Rows: n, Cols: n, Stride: n, Data: a}
	B := blas32.General{Rows: n, Cols: n, Stride: n, Data: bb}
	C := blas32.General{Rows: n, Cols: n, Stride: n, Data: c}
	for b.Loop() {
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, A, B, 0, C)
	}
	reportGflops(b, 2*n*n*n)
}

// BenchmarkGemmGeneric times the plain-loop oracle on a small product.
func BenchmarkGemmGeneric(b *testing.B) {
	const n = 128
	a, _, bb, _, c := benchOperands(n, n, n, false, false)
	for b.Loop() {
		gemmGeneric(false, false, n, n, n, 1, a, n, bb, n, 0, c, n)
	}
	reportGflops(b, 2*n*n*n)
}

// BenchmarkGridGated compares the grid-gated products with the plain Gemms of the same
// shape (batch 32 × 128 rows, k=1024 → n=256, grid 32×32), as the acceptance asks.
func BenchmarkGridGated(b *testing.B) {
	// The t5-mini-hypergrid wo layer: encoder (128 tokens per example), decoder (8), and
	// greedy generation's decoder steps (1 token per example).
	for _, rows := range []int{128, 8, 1} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) { benchGridGated(b, rows) })
	}
}

func benchGridGated(b *testing.B, rows int) {
	const batch, k, n, gr, gc = 32, 1024, 256, 32, 32
	m := batch * rows
	rng := rand.New(rand.NewPCG(2, 2))
	a, w, g := randSlice(rng, m*k), randSlice(rng, k*n), randSlice(rng, batch*gr*gc)
	c, dc, da, dw, dg := make([]float32, m*n), randSlice(rng, m*n), make([]float32, m*k), make([]float32, k*n), make([]float32, batch*gr*gc)
	flops := 2 * float64(m) * float64(n) * float64(k)
	for _, threads := range []int{1, 2} {
		run := func(name string, flops float64, f func()) {
			b.Run(fmt.Sprintf("%s/%s/threads=%d", name, ActiveISA(), threads), func(b *testing.B) {
				prev := SetThreads(threads)
				defer SetThreads(prev)
				for b.Loop() {
					f()
				}
				reportGflops(b, flops)
			})
		}
		run("forward/plain", flops, func() { Gemm(false, false, m, n, k, 1, a, k, w, n, 0, c, n) })
		run("forward/gated", flops, func() { GridGatedGemm(batch, rows, k, n, gr, gc, a, k, w, n, g, 0, c, n) })
		run("backward/plain", 2*flops, func() {
			Gemm(false, true, m, k, n, 1, dc, n, w, n, 0, da, k)
			Gemm(true, false, k, n, m, 1, a, k, dc, n, 1, dw, n)
		})
		run("backward/gated", 2*flops, func() {
			GridGatedGemmGradA(batch, rows, k, n, gr, gc, dc, n, w, n, g, 0, da, k)
			GridGatedGemmGradBG(batch, rows, k, n, gr, gc, a, k, dc, n, w, n, g, dw, n, dg)
		})
	}
}

// BenchmarkGemmBlocking times the selected ISA's Gemm at 1 thread on the acceptance
// shapes with the cache blocking derived for this CPU and with neighbours of it (each
// of kc, mc, nc halved and doubled, within what the buffers allow): where a neighbour
// is clearly faster on some CPU, deriveBlocking's rule is worth revisiting there.
func BenchmarkGemmBlocking(b *testing.B) {
	k := blockedGemmOrSkip(b)
	derived := k.blocking
	defer func() { k.blocking = derived }()
	step := lcm(k.mr, k.gradMR)
	cands := []struct {
		name string
		bl   blocking
	}{
		{"derived", derived},
		{"kc/2", blocking{max(derived.kc/2/16*16, 16), derived.mc, derived.nc}},
		{"kc*2", blocking{derived.kc * 2, derived.mc, derived.nc}},
		{"mc/2", blocking{derived.kc, max(derived.mc/2/step*step, step), derived.nc}},
		{"mc*2", blocking{derived.kc, derived.mc * 2, derived.nc}},
		{"nc/2", blocking{derived.kc, derived.mc, max(derived.nc/2/k.nr*k.nr, k.nr)}},
	}
	prev := SetThreads(1)
	defer SetThreads(prev)
	for _, s := range benchShapes {
		a, lda, bb, ldb, c := benchOperands(s.m, s.n, s.k, s.transA, s.tB)
		for _, cand := range cands {
			b.Run(fmt.Sprintf("%s/%s(%v)", s.name, cand.name, cand.bl), func(b *testing.B) {
				k.blocking = cand.bl
				for b.Loop() {
					k.gemm(s.transA, s.tB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
				}
				reportGflops(b, 2*float64(s.m)*float64(s.n)*float64(s.k))
			})
		}
	}
}

// BenchmarkGemmDirectA times the selected ISA's Gemm at 1 thread with A read in place
// by the direct kernels and with A packed, on the acceptance shapes whose A is not
// transposed and on attention's per-head products (128 tokens, 64 per head). Run it
// with -count: the two paths alternate, so a noisy machine affects both alike.
func BenchmarkGemmDirectA(b *testing.B) {
	k := activeGemmKernels()
	if k == nil || k.kernelDirect == nil {
		b.Skip("the selected ISA has no direct kernels")
	}
	defer func(prev bool) { directA = prev }(directA)
	prev := SetThreads(1)
	defer SetThreads(prev)
	shapes := append(benchShapes[:len(benchShapes):len(benchShapes)],
		gemmShape{"128x128x64/NT", 128, 128, 64, false, true},
		gemmShape{"128x64x128", 128, 64, 128, false, false},
		gemmShape{"4096x256x256", 4096, 256, 256, false, false})
	for _, s := range shapes {
		if s.transA {
			continue
		}
		a, lda, bb, ldb, c := benchOperands(s.m, s.n, s.k, s.transA, s.tB)
		b.Run(s.name, func(b *testing.B) {
			// The paths alternate call by call, each going first every other time; each
			// reports its own rate.
			var took [2]time.Duration
			for iter := 0; b.Loop(); iter++ {
				for j := range 2 {
					i := (iter + j) % 2
					directA = i == 0
					start := time.Now()
					k.gemm(s.transA, s.tB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
					took[i] += time.Since(start)
				}
			}
			flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
			b.ReportMetric(flops/took[0].Seconds()/1e9, "GFLOP/s-direct")
			b.ReportMetric(flops/took[1].Seconds()/1e9, "GFLOP/s-packed")
			b.ReportMetric(took[0].Seconds()/took[1].Seconds(), "direct/packed")
		})
	}
}

// BenchmarkGemmOneRow times the one-row path (gemvRow) against the blocked path on the
// products of a greedy decoding step: scores against transposed cached keys (1×128×64),
// the weighted values (1×64×128) and scores against a short self-attention cache
// (1×8×64, B transposed).
func BenchmarkGemmOneRow(b *testing.B) {
	k := blockedGemmOrSkip(b)
	a, bb, c := make([]float32, 128), make([]float32, 256*128), make([]float32, 128)
	for _, s := range []struct {
		name       string
		n, kk, ldb int
		transB     bool
	}{{"1x128x64", 128, 64, 128, false}, {"1x64x128", 64, 128, 256, false}, {"1x8x64/T", 8, 64, 256, true}} {
		b.Run(s.name+"/row", func(b *testing.B) {
			for b.Loop() {
				k.gemmOn(1, false, s.transB, 1, s.n, s.kk, 0.5, a, s.kk, bb, s.ldb, 0, c, s.n)
			}
		})
		b.Run(s.name+"/blocked", func(b *testing.B) {
			for b.Loop() {
				k.gemmSerial(false, s.transB, 0, 1, 0, s.n, s.kk, 0.5, a, s.kk, []segment{{n: s.n, b: bb, ldb: s.ldb, c: c, ldc: s.n, overwrite: true}}, nil)
			}
		})
	}
}

// BenchmarkGemmFewRows times products of fewer rows than the smallest micro-tile
// (fewRows, row by row through the one-row path) against the blocked path: a decoder's
// m target tokens times a head's values (m×64×128, B read in place with a leading
// dimension of 256), and m rows through a 256×1024 weight. Whole tiles (m = gradMR) for
// comparison go to the blocked path either way.
func BenchmarkGemmFewRows(b *testing.B) {
	k := activeGemmKernels()
	if k == nil || k.gemvWidth == 0 {
		b.Skip("the selected ISA has no one-row path")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, s := range []struct{ n, kk, ldb int }{{64, 128, 256}, {1024, 256, 1024}} {
		a, bb := randSlice(rng, k.gradMR*s.kk), randSlice(rng, s.kk*s.ldb)
		c := make([]float32, k.gradMR*s.n)
		for _, m := range []int{2, 4, k.gradMR - 1, k.gradMR} {
			name := fmt.Sprintf("%dx%dx%d", m, s.n, s.kk)
			b.Run(name+"/rows", func(b *testing.B) {
				for b.Loop() {
					k.gemmOn(1, false, false, m, s.n, s.kk, 1, a, s.kk, bb, s.ldb, 0, c, s.n)
				}
				b.ReportMetric(2*float64(m*s.n*s.kk)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			b.Run(name+"/blocked", func(b *testing.B) {
				for b.Loop() {
					k.gemmSerial(false, false, 0, m, 0, s.n, s.kk, 1, a, s.kk, []segment{{n: s.n, b: bb, ldb: s.ldb, c: c, ldc: s.n, overwrite: true}}, nil)
				}
				b.ReportMetric(2*float64(m*s.n*s.kk)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkPack times the selected ISA's packing of one kc×nr-panel block of B and one
// mc×kc block of A, plain and transposed, from an L2-resident source (GB/s of floats
// packed): attention's keys (B transposed) and the backward pass's weights are packed
// through the transposed paths.
func BenchmarkPack(b *testing.B) {
	k := blockedGemmOrSkip(b)
	const rows, cols = 256, 256
	src := randSlice(rand.New(rand.NewPCG(5, 6)), rows*cols)
	kc, mc, nc := min(k.kc, rows), min(k.mc, rows)/k.mr*k.mr, cols/k.nr*k.nr
	dst := make([]float32, max(kc*nc, mc*kc))
	for _, trans := range []bool{false, true} {
		b.Run(fmt.Sprintf("B/trans=%v", trans), func(b *testing.B) {
			b.SetBytes(int64(4 * kc * nc))
			for b.Loop() {
				k.packB(dst, src, cols, trans, 0, kc, 0, nc, k.nr)
			}
		})
		b.Run(fmt.Sprintf("A/trans=%v", trans), func(b *testing.B) {
			b.SetBytes(int64(4 * mc * kc))
			for b.Loop() {
				k.packA(dst, src, cols, trans, 0, mc, 0, kc, k.mr, 1)
			}
		})
	}
}

// BenchmarkPackFromMemory times packing op(A) = Aᵀ of a weight gradient's activations
// (t5-mini's 4096 tokens × 1024, 16 MiB: beyond L2, read from L3 or memory) block by
// block as the products do: kc×mc blocks into mr-wide panels (the plain weight
// gradient) and an example's 128 rows into gradMR-wide panels (the grid-gated one);
// then packing them as B (dY's side of a weight gradient).
// The source's rows are 4 KiB apart, so this is where the copy kernels' prefetch of
// the next band of rows pays (GB/s of floats packed).
func BenchmarkPackFromMemory(b *testing.B) {
	k := blockedGemmOrSkip(b)
	const m, kd = 4096, 1024
	src := randSlice(rand.New(rand.NewPCG(7, 8)), m*kd)
	for _, s := range []struct {
		name   string
		kc, mr int
	}{{"plain", k.kc, k.mr}, {"gated", 128, k.gradMR}} {
		mc := max(k.mc/s.mr, 1) * s.mr
		dst := make([]float32, mc*s.kc)
		b.Run(fmt.Sprintf("%s/kc=%d/mr=%d", s.name, s.kc, s.mr), func(b *testing.B) {
			b.SetBytes(4 * m * kd)
			for b.Loop() {
				for pc := 0; pc < m; pc += s.kc {
					for ic := 0; ic < kd; ic += mc {
						k.packA(dst, src, kd, true, ic, min(mc, kd-ic), pc, min(s.kc, m-pc), s.mr, 1)
					}
				}
			}
		})
	}
	// The same activations as B (the weight gradient's other operand, dY, is read so):
	// kc×n blocks of rows into nr-wide panels, every column at once (nc covers them).
	dst := make([]float32, k.kc*kd)
	b.Run(fmt.Sprintf("B/kc=%d/nr=%d", k.kc, k.nr), func(b *testing.B) {
		b.SetBytes(4 * m * kd)
		for b.Loop() {
			for pc := 0; pc < m; pc += k.kc {
				k.packB(dst, src, kd, false, pc, min(k.kc, m-pc), 0, kd, k.nr)
			}
		}
	})
}

// blockedGemmOrSkip returns the selected ISA's blocked Gemm kernels, skipping the
// benchmark where it has none (the generic Go code).
func blockedGemmOrSkip(b *testing.B) *gemmKernels {
	b.Helper()
	k := activeGemmKernels()
	if k == nil {
		b.Skip("the selected ISA has no blocked Gemm")
	}
	return k
}
