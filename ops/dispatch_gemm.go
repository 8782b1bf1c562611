package ops

var (
	gemmOp            = newOp("gemm", gemmGeneric)
	gridGatedOp       = newOp("grid_gated_gemm", gridGatedGemmGeneric)
	gridGatedGradAOp  = newOp("grid_gated_gemm_grad_a", gridGatedGemmGradAGeneric)
	gridGatedGradBGOp = newOp("grid_gated_gemm_grad_bg", gridGatedGemmGradBGGeneric)
)

// gemmStrided runs the batch of products one after another through the selected Gemm.
func gemmStrided(transA, transB bool, batch, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int) {
	for i := 0; i < batch; i++ {
		gemmOp.use(transA, transB, m, n, k, alpha, a[i*strideA:], lda, b[i*strideB:], ldb, beta, c[i*strideC:], ldc)
	}
}
