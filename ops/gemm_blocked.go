package ops

import "sync"

// This is the BLIS-structured matmul driver shared by every SIMD instruction set:
// it packs panels of A and B into contiguous, zero-padded micro-panels (gemm_pack.go),
// blocks for the caches, splits the work over goroutines (pool.go) and calls the ISA's
// register-blocked micro-kernel on each mr×nr tile of C. The grid-gated products reuse
// it (gemm_gated.go): the gate of an example is folded into its copy of the packed
// weight panel (forward and input gradient), or applied to each tile as it leaves the
// registers (weight and gate gradient), so no per-example weight is ever materialised.

// gemmKernels is one instruction set's micro-kernels, registered by the generated code.
type gemmKernels struct {
	isa    ISA
	mr, nr int
	// kernel adds the mr×nr tile Ap·Bp (kc steps of packed panels) into c (leading dimension ldc).
	kernel func(kc int, a, b, c *float32, ldc int)
	// kernelSet stores the tile Ap·Bp into c without reading it (the first k block when beta is 0).
	kernelSet func(kc int, a, b, c *float32, ldc int)
	// kernelDirect and kernelDirectSet, where present, are kernel and kernelSet reading
	// the tile's mr rows of A in place (leading dimension lda) instead of a packed panel,
	// with the same bits; the driver uses them where A needs no packing (see gemmSerial).
	kernelDirect    func(kc int, a *float32, lda int, b, c *float32, ldc int)
	kernelDirectSet func(kc int, a *float32, lda int, b, c *float32, ldc int)
	// gradMR is the height of the weight/gate-gradient tiles, and gradKernel and
	// gradKernelSet the plain kernels of that height (also used by the per-example
	// products when gradMR divides an example's rows and mr does not).
	gradMR        int
	gradKernel    func(kc int, a, b, c *float32, ldc int)
	gradKernelSet func(kc int, a, b, c *float32, ldc int)
	// gradTile computes the tile P = Ap·Bp and folds it in: db[r] += P[r] ⊙ g; h += Σ_r P[r] ⊙ w[r].
	gradTile func(kc int, a, b, db *float32, lddb int, w *float32, ldw int, g, h *float32)
	// gateRows computes dst[r][:] = src[r][:] ⊙ vec[:] for rows rows of nr values.
	gateRows func(rows int, dst, src, vec *float32)
	// scaleRows computes dst[r][:] = src[r][:]·s[r] for rows rows of nr values.
	scaleRows func(rows int, dst, src, s *float32)
	// gemvStrip stores acc[0:gemvWidth] = Σ_{p<kc} a[p]·b[p·ldb:][:gemvWidth], each
	// value the micro-kernels' chain of fused multiply-adds (gemvRow).
	gemvStrip func(kc int, a, b *float32, ldb int, acc *float32)
	// gemvGatedStrip computes acc[0:gemvWidth] = Σ_{p<kc} a[p]·(b[p·ldb:][:gemvWidth] ⊙
	// g), each gated value rounded as gateRows rounds it, then the same chain of fused
	// multiply-adds, from zero or (add ≠ 0) from acc: a gated product's row (gatedRows).
	gemvGatedStrip func(kc int, a, b *float32, ldb int, g, acc *float32, add int)
	gemvWidth      int
	// expandRuns writes dst[j·bw + q] = src[j] for j < count, q < bw (expandCols).
	expandRuns func(count int, dst, src *float32, bw int)
	// copyGroups[w] copies n groups of w floats, group i from src + i·srcStride to
	// dst + i·dstStride: the packers' copy of a micro-panel whose steps are pieces of
	// the source's rows, for each micro-tile width w.
	copyGroups map[int]func(n int, dst, src *float32, dstStride, srcStride int)
	// interleave[w], where present, packs w rows for 16·blocks steps:
	// dst[p·w + r] = alpha·src[r·ld + p].
	interleave map[int]func(blocks int, dst, src *float32, ld int, alpha float32)
	// blocking is the cache blocking, derived from this CPU's caches at registration.
	blocking
}

// Below this many multiply-adds a product runs on one goroutine.
const parallelMinFlops = 1 << 18

// registeredGemmKernels lists the micro-kernels of every ISA compiled in (supported or not).
var registeredGemmKernels []*gemmKernels

// activeGemmKernels returns the micro-kernels of the ISA the Gemm runs with, nil for the
// generic Go code.
func activeGemmKernels() *gemmKernels {
	for _, k := range registeredGemmKernels {
		if k.isa == gemmOp.useISA {
			return k
		}
	}
	return nil
}

func registerGemmKernels(k *gemmKernels) bool {
	if k.kernel == nil || k.kernelSet == nil || k.gradKernel == nil || k.gradKernelSet == nil || k.gradTile == nil ||
		k.gateRows == nil || k.scaleRows == nil || k.copyGroups == nil {
		panic("ops: incomplete micro-kernel set for " + string(k.isa))
	}
	if k.gemvWidth > gemvMaxW {
		panic("ops: gemvStrip of " + string(k.isa) + " is wider than gemvScratch's strip")
	}
	k.blocking = deriveBlocking(detectCaches(), k.mr, k.nr, k.gradMR)
	registeredGemmKernels = append(registeredGemmKernels, k)
	gemmOp.add(k.isa, k.gemm)
	gemmSerialOp.add(k.isa, k.gemmOne)
	gridGatedOp.add(k.isa, k.gridGated)
	gridGatedGradAOp.add(k.isa, k.gridGatedGradA)
	gridGatedGradBGOp.add(k.isa, k.gridGatedGradBG)
	return true
}

// scaleC computes C = beta·C on an m×n matrix (beta 0 writes zeros without reading).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else {
			scaleOp.use(beta, row)
		}
	}
}

// scaleForBlocks readies an m×n C for a blocked product's k blocks: with beta 0 it
// leaves C alone and reports overwrite (the first k block stores its tiles without
// reading C); otherwise it scales C by beta and every block adds.
func scaleForBlocks(m, n int, beta float32, c []float32, ldc int) (overwrite bool) {
	if beta == 0 {
		return true
	}
	scaleC(m, n, beta, c, ldc)
	return false
}

// tile is a micro-kernel height with its accumulating and storing kernels.
type tile struct {
	mr       int
	add, set func(kc int, a, b, c *float32, ldc int)
}

func (k *gemmKernels) mainTile() tile { return tile{k.mr, k.kernel, k.kernelSet} }

// band is a range of rows run with one tile height.
type band struct {
	off, rows int
	t         tile
}

// bands splits mc rows of one example into at most two bands: the main tile height for
// as many rows as it covers whole, then the gradient tile height for the rest when that
// divides it (128 rows with 12-row tiles: 120 + 8), giving the main band back a tile or
// two where that makes the rest divide (16 rows: 8 + 8, not 12 and a 12-row tile for
// 4), so no tile is partial. Otherwise the main height covers everything and the last
// tile is partial.
func (k *gemmKernels) bands(mc int) (b [2]band, n int) {
	main := mc / k.mr * k.mr
	for (mc-main)%k.gradMR != 0 && main > 0 && mc-main < k.mr*k.gradMR {
		main -= k.mr
	}
	rest := mc - main
	if rest == 0 || rest%k.gradMR != 0 {
		return [2]band{{0, mc, k.mainTile()}}, 1
	}
	g := tile{k.gradMR, k.gradKernel, k.gradKernelSet}
	if main == 0 {
		return [2]band{{0, mc, g}}, 1
	}
	return [2]band{{0, main, k.mainTile()}, {main, rest, g}}, 2
}

// blockRows is the height of the row blocks of A that a product of rows rows is cut
// into: at most mc, and as even as the gradient tile height allows, so that no block is
// a sliver (256 rows with mc 240: 128 + 128, not 240 + 16 — a 16-row block reads all of
// B's packed panel again for two tiles).
func (k *gemmKernels) blockRows(rows int) int {
	blocks := (rows + k.mc - 1) / k.mc
	if blocks <= 1 {
		return max(rows, 1)
	}
	return min(k.mc, roundUp((rows+blocks-1)/blocks, k.gradMR))
}

// macroTile runs the micro-kernel over the mc×nc block of C at c (leading dimension ldc)
// from packed panels ap (mc rounded up to mr rows) and bp (nc rounded up to nr columns).
// Tiles that do not fill mr×nr go through scratch (mr·nr floats).
//
// With direct > 0 (a multiple of mr, tile t being the main tile), the first direct rows
// read A in place from a (leading dimension lda) through the direct kernels, and ap
// holds only the rows after them.
func (k *gemmKernels) macroTile(t tile, kc, mc, nc int, a []float32, lda, direct int, ap, bp []float32, c []float32, ldc int, scratch []float32, overwrite bool) {
	mr, nr := t.mr, k.nr
	kernel, kernelDirect := t.add, k.kernelDirect
	if overwrite {
		kernel, kernelDirect = t.set, k.kernelDirectSet
	}
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		b := &bp[jr*kc]
		for ir := 0; ir < mc; ir += mr {
			rows := min(mr, mc-ir)
			whole := rows == mr && cols == nr
			switch {
			case ir < direct && whole:
				kernelDirect(kc, &a[ir*lda], lda, b, &c[ir*ldc+jr], ldc)
				continue
			case ir < direct:
				k.kernelDirectSet(kc, &a[ir*lda], lda, b, &scratch[0], nr)
			case whole:
				kernel(kc, &ap[(ir-direct)*kc], b, &c[ir*ldc+jr], ldc)
				continue
			default:
				t.set(kc, &ap[(ir-direct)*kc], b, &scratch[0], nr)
			}
			storePartial(c[ir*ldc+jr:], ldc, rows, cols, scratch, nr, overwrite)
		}
	}
}

// storePartial stores (overwrite) or adds the first rows×cols values of a tile computed
// into scratch (leading dimension nr) into c (leading dimension ldc).
func storePartial(c []float32, ldc, rows, cols int, scratch []float32, nr int, overwrite bool) {
	for r := 0; r < rows; r++ {
		dst := c[r*ldc : r*ldc+cols]
		if overwrite {
			copy(dst, scratch[r*nr:r*nr+cols])
			continue
		}
		for j := range dst {
			dst[j] += scratch[r*nr+j]
		}
	}
}

// directA enables the direct kernels (a variable so tests and benchmarks can compare
// both paths).
var directA = true

// readsADirect reports whether the main tiles (height k.mr) of a block nc columns wide
// read A in place: the ISA has the direct kernels, A is not transposed (its rows are
// contiguous in k), alpha is 1 (packing would only copy), the rows do not crowd one L1
// set (rowsPerL1Set), and the block is at most maxDirectPanels micro-panels of B wide:
// each micro-panel reads the block's rows of A once more, and packed rows stream from
// L2 more cheaply than mr rows read side by side, so for wide enough blocks packing
// pays for itself. With A in cache it is a wash at 32 panels (BenchmarkGemmDirectA,
// Intel Xeon model 207, 1 thread: 2, 4 and 8 panels 14%, 5% and 2-4% faster in place;
// 32 panels between 2% faster and 2% slower; the same on one reporting model 167). In
// a training step A comes from memory, and packing it is a pass of its own while the
// direct kernels take it in their stride: on the model-167 machine the step's 32-panel
// products (4096×1024×256, A·B and A·Bᵀ) ran 2.5-6.5% faster in place, in profiled
// runs alternating with a build packing them.
func (k *gemmKernels) readsADirect(transA bool, alpha float32, lda, nc int) bool {
	return directA && k.kernelDirect != nil && !transA && alpha == 1 &&
		nc <= maxDirectPanels*k.nr && rowsPerL1Set(lda, k.mr) <= maxRowsPerL1Set
}

// maxDirectPanels is the widest block, in micro-panels of B, whose tiles read A in place.
const maxDirectPanels = 32 // the FFN's 1024-wide products

// A tile's rows of A read in place stay in L1 only if few of them fall in one L1 set:
// rows 4 KiB apart (lda a multiple of 1024 floats) all map to the same set of any
// current x86 or Arm L1D (4 KiB per way) and evict each other. Up to maxRowsPerL1Set
// rows per set, A is read in place; beyond, it is packed.
const (
	l1WayBytes      = 4096
	maxRowsPerL1Set = 4
)

// DirectLD is the leading dimension (in float32s) to give a row-major matrix of cols
// columns that products will take as their A operand: cols itself unless rows cols
// apart would crowd one L1 set (cols a multiple of 512, say: rows 2 or 4 KiB apart),
// else cols rounded up to 16 plus 16 more; below 64 columns, cols (such rows share a
// few lines). With it the micro-kernels read A's tiles in place instead of packing
// them (see readsADirect). It depends on cols alone, not on the CPU (it assumes tiles
// of up to 16 rows), so memory estimates do not either.
func DirectLD(cols int) int {
	ld := cols
	for cols >= 64 && ld < cols+64 && rowsPerL1Set(ld, directLDRows) > maxRowsPerL1Set {
		ld = roundUp(ld, 16) + 16
	}
	return ld
}

// directLDRows is the tile height DirectLD spreads over the L1 sets: at least every
// ISA's mr.
const directLDRows = 16

// rowsPerL1Set is the largest number of the first mr rows of a matrix with leading
// dimension lda (floats) whose first bytes fall in one L1 set.
func rowsPerL1Set(lda, mr int) int {
	var seen [l1WayBytes / 64]int
	worst := 0
	for r := range mr {
		set := r * lda * 4 % l1WayBytes / 64
		seen[set]++
		worst = max(worst, seen[set])
	}
	return worst
}

// gemm is the blocked Gemm: the same contract as gemmGeneric.
func (k *gemmKernels) gemm(transA, transB bool, m, n, kk int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	k.gemmOn(workers(m*n*kk), transA, transB, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmOne is gemm on the calling goroutine alone (GemmStridedSerial).
func (k *gemmKernels) gemmOne(transA, transB bool, m, n, kk int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	k.gemmOn(1, transA, transB, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmOn is gemm split over w goroutines. Every element of C gets the same sums in
// the same order whatever w is.
func (k *gemmKernels) gemmOn(w int, transA, transB bool, m, n, kk int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	k.gemmPre(w, transA, transB, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// gemmPre is gemmOn reading op(B) from pre, packed beforehand by packAllB, when pre is
// not nil: the same panels, so the same bits, without packing them again.
func (k *gemmKernels) gemmPre(w int, transA, transB bool, m, n, kk int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, pre []float32) {
	seg := [1]segment{{n: n, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}}
	k.gemmSegs(w, transA, transB, m, kk, alpha, a, lda, seg[:], pre)
}

// segment is one product of a segmented Gemm: columns [off, off+n) of the virtual
// op(B) and C, which are op(B_s) (b, ldb) and C_s (c, ldc), with its beta. overwrite is
// the driver's: beta is 0, so the first k block stores its tiles.
type segment struct {
	off, n    int
	b         []float32
	ldb       int
	beta      float32
	c         []float32
	ldc       int
	overwrite bool
}

// within is the part [lo, hi) of the virtual columns [jc, jc+nc) that are s's (empty
// when lo >= hi).
func (s *segment) within(jc, nc int) (lo, hi int) {
	return max(jc, s.off), min(jc+nc, s.off+s.n)
}

// gemmSegs computes each segment's product alpha·op(A)·op(B_s) + beta_s·C_s as one
// product whose op(B) and C are the segments side by side (every segment but the last a
// whole number of micro-panels wide), split over w goroutines: the tiles of every
// segment read the same packed blocks of A. Each C_s gets the same bits as a product
// of its own (a tile's sums do not depend on the blocks around it). pre, when not nil,
// is packAllB's op(B) of a single segment.
func (k *gemmKernels) gemmSegs(w int, transA, transB bool, m, kk int, alpha float32, a []float32, lda int, segs []segment, pre []float32) {
	n := 0
	for i := range segs {
		s := &segs[i]
		s.off, n = n, n+s.n
		if kk == 0 || alpha == 0 {
			scaleC(m, s.n, s.beta, s.c, s.ldc)
			continue
		}
		// With beta 0 the first k block overwrites C; otherwise C is scaled first and
		// every block accumulates.
		s.overwrite = scaleForBlocks(m, s.n, s.beta, s.c, s.ldc)
	}
	if kk == 0 || alpha == 0 {
		return
	}
	// The one-row and few-row paths read B in place: a gated PackedB (b nil) has none.
	if m == 1 && len(segs) == 1 && segs[0].b != nil && k.gemvRow(transA, transB, n, kk, alpha, a, lda, segs[0].b, segs[0].ldb, segs[0].c, segs[0].overwrite) {
		return
	}
	if k.fewRows(w, transA, transB, m, n, kk, alpha, a, lda, segs) {
		return
	}
	// Split the larger dimension of C into one contiguous range per goroutine, aligned to
	// the micro-tile so every goroutine but the last runs only full tiles.
	splitRows := m >= n
	dim, align := n, k.nr
	if splitRows {
		dim, align = m, k.mr
	}
	chunk := roundUp((dim+w-1)/w, align)
	parts := (dim + chunk - 1) / chunk
	if parts <= 1 {
		// No closure: a serial product allocates nothing.
		k.gemmSerial(transA, transB, 0, m, 0, n, kk, alpha, a, lda, segs, pre)
		return
	}
	j := gemmJobPool.Get().(*gemmJob)
	// The job keeps its own copy of the segments (segs does not outlive the call).
	kept := append(j.segs[:0], segs...)
	*j = gemmJob{k, transA, transB, m, n, kk, alpha, a, lda, kept, splitRows, chunk, dim, pre}
	parallelRun(parts, j)
	clear(kept)
	*j = gemmJob{segs: kept[:0]}
	gemmJobPool.Put(j)
}

// gemmJob is one parallel Gemm: part p computes the p-th range of rows or columns of C.
type gemmJob struct {
	k              *gemmKernels
	transA, transB bool
	m, n, kk       int
	alpha          float32
	a              []float32
	lda            int
	segs           []segment
	splitRows      bool
	chunk, dim     int
	pre            []float32
}

var gemmJobPool = sync.Pool{New: func() any { return new(gemmJob) }}

func (j *gemmJob) runPart(part int) {
	lo, hi := part*j.chunk, min((part+1)*j.chunk, j.dim)
	if j.splitRows {
		j.k.gemmSerial(j.transA, j.transB, lo, hi, 0, j.n, j.kk, j.alpha, j.a, j.lda, j.segs, j.pre)
	} else {
		j.k.gemmSerial(j.transA, j.transB, 0, j.m, lo, hi, j.kk, j.alpha, j.a, j.lda, j.segs, j.pre)
	}
}

// gemmSerial adds alpha·op(A)·op(B) into rows [i0,i1) and columns [j0,j1) of C, the
// segments side by side (see gemmSegs). With pre (packAllB's panels of all of op(B))
// it packs no B.
func (k *gemmKernels) gemmSerial(transA, transB bool, i0, i1, j0, j1, kk int, alpha float32, a []float32, lda int, segs []segment, pre []float32) {
	mcStep := k.blockRows(i1 - i0)
	kcMax := min(k.kc, kk)
	ncStep := k.nc
	if i1-i0 <= 2*mcStep {
		ncStep = min(ncStep, k.fewRowsNC(kcMax))
	}
	mcMax := min(k.mc, roundUp(i1-i0, k.mr)) + k.mr
	ncMax := min(ncStep, roundUp(j1-j0, k.nr))
	apb, scb := getBuf(mcMax*kcMax), getBuf(k.mr*k.nr)
	defer func() { putBuf(apb); putBuf(scb) }()
	var bp []float32
	if pre == nil {
		bpb := getBuf(ncMax * kcMax)
		defer putBuf(bpb)
		bp = *bpb
	}
	ap, scratch := *apb, *scb
	for jc := j0; jc < j1; jc += ncStep {
		nc := min(ncStep, j1-jc)
		aDirect := k.readsADirect(transA, alpha, lda, nc)
		for pc := 0; pc < kk; pc += k.kc {
			kc := min(k.kc, kk-pc)
			if pre != nil {
				// The k block at pc starts after pc whole steps of every panel (len(pre)/kk:
				// the columns rounded up to nr), its panel for column jc (a multiple of nr)
				// after jc columns of kc steps.
				bp = pre[pc*(len(pre)/kk)+jc*kc:]
			} else {
				for i := range segs {
					s := &segs[i]
					if lo, hi := s.within(jc, nc); lo < hi {
						k.packB(bp[(lo-jc)*kc:], s.b, s.ldb, transB, pc, kc, lo-s.off, hi-lo, k.nr)
					}
				}
			}
			for ic := i0; ic < i1; ic += mcStep {
				mc := min(mcStep, i1-ic)
				bs, nb := k.bands(mc)
				for _, bd := range bs[:nb] {
					row, direct, rowsA := ic+bd.off, 0, []float32(nil)
					if aDirect && bd.t.mr == k.mr {
						// Only the rows after the last whole tile are packed.
						direct, rowsA = bd.rows/k.mr*k.mr, a[row*lda+pc:]
					}
					k.packA(ap[bd.off*kc:], a, lda, transA, row+direct, bd.rows-direct, pc, kc, bd.t.mr, alpha)
					for i := range segs {
						s := &segs[i]
						if lo, hi := s.within(jc, nc); lo < hi {
							k.macroTile(bd.t, kc, bd.rows, hi-lo, rowsA, lda, direct, ap[bd.off*kc:], bp[(lo-jc)*kc:],
								s.c[row*s.ldc+lo-s.off:], s.ldc, scratch, s.overwrite && pc == 0)
						}
					}
				}
			}
		}
	}
}

// fewRowsNC is the width of the panels of B for a product whose rows of A make one or
// two blocks (the LM head's 256 decoder rows against 8000 vocabulary columns, say): a
// B panel of kc steps that fills half of L2 instead of k.nc's half of the L3 share.
// The panel is read once per block of A, and from L2 the second time costs less than
// the extra packing of A that more panels bring (one per panel, and A is small here).
// BenchmarkGemm 256x8000x256 (Intel Xeon model 167, 2 MiB L2: nc 4096 → 1024), builds
// alternating: 134-145 → 151-154 GFLOP/s at 1 thread, 268-283 → 292-297 at 2; the
// same products on four sets of operands in turn (from memory, as in a step): A·B
// 121-129 → 133-134, Aᵀ·B 116-120 → 127-129 at 1 thread.
func (k *gemmKernels) fewRowsNC(kc int) int {
	return max(k.nr, L2Bytes()/2/(4*kc)/k.nr*k.nr)
}

// fewRows runs a product of fewer rows than the smallest micro-tile (gradMR: the
// decoder's 2 to 7 target tokens against a head's keys, say) through the one-row path,
// row by row, where op(B) is read in place (not transposed, whole strips of gemvWidth
// columns) and the product runs on one goroutine (w 1, or too small to split): the
// blocked path would pack B for a handful of rows and compute every tile partly, through
// scratch. Each row gets the blocked path's bits (gemvRow). BenchmarkGemmFewRows
// (Intel Xeon model 167, AVX-512, blocked → row by row): m×64×128 2.83 → 0.80 µs at 2
// rows, 3.63 → 1.57 at 4, 3.69 → 2.68 at 7; m×1024×256 84.5 → 19.2 µs at 2 rows, 88.8 →
// 65.7 at 7; at 8 rows (a whole tile) the blocked path.
func (k *gemmKernels) fewRows(w int, transA, transB bool, m, n, kk int, alpha float32, a []float32, lda int, segs []segment) bool {
	if m < 2 || m >= k.gradMR || len(segs) != 1 || segs[0].b == nil || transB || !k.gemvFits(false, n) || n == 0 || n%k.gemvWidth != 0 ||
		(w > 1 && m*n*kk >= parallelMinFlops) {
		return false
	}
	s := &segs[0]
	for i := range m {
		ai := a[i:] // op(A)'s row i: a column of a transposed A
		if !transA {
			ai = a[i*lda:]
		}
		k.gemvRow(transA, false, n, kk, alpha, ai, lda, s.b, s.ldb, s.c[i*s.ldc:], s.overwrite) // fits: gemvFits
	}
	return true
}

// Bounds of the one-row path: the row's length, the k block, and the columns of a
// transposed op(B) (copied into one strip).
const (
	gemvRowMaxN = 4096
	gemvMaxKC   = 384
	gemvMaxW    = 64
)

// gemvScratch is gemvRow's working memory, pooled (a decoding step calls it thousands
// of times, each a few hundred nanoseconds of work).
type gemvScratch struct {
	acc   [gemvRowMaxN]float32
	ap    [gemvMaxKC]float32
	tile  [gemvMaxKC * gemvMaxW]float32 // columns of op(B) copied into one zero-padded strip
	strip [gemvMaxW]float32
	// Outside its first dirtyRows rows and dirtyCols columns, tile holds zeros: a call
	// clears only what an earlier, wider one left.
	dirtyRows, dirtyCols int
}

var gemvPool = sync.Pool{New: func() any { return new(gemvScratch) }}

// gemvFits reports whether the one-row path takes a row of n columns (op(B) transposed
// or not): gemvRow's bounds, which do not depend on the row.
func (k *gemmKernels) gemvFits(transB bool, n int) bool {
	return k.gemvStrip != nil && n <= gemvRowMaxN && k.kc <= gemvMaxKC && !(transB && n > k.gemvWidth)
}

// gemvRow is gemm for a single row of C (attention's query against cached keys or
// values, a step of greedy decoding): c = alpha·op(A)·op(B) (+ c unless overwrite),
// without packing. Packing B for one row costs as much as the product (and the blocked
// path computes a whole mr-row tile for it). It computes what the micro-kernels
// compute, bit for bit: per block of kc steps an accumulator starts at zero and takes
// one fused multiply-add per step, in order (gemvStrip, on gemvWidth columns of B at a
// time, in place; the last columns, or a transposed B of at most gemvWidth columns, are
// first copied into a zero-padded strip), with a_p = alpha·op(A)[0][p] rounded as
// packA rounds it; the block's sum then overwrites C (the first block, beta 0) or is
// added to it. It reports false, doing nothing, where the shape is outside its bounds.
func (k *gemmKernels) gemvRow(transA, transB bool, n, kk int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, overwrite bool) bool {
	w := k.gemvWidth
	if !k.gemvFits(transB, n) {
		return false
	}
	s := gemvPool.Get().(*gemvScratch)
	defer gemvPool.Put(s)
	acc, ap, row := s.acc[:n], s.ap[:], c[:n]
	for pc := 0; pc < kk; pc += k.kc {
		kc := min(k.kc, kk-pc)
		for p := range kc {
			v := a[pc+p]
			if transA {
				v = a[(pc+p)*lda]
			}
			if alpha != 1 {
				v *= alpha
			}
			ap[p] = v
		}
		j := 0
		if !transB {
			for ; j+w <= n; j += w {
				k.gemvStrip(kc, &ap[0], &b[pc*ldb+j], ldb, &acc[j])
			}
		}
		if rest := n - j; rest > 0 {
			tile := s.tile[:kc*w]
			stale := 0 // columns past rest that may hold an earlier call's values
			if s.dirtyCols > rest {
				stale = s.dirtyCols
			}
			if transB {
				// Column q of the strip is row j+q of the stored B: read it in order.
				for q := range rest {
					for p, v := range b[(j+q)*ldb+pc : (j+q)*ldb+pc+kc] {
						tile[p*w+q] = v
					}
				}
			}
			for p := range kc {
				t := tile[p*w : (p+1)*w]
				if !transB {
					copy(t, b[(pc+p)*ldb+j:(pc+p)*ldb+n])
				}
				if p < s.dirtyRows && stale > 0 {
					clear(t[rest:stale])
				}
			}
			s.dirtyRows, s.dirtyCols = max(s.dirtyRows, kc), max(s.dirtyCols, rest)
			k.gemvStrip(kc, &ap[0], &tile[0], w, &s.strip[0])
			copy(acc[j:], s.strip[:rest])
		}
		storeBlock(row, acc, overwrite && pc == 0)
	}
	return true
}

// storeBlock puts one k block's sums into a row of C, as the micro-kernels' tiles do:
// it stores them (the first block of a product with beta 0) or adds them, one rounded
// sum per value, the same on every ISA.
func storeBlock(row, sum []float32, store bool) {
	if store {
		copy(row, sum)
	} else {
		addOp.use(row, row, sum)
	}
}
