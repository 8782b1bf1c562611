package ops

import "time"

// ParallelFor runs f over [0, n) split into contiguous ranges, one per part, on
// Parts(n, cost) goroutines, and returns when all are done; part numbers the ranges
// from 0, so that a caller can give each part scratch space of its own. cost is the
// work of one item (multiply-adds, or values touched): a loop of too little work in
// all runs as one part on the calling goroutine. It is for loops of independent
// items — attention's examples, chunks of a long vector — that gain more from running
// whole items side by side than from splitting each. f may call any kernel: inside
// it, GemmStridedSerial keeps small products whole.
func ParallelFor(n, cost int, f func(part, lo, hi int)) {
	parts := Parts(n, cost)
	if parts == 0 {
		return
	}
	if parts == 1 {
		f(0, 0, n)
		return
	}
	chunk := (n + parts - 1) / parts
	parallel(parts, func(part int) {
		f(part, part*chunk, min(n, (part+1)*chunk))
	})
}

// Parts is how many parts ParallelFor(n, cost, f) runs: at most Threads() and n, and 1
// when n·cost is below the size worth splitting.
func Parts(n, cost int) int {
	if n <= 0 {
		return 0
	}
	parts := min(Threads(), n)
	if cost > 0 && n*cost < 2*parallelMinFlops {
		return 1
	}
	chunk := (n + parts - 1) / parts
	return (n + chunk - 1) / chunk
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
