package ops

import (
	"fmt"
	"time"
)

// Gemm computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X, or Xᵀ when the
// matching trans flag is set. op(A) is m×k, op(B) is k×n and C is m×n; all are
// row-major with leading dimensions lda, ldb, ldc. When beta is 0, C is only written.
// The work is split over Threads() goroutines.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if profiling.Load() {
		defer profiledProduct(ProductShape{"Gemm", transA, transB, 1, m, n, k}, time.Now())
	}
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	gemmOp.use(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmSegment is one product of GemmSegments: N columns of op(B) (B, leading dimension
// LDB, k×N as op(B) or N×k stored transposed) and of C (m×N, leading dimension LDC),
// with the product's Beta.
type GemmSegment struct {
	N    int
	B    []float32
	LDB  int
	Beta float32
	C    []float32
	LDC  int
}

// GemmSegments computes C_s = alpha·op(A)·op(B_s) + Beta_s·C_s for every segment s:
// products that share op(A) (m×k), as the weight gradients of projections of one input
// do (xᵀ·dq, xᵀ·dk, xᵀ·dv). It runs them as one product over the segments side by
// side, so op(A) is packed once for all of them (and split over the goroutines as one
// wider product), where Gemm would pack it once for each. Each C_s gets exactly what
// Gemm gives it alone. Segments of 0 columns are allowed.
func GemmSegments(transA, transB bool, m, k int, alpha float32, a []float32, lda int, segs []GemmSegment) {
	n := 0
	for _, s := range segs {
		if s.N < 0 {
			panic(fmt.Sprintf("ops: GemmSegments: a segment of %d columns", s.N))
		}
		checkGemm(transA, transB, m, s.N, k, a, lda, s.B, s.LDB, s.C, s.LDC)
		n += s.N
	}
	if profiling.Load() {
		defer profiledProduct(ProductShape{"Gemm", transA, transB, 1, m, n, k}, time.Now())
	}
	if m == 0 || n == 0 {
		return
	}
	ks := activeGemmKernels()
	joined := ks != nil && m > 1 && len(segs) <= maxSegments
	for i, s := range segs {
		joined = joined && (i == len(segs)-1 || s.N%ks.nr == 0)
	}
	if !joined {
		// The generic code, a single row or unaligned segments: one product each.
		for _, s := range segs {
			if s.N > 0 {
				gemmOp.use(transA, transB, m, s.N, k, alpha, a, lda, s.B, s.LDB, s.Beta, s.C, s.LDC)
			}
		}
		return
	}
	var buf [maxSegments]segment
	internal := buf[:0]
	for _, s := range segs {
		internal = append(internal, segment{n: s.N, b: s.B, ldb: s.LDB, beta: s.Beta, c: s.C, ldc: s.LDC})
	}
	ks.gemmSegs(workers(m*n*k), transA, transB, m, k, alpha, a, lda, internal, nil)
}

// maxSegments is the most segments GemmSegments joins into one product (more run one
// product each).
const maxSegments = 8

// GemmStrided computes batch independent products C_i = alpha·op(A_i)·op(B_i) + beta·C_i,
// where A_i starts at a[i·strideA], B_i at b[i·strideB] and C_i at c[i·strideC] (each as
// in Gemm). It is the shape of attention: one small product per (example, head).
func GemmStrided(transA, transB bool, batch, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int) {
	if profiling.Load() {
		defer profiledProduct(ProductShape{"GemmStrided", transA, transB, batch, m, n, k}, time.Now())
	}
	if !checkStrided(transA, transB, batch, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC) {
		return
	}
	gemmStrided(transA, transB, batch, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC)
}

// checkStrided checks the last product of a GemmStrided batch (the others lie before
// it) and reports whether there is anything to compute.
func checkStrided(transA, transB bool, batch, m, n, k int, a []float32, lda, strideA int, b []float32, ldb, strideB int, c []float32, ldc, strideC int) bool {
	if batch == 0 || m == 0 || n == 0 {
		return false
	}
	last := batch - 1
	checkGemm(transA, transB, m, n, k, a[min(last*strideA, len(a)):], lda, b[min(last*strideB, len(b)):], ldb, c[min(last*strideC, len(c)):], ldc)
	return true
}

// matrixSpan is how many elements an r×c row-major matrix with leading dimension ld spans.
func matrixSpan(r, c, ld int) int {
	if r == 0 || c == 0 {
		return 0
	}
	return (r-1)*ld + c
}

func checkMatrix(fn, name string, r, c int, x []float32, ld int) {
	if ld < max(c, 1) {
		panic(fmt.Sprintf("ops: %s: leading dimension of %s is %d, less than its %d columns", fn, name, ld, c))
	}
	if len(x) < matrixSpan(r, c, ld) {
		panic(fmt.Sprintf("ops: %s: %s has %d elements, a %d×%d matrix with leading dimension %d needs %d",
			fn, name, len(x), r, c, ld, matrixSpan(r, c, ld)))
	}
}

func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	checkGemmAC(transA, m, n, k, a, lda, c, ldc)
	if transB {
		checkMatrix("Gemm", "B", n, k, b, ldb)
	} else {
		checkMatrix("Gemm", "B", k, n, b, ldb)
	}
}

// checkGemmAC is checkGemm without B (a gated PackedB holds only its panels).
func checkGemmAC(transA bool, m, n, k int, a []float32, lda int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("ops: Gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	if transA {
		checkMatrix("Gemm", "A", k, m, a, lda)
	} else {
		checkMatrix("Gemm", "A", m, k, a, lda)
	}
	checkMatrix("Gemm", "C", m, n, c, ldc)
}

// GridGatedGemm computes, for each example e < batch,
//
//	C_e = A_e·(B ⊙ φ(G_e)) + beta·C_e
//
// where A_e is the e-th group of rows rows of A (rows×k, leading dimension lda), B is k×n,
// C_e is the e-th group of rows rows of C (rows×n), G_e = g[e·gr·gc : (e+1)·gr·gc] is a
// row-major gr×gc grid and φ repeats each grid cell over a contiguous (k/gr)×(n/gc) block:
// φ(G_e)[p][q] = G_e[p/(k/gr)][q/(n/gc)]. gr must divide k and gc must divide n; a
// row-only grid has gc = 1, a column-only grid gr = 1. The gated weight is never
// materialised: the cost is that of one Gemm of (batch·rows)×k by k×n.
func GridGatedGemm(batch, rows, k, n, gr, gc int, a []float32, lda int, b []float32, ldb int, g []float32, beta float32, c []float32, ldc int) {
	if profiling.Load() {
		defer profiledProduct(ProductShape{"GridGatedGemm", false, false, batch, rows, n, k}, time.Now())
	}
	checkGated("GridGatedGemm", batch, rows, k, n, gr, gc, g)
	checkMatrix("GridGatedGemm", "A", batch*rows, k, a, lda)
	checkMatrix("GridGatedGemm", "B", k, n, b, ldb)
	checkMatrix("GridGatedGemm", "C", batch*rows, n, c, ldc)
	if batch == 0 || rows == 0 || n == 0 {
		return
	}
	gridGatedOp.use(batch, rows, k, n, gr, gc, a, lda, b, ldb, g, beta, c, ldc)
}

// GridGatedGemmGradA is the backward product for the input of GridGatedGemm: for each
// example e, dA_e = dC_e·(B ⊙ φ(G_e))ᵀ + beta·dA_e, with dC_e rows×n and dA_e rows×k
// laid out as C and A are in GridGatedGemm.
func GridGatedGemmGradA(batch, rows, k, n, gr, gc int, dc []float32, lddc int, b []float32, ldb int, g []float32, beta float32, da []float32, ldda int) {
	if profiling.Load() {
		defer profiledProduct(ProductShape{"GridGatedGemmGradA", false, false, batch, rows, n, k}, time.Now())
	}
	checkGated("GridGatedGemmGradA", batch, rows, k, n, gr, gc, g)
	checkMatrix("GridGatedGemmGradA", "dC", batch*rows, n, dc, lddc)
	checkMatrix("GridGatedGemmGradA", "B", k, n, b, ldb)
	checkMatrix("GridGatedGemmGradA", "dA", batch*rows, k, da, ldda)
	if batch == 0 || rows == 0 || k == 0 {
		return
	}
	gridGatedGradAOp.use(batch, rows, k, n, gr, gc, dc, lddc, b, ldb, g, beta, da, ldda)
}

// GridGatedGemmGradBG is the backward product for the weight and the gates of
// GridGatedGemm. It accumulates
//
//	dB      += Σ_e (A_eᵀ·dC_e) ⊙ φ(G_e)                  (k×n, leading dimension lddb)
//	dG_e[i][j] += Σ_{(p,q) in block (i,j)} (A_eᵀ·dC_e)[p][q] · B[p][q]
//
// where dg is laid out as g. Either of db and dg may be nil to skip it. The per-example
// products A_eᵀ·dC_e are never stored whole; the cost is about one Gemm.
func GridGatedGemmGradBG(batch, rows, k, n, gr, gc int, a []float32, lda int, dc []float32, lddc int, b []float32, ldb int, g []float32, db []float32, lddb int, dg []float32) {
	if profiling.Load() {
		defer profiledProduct(ProductShape{"GridGatedGemmGradBG", false, false, batch, rows, n, k}, time.Now())
	}
	checkGated("GridGatedGemmGradBG", batch, rows, k, n, gr, gc, g)
	checkMatrix("GridGatedGemmGradBG", "A", batch*rows, k, a, lda)
	checkMatrix("GridGatedGemmGradBG", "dC", batch*rows, n, dc, lddc)
	checkMatrix("GridGatedGemmGradBG", "B", k, n, b, ldb)
	if db != nil {
		checkMatrix("GridGatedGemmGradBG", "dB", k, n, db, lddb)
	}
	if dg != nil {
		checkLen("GridGatedGemmGradBG: dG", batch*gr*gc, dg)
	}
	if batch == 0 || k == 0 || n == 0 || (db == nil && dg == nil) {
		return
	}
	gridGatedGradBGOp.use(batch, rows, k, n, gr, gc, a, lda, dc, lddc, b, ldb, g, db, lddb, dg)
}

func checkGated(fn string, batch, rows, k, n, gr, gc int, g []float32) {
	if batch < 0 || rows < 0 || k < 0 || n < 0 {
		panic(fmt.Sprintf("ops: %s: negative dimension batch=%d rows=%d k=%d n=%d", fn, batch, rows, k, n))
	}
	if gr <= 0 || gc <= 0 || k%gr != 0 || n%gc != 0 {
		panic(fmt.Sprintf("ops: %s: a %d×%d grid does not tile a %d×%d weight (rows must divide k, cols must divide n)", fn, gr, gc, k, n))
	}
	checkLen(fn+": G", batch*gr*gc, g)
}
