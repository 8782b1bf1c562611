package ops

import (
	"fmt"
	"time"
)

// PackedB is the right operand op(B) of a Gemm packed once, into the micro-panels the
// blocked products read, for several products against it: GemmPacked computes what
// Gemm computes, bit for bit, without packing B again. A caller cuts one large product
// into row blocks this way (each block's result still in cache for what comes next)
// at the cost of one packing, not one per block.
//
// A PackedB holds a pooled buffer of about k·n values; Release hands it back. It stays
// tied to the instruction set active when it was packed.
type PackedB struct {
	k      *gemmKernels // nil: the generic product, which reads b itself
	transB bool
	kk, n  int
	b      []float32
	ldb    int
	buf    *[]float32
	panels []float32 // each k block of kc steps: roundUp(n, nr)·kc values
	gated  bool      // GatePacked's copy: panels only (b is nil)
}

// PackB packs op(B) (k×n: B itself, or Bᵀ of the n×k matrix b when transB) for
// GemmPacked. b must stay unchanged until the last GemmPacked with it. A profile counts
// it as an operation of its own, "PackB" (its packing time is also in ProfilePacking).
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	if profiling.Load() {
		defer profiled("PackB", time.Now(), 0)
	}
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("ops: PackB: negative dimension k=%d n=%d", k, n))
	}
	if transB {
		checkMatrix("PackB", "B", n, k, b, ldb)
	} else {
		checkMatrix("PackB", "B", k, n, b, ldb)
	}
	return activeGemmKernels().packAllB(transB, k, n, b, ldb)
}

// packAllB is PackB for kernels k (nil: generic, which packs nothing).
func (k *gemmKernels) packAllB(transB bool, kk, n int, b []float32, ldb int) *PackedB {
	p := &PackedB{k: k, transB: transB, kk: kk, n: n, b: b, ldb: ldb}
	if k == nil || kk == 0 || n == 0 {
		return p
	}
	npad := roundUp(n, k.nr)
	p.buf = getBuf(npad * kk)
	p.panels = (*p.buf)[:npad*kk]
	// The micro-panels of every k block, side by side: unit u is panel u mod panels of
	// k block u / panels (a copy: the same panels however they are split).
	panels, blocks := npad/k.nr, (kk+k.kc-1)/k.kc
	ParallelFor(blocks*panels, packCost*k.kc*k.nr, func(_, lo, hi int) {
		for u := lo; u < hi; {
			kb, j := u/panels, u%panels
			end := min(hi, (kb+1)*panels)
			pc, j0 := kb*k.kc, j*k.nr
			kc := min(k.kc, kk-pc)
			k.packB(p.panels[pc*npad+j0*kc:], b, ldb, transB, pc, kc, j0, min(n, (end-kb*panels)*k.nr)-j0, k.nr)
			u = end
		}
	})
	return p
}

// packCost is what copying one value counts for against the multiply-adds that
// ParallelFor's threshold is set in: packing small weights stays on one goroutine.
const packCost = 4

// Release returns the packed panels to the pool; p must not be used afterwards.
func (p *PackedB) Release() {
	if p.buf != nil {
		putBuf(p.buf)
	}
	*p = PackedB{}
}

// GemmPacked computes C = alpha·op(A)·op(B) + beta·C as Gemm(transA, transB, m, n, k,
// alpha, a, lda, b, ldb, beta, c, ldc) would, bit for bit, with op(B) (k×n) from p.
func GemmPacked(transA bool, m int, alpha float32, a []float32, lda int, p *PackedB, beta float32, c []float32, ldc int) {
	if profiling.Load() {
		defer profiledProduct(ProductShape{"Gemm", transA, p.transB, 1, m, p.n, p.kk}, time.Now())
	}
	p.gemm(false, transA, m, alpha, a, lda, beta, c, ldc)
}

// GemmPackedSerial is GemmPacked on the calling goroutine alone, for callers that run
// their own blocks side by side (the same bits: every element of C gets the same sums
// in the same order however a product is split).
func GemmPackedSerial(transA bool, m int, alpha float32, a []float32, lda int, p *PackedB, beta float32, c []float32, ldc int) {
	if profiling.Load() {
		defer profiledProduct(ProductShape{"Gemm", transA, p.transB, 1, m, p.n, p.kk}, time.Now())
	}
	p.gemm(true, transA, m, alpha, a, lda, beta, c, ldc)
}

// gemm is GemmPacked, or GemmPackedSerial when serial.
func (p *PackedB) gemm(serial, transA bool, m int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int) {
	if p.gated {
		checkGemmAC(transA, m, p.n, p.kk, a, lda, c, ldc)
	} else {
		checkGemm(transA, p.transB, m, p.n, p.kk, a, lda, p.b, p.ldb, c, ldc)
	}
	if m == 0 || p.n == 0 {
		return
	}
	switch {
	case p.k == nil && serial:
		gemmSerialOp.use(transA, p.transB, m, p.n, p.kk, alpha, a, lda, p.b, p.ldb, beta, c, ldc)
	case p.k == nil:
		gemmOp.use(transA, p.transB, m, p.n, p.kk, alpha, a, lda, p.b, p.ldb, beta, c, ldc)
	case serial:
		p.k.gemmPre(1, transA, p.transB, m, p.n, p.kk, alpha, a, lda, p.b, p.ldb, beta, c, ldc, p.panels)
	default:
		p.k.gemmPre(workers(m*p.n*p.kk), transA, p.transB, m, p.n, p.kk, alpha, a, lda, p.b, p.ldb, beta, c, ldc, p.panels)
	}
}

// GridGatedGemmPackedSerial is GridGatedGemm on the calling goroutine alone, with the
// weight B from p (PackB(false, k, n, B, ldb)), for callers that run their own blocks of
// examples side by side: the same bits as GridGatedGemm (each example gates its own copy
// of the packed panels, as there).
func GridGatedGemmPackedSerial(batch, rows, gr, gc int, a []float32, lda int, p *PackedB, g []float32, beta float32, c []float32, ldc int) {
	k, n := p.kk, p.n
	if profiling.Load() {
		defer profiledProduct(ProductShape{"GridGatedGemm", false, false, batch, rows, n, k}, time.Now())
	}
	if p.transB {
		panic("ops: GridGatedGemmPackedSerial: the weight is packed transposed (PackB(false, …) packs it for this product)")
	}
	checkGated("GridGatedGemmPackedSerial", batch, rows, k, n, gr, gc, g)
	checkMatrix("GridGatedGemmPackedSerial", "A", batch*rows, k, a, lda)
	checkMatrix("GridGatedGemmPackedSerial", "C", batch*rows, n, c, ldc)
	if batch == 0 || rows == 0 || n == 0 {
		return
	}
	if p.k == nil || k == 0 {
		gridGatedGemmGeneric(batch, rows, k, n, gr, gc, a, lda, p.b, p.ldb, g, beta, c, ldc)
		return
	}
	overwrite := scaleForBlocks(batch*rows, n, beta, c, ldc)
	p.k.gridGatedBlocked(1, batch, rows, k, n, gr, gc, a, lda, p.panels, g, c, ldc, overwrite)
}

// GridGatedGemmGradAPackedSerial is GridGatedGemmGradA on the calling goroutine alone,
// with the weight B (k×n) from p = PackB(true, n, k, B, ldb), its transpose packed: the
// same bits as GridGatedGemmGradA.
func GridGatedGemmGradAPackedSerial(batch, rows, gr, gc int, dc []float32, lddc int, p *PackedB, g []float32, beta float32, da []float32, ldda int) {
	n, k := p.kk, p.n // p holds Bᵀ, n×k
	if profiling.Load() {
		defer profiledProduct(ProductShape{"GridGatedGemmGradA", false, false, batch, rows, n, k}, time.Now())
	}
	if !p.transB {
		panic("ops: GridGatedGemmGradAPackedSerial: the weight is not packed transposed (PackB(true, n, k, …) packs it for this product)")
	}
	checkGated("GridGatedGemmGradAPackedSerial", batch, rows, k, n, gr, gc, g)
	checkMatrix("GridGatedGemmGradAPackedSerial", "dC", batch*rows, n, dc, lddc)
	checkMatrix("GridGatedGemmGradAPackedSerial", "dA", batch*rows, k, da, ldda)
	if batch == 0 || rows == 0 || k == 0 {
		return
	}
	if p.k == nil || n == 0 {
		gridGatedGemmGradAGeneric(batch, rows, k, n, gr, gc, dc, lddc, p.b, p.ldb, g, beta, da, ldda)
		return
	}
	overwrite := scaleForBlocks(batch*rows, k, beta, da, ldda)
	p.k.gridGatedGradABlocked(1, batch, rows, k, n, gr, gc, dc, lddc, p.panels, g, da, ldda, overwrite)
}
