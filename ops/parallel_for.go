package ops

import (
	"sync"
	"time"
)

// RangeRunner is the body of a ParallelRange loop: RunRange(part, lo, hi) does items
// [lo, hi), the part-th range.
type RangeRunner interface{ RunRange(part, lo, hi int) }

// RangeFunc adapts a function to RangeRunner.
type RangeFunc func(part, lo, hi int)

// RunRange calls f(part, lo, hi).
func (f RangeFunc) RunRange(part, lo, hi int) { f(part, lo, hi) }

// ParallelFor runs f over [0, n) split into contiguous ranges, one per part, on
// Parts(n, cost) goroutines, and returns when all are done; part numbers the ranges
// from 0, so that a caller can give each part scratch space of its own. cost is the
// work of one item (multiply-adds, or values touched): a loop of too little work in
// all runs as one part on the calling goroutine. It is for loops of independent
// items — attention's examples, chunks of a long vector — that gain more from running
// whole items side by side than from splitting each. f may call any kernel: inside
// it, GemmStridedSerial keeps small products whole. (The closure f is allocated; a
// loop that must not allocate uses ParallelRange with a reused RangeRunner.)
func ParallelFor(n, cost int, f func(part, lo, hi int)) { ParallelRange(n, cost, RangeFunc(f)) }

// ParallelRange is ParallelFor with the loop's body as a RangeRunner: with a runner
// the caller reuses (a pointer to a struct it keeps), a call allocates nothing.
func ParallelRange(n, cost int, r RangeRunner) { ParallelRangeIn(Parts(n, cost), n, r) }

// ParallelRangeIn is ParallelRange in the given number of parts, a count that Parts
// gave the caller: a loop that sizes scratch space per part passes the count it sized
// it for, so that another goroutine's SetThreads between the two calls cannot make
// more parts than there is scratch for.
func ParallelRangeIn(parts, n int, r RangeRunner) {
	if n <= 0 {
		return
	}
	if parts <= 1 {
		r.RunRange(0, 0, n)
		return
	}
	chunk := (n + parts - 1) / parts
	parts = (n + chunk - 1) / chunk // no empty part
	j := rangeJobPool.Get().(*rangeJob)
	*j = rangeJob{r: r, chunk: chunk, n: n}
	parallelRun(parts, j)
	*j = rangeJob{}
	rangeJobPool.Put(j)
}

// rangeJob is one parallel ParallelRange: part p runs the p-th range.
type rangeJob struct {
	r        RangeRunner
	chunk, n int
}

var rangeJobPool = sync.Pool{New: func() any { return new(rangeJob) }}

func (j *rangeJob) runPart(p int) { j.r.RunRange(p, p*j.chunk, min(j.n, (p+1)*j.chunk)) }

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
		defer profiledProduct(ProductShape{"GemmStrided", transA, transB, batch, m, n, k}, time.Now())
	}
	if !checkStrided(transA, transB, batch, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC) {
		return
	}
	for i := range batch {
		gemmSerialOp.use(transA, transB, m, n, k, alpha, a[i*strideA:], lda, b[i*strideB:], ldb, beta, c[i*strideC:], ldc)
	}
}
