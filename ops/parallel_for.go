package ops

import "time"

// ParallelFor runs f over [0, n) split into contiguous ranges, one per goroutine of
// Threads() (fewer when n·cost, the multiply-adds of the whole loop with cost per
// item, is too little to be worth splitting), and returns when all are done. It is
// for loops of independent small products — attention's per-example products, say —
// that gain more from running whole items side by side than from splitting each
// product. f must not call the parallel kernels (Gemm, GemmStrided, the grid-gated
// products): inside f, use GemmStridedSerial and the row kernels, which run on the
// calling goroutine.
func ParallelFor(n, cost int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	parts := min(Threads(), n)
	if cost > 0 && n*cost < 2*parallelMinFlops {
		parts = 1
	}
	if parts <= 1 {
		f(0, n)
		return
	}
	chunk := (n + parts - 1) / parts
	parts = (n + chunk - 1) / chunk
	parallel(parts, func(part int) {
		f(part*chunk, min(n, (part+1)*chunk))
	})
}

// GemmStridedSerial is GemmStrided on the calling goroutine alone: the same products,
// bit for bit, for use inside ParallelFor.
func GemmStridedSerial(transA, transB bool, batch, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int) {
	if profiling.Load() {
		defer profiled("GemmStrided", time.Now(), gemmFlops(batch, m, n, k))
	}
	if batch == 0 || m == 0 || n == 0 {
		return
	}
	last := batch - 1
	checkGemm(transA, transB, m, n, k, a[min(last*strideA, len(a)):], lda, b[min(last*strideB, len(b)):], ldb, c[min(last*strideC, len(c)):], ldc)
	for i := range batch {
		gemmSerialOp.use(transA, transB, m, n, k, alpha, a[i*strideA:], lda, b[i*strideB:], ldb, beta, c[i*strideC:], ldc)
	}
}
