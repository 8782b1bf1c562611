package ops

import "sync"

var (
	gemmOp            = newOp("gemm", gemmGeneric)
	gemmSerialOp      = newOp("gemm_serial", gemmGeneric)
	gridGatedOp       = newOp("grid_gated_gemm", gridGatedGemmGeneric)
	gridGatedGradAOp  = newOp("grid_gated_gemm_grad_a", gridGatedGemmGradAGeneric)
	gridGatedGradBGOp = newOp("grid_gated_gemm_grad_bg", gridGatedGemmGradBGGeneric)
)

// gemmStrided runs the batch of products through the selected Gemm. Products too small
// to split (each runs on one goroutine) are spread over the goroutines instead; larger
// ones run one after another, each split as usual (parts never nest).
func gemmStrided(transA, transB bool, batch, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int) {
	if workers(m*n*k) > 1 || batch == 1 || Threads() == 1 {
		for i := 0; i < batch; i++ {
			gemmOp.use(transA, transB, m, n, k, alpha, a[i*strideA:], lda, b[i*strideB:], ldb, beta, c[i*strideC:], ldc)
		}
		return
	}
	parts := min(Threads(), batch, max(1, batch*m*n*k/parallelMinFlops))
	j := stridedJobPool.Get().(*stridedJob)
	*j = stridedJob{transA, transB, batch, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, parts}
	parallelRun(parts, j)
	*j = stridedJob{}
	stridedJobPool.Put(j)
}

// stridedJob is one parallel GemmStrided: part p runs products p, p+parts, ...
type stridedJob struct {
	transA, transB      bool
	batch, m, n, k      int
	alpha               float32
	a                   []float32
	lda, strideA        int
	b                   []float32
	ldb, strideB        int
	beta                float32
	c                   []float32
	ldc, strideC, parts int
}

var stridedJobPool = sync.Pool{New: func() any { return new(stridedJob) }}

func (j *stridedJob) runPart(part int) {
	for i := part; i < j.batch; i += j.parts {
		gemmOp.use(j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a[i*j.strideA:], j.lda, j.b[i*j.strideB:], j.ldb, j.beta, j.c[i*j.strideC:], j.ldc)
	}
}
