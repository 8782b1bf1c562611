package ops

import (
	"runtime"
	"sync"
)

// This file is the BLIS-structured matmul driver shared by every SIMD instruction set:
// it packs panels of A and B into contiguous, zero-padded micro-panels, blocks for the
// caches, splits the work over goroutines and calls the ISA's register-blocked
// micro-kernel on each mr×nr tile of C. The grid-gated products reuse it: the gate of an
// example is folded into its copy of the packed weight panel (forward and input
// gradient), or applied to each tile as it leaves the registers (weight and gate
// gradient), so no per-example weight is ever materialised.

// gemmKernels is one instruction set's micro-kernels, registered by the generated code.
type gemmKernels struct {
	isa    ISA
	mr, nr int
	// kernel adds the mr×nr tile Ap·Bp (kc steps of packed panels) into c (leading dimension ldc).
	kernel func(kc int, a, b, c *float32, ldc int)
	// kernelSet stores the tile Ap·Bp into c without reading it (the first k block when beta is 0).
	kernelSet func(kc int, a, b, c *float32, ldc int)
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
	// scatter[w] copies n groups of w floats from src to dst + i·stride: the packers'
	// inner loop, for each micro-tile width w.
	scatter map[int]func(n int, dst, src *float32, stride int)
	// interleave[w], where present, packs w rows for 16·blocks steps:
	// dst[p·w + r] = alpha·src[r·ld + p].
	interleave map[int]func(blocks int, dst, src *float32, ld int, alpha float32)
}

// Cache blocking: kc steps of a B micro-panel (kc·nr floats) stay in L1, an mc×kc panel of A
// in L2, a kc×nc panel of B in L3.
const (
	blockKC = 256
	blockMC = 192
	blockNC = 3072
	// Below this many multiply-adds a product runs on one goroutine.
	parallelMinFlops = 1 << 18
)

// registeredGemmKernels lists the micro-kernels of every ISA compiled in (supported or not).
var registeredGemmKernels []*gemmKernels

func registerGemmKernels(k *gemmKernels) bool {
	if k.kernel == nil || k.kernelSet == nil || k.gradKernel == nil || k.gradKernelSet == nil || k.gradTile == nil ||
		k.gateRows == nil || k.scaleRows == nil || k.scatter == nil {
		panic("ops: incomplete micro-kernel set for " + string(k.isa))
	}
	if blockMC%k.mr != 0 || blockMC%k.gradMR != 0 {
		panic("ops: blockMC must be a multiple of every micro-kernel's mr")
	}
	registeredGemmKernels = append(registeredGemmKernels, k)
	gemmOp.add(k.isa, k.gemm)
	gridGatedOp.add(k.isa, k.gridGated)
	gridGatedGradAOp.add(k.isa, k.gridGatedGradA)
	gridGatedGradBGOp.add(k.isa, k.gridGatedGradBG)
	return true
}

// Packing buffers are recycled through a free list that, unlike sync.Pool, survives
// garbage collections: a training loop calls the same products every step, so after the
// first step it finds every buffer it needs and allocates nothing.
var (
	bufMu   sync.Mutex
	bufFree []*[]float32
)

// maxFreeBufs bounds the free list; buffers beyond it are left to the garbage collector.
const maxFreeBufs = 64

// getBuf returns a buffer of n floats (contents undefined), the smallest free one that fits.
func getBuf(n int) *[]float32 {
	bufMu.Lock()
	best := -1
	for i, b := range bufFree {
		if cap(*b) >= n && (best < 0 || cap(*b) < cap(*bufFree[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := bufFree[best]
		bufFree[best] = bufFree[len(bufFree)-1]
		bufFree = bufFree[:len(bufFree)-1]
		bufMu.Unlock()
		*b = (*b)[:n]
		return b
	}
	bufMu.Unlock()
	s := make([]float32, n)
	return &s
}

// putBuf returns a buffer from getBuf to the free list.
func putBuf(b *[]float32) {
	bufMu.Lock()
	if len(bufFree) < maxFreeBufs {
		bufFree = append(bufFree, b)
	}
	bufMu.Unlock()
}

// A fixed set of worker goroutines runs the parts of every parallel product, so a call
// starts no goroutines. Kernels never call parallel from inside a part, so the workers
// cannot all end up waiting on each other.
type task struct {
	r    partRunner
	part int
	wg   *sync.WaitGroup
}

// partRunner is one parallel operation: runPart(i) does part i of it.
type partRunner interface{ runPart(part int) }

// partFunc adapts a closure to partRunner.
type partFunc func(part int)

func (f partFunc) runPart(part int) { f(part) }

var (
	startWorkers sync.Once
	tasks        chan task
	wgPool       = sync.Pool{New: func() any { return new(sync.WaitGroup) }}
)

func worker() {
	for t := range tasks {
		t.r.runPart(t.part)
		t.wg.Done()
	}
}

// parallel runs f(0..parts-1), part 0 on the calling goroutine, and waits for all.
func parallel(parts int, f func(part int)) { parallelRun(parts, partFunc(f)) }

// parallelRun runs r.runPart(0..parts-1), part 0 on the calling goroutine, and waits.
// A pooled partRunner makes a call allocate nothing.
func parallelRun(parts int, r partRunner) {
	if parts <= 1 {
		r.runPart(0)
		return
	}
	startWorkers.Do(func() {
		n := max(runtime.NumCPU(), 2)
		tasks = make(chan task, 4*n)
		for i := 0; i < n; i++ {
			go worker()
		}
	})
	wg := wgPool.Get().(*sync.WaitGroup)
	wg.Add(parts - 1)
	for p := 1; p < parts; p++ {
		tasks <- task{r, p, wg}
	}
	r.runPart(0)
	wg.Wait()
	wgPool.Put(wg)
}

// workers is how many goroutines a product of the given multiply-adds should use.
func workers(flops int) int {
	t := Threads()
	if t > 1 && flops < parallelMinFlops {
		return 1
	}
	return max(t, 1)
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

// packA packs rows [i0, i0+mc) and steps [p0, p0+kc) of op(A), scaled by alpha, into
// micro-panels of mr rows: dst[ir·kc + p·mr + r] = alpha·op(A)[i0+ir+r][p0+p], zero-padded.
func (k *gemmKernels) packA(dst []float32, a []float32, lda int, trans bool, i0, mc, p0, kc, mr int, alpha float32) {
	if trans {
		k.packAT(dst, a, lda, i0, mc, p0, kc, mr, alpha)
		return
	}
	interleave, simd := packInterleavers[mr], k.interleave[mr]
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		panel := dst[ir*kc : ir*kc+kc*mr]
		if rows == mr && simd != nil && kc >= 16 {
			src := a[(i0+ir)*lda+p0:]
			blocks := kc / 16
			simd(blocks, &panel[0], &src[0], lda, alpha)
			if done := blocks * 16; done < kc && interleave != nil {
				interleave(panel[done*mr:], src[done:], lda, kc-done, alpha)
			}
			continue
		}
		if rows == mr && interleave != nil {
			interleave(panel, a[(i0+ir)*lda+p0:], lda, kc, alpha)
			continue
		}
		// A partial panel (the last rows of an example, say): step by step, so that each
		// group of mr values is written contiguously.
		var src [32][]float32
		for r := 0; r < rows; r++ {
			src[r] = a[(i0+ir+r)*lda+p0 : (i0+ir+r)*lda+p0+kc]
		}
		for p := 0; p < kc; p++ {
			d := panel[p*mr : p*mr+mr]
			for r := 0; r < rows; r++ {
				d[r] = alpha * src[r][p]
			}
			clear(d[rows:])
		}
	}
}

// packAT is packA for op(A) = Aᵀ, where step p of every panel is a piece of row p of the
// stored A. It walks the stored rows in order, so the reads stream through memory.
func (k *gemmKernels) packAT(dst []float32, a []float32, lda int, i0, mc, p0, kc, mr int, alpha float32) {
	full := mc / mr * mr
	scatter := k.scatter[mr]
	for p := 0; p < kc; p++ {
		src := a[(p0+p)*lda+i0 : (p0+p)*lda+i0+mc]
		switch {
		case full == 0:
		case alpha == 1 && scatter != nil:
			scatter(full/mr, &dst[p*mr], &src[0], kc*mr)
		default:
			for ir := 0; ir < full; ir += mr {
				d := dst[ir*kc+p*mr : ir*kc+p*mr+mr]
				for r, v := range src[ir : ir+mr] {
					d[r] = alpha * v
				}
			}
		}
		if full < mc {
			d := dst[full*kc+p*mr : full*kc+p*mr+mr]
			for r, v := range src[full:] {
				d[r] = alpha * v
			}
			clear(d[mc-full:])
		}
	}
}

// packB packs steps [p0, p0+kc) and columns [j0, j0+nc) of op(B) into micro-panels of nr
// columns: dst[jr·kc + p·nr + c] = op(B)[p0+p][j0+jr+c], zero-padded.
func (k *gemmKernels) packB(dst []float32, b []float32, ldb int, trans bool, p0, kc, j0, nc, nr int) {
	if !trans {
		// Step p of every panel is a piece of row p of B: walk the rows in order.
		full := nc / nr * nr
		scatter := k.scatter[nr]
		for p := 0; p < kc; p++ {
			src := b[(p0+p)*ldb+j0 : (p0+p)*ldb+j0+nc]
			if scatter != nil && full > 0 {
				scatter(full/nr, &dst[p*nr], &src[0], kc*nr)
			} else {
				for jr := 0; jr < full; jr += nr {
					copy(dst[jr*kc+p*nr:jr*kc+p*nr+nr], src[jr:jr+nr])
				}
			}
			if full < nc {
				d := dst[full*kc+p*nr : full*kc+p*nr+nr]
				copy(d, src[full:])
				clear(d[nc-full:])
			}
		}
		return
	}
	interleave := packInterleavers[nr]
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		panel := dst[jr*kc : jr*kc+kc*nr]
		// op(B)[p][j] = b[j·ldb + p]: each column of the panel is a contiguous row of b.
		if cols == nr && interleave != nil {
			interleave(panel, b[(j0+jr)*ldb+p0:], ldb, kc, 1)
			continue
		}
		for c := 0; c < cols; c++ {
			src := b[(j0+jr+c)*ldb+p0 : (j0+jr+c)*ldb+p0+kc]
			for p, v := range src {
				panel[p*nr+c] = v
			}
		}
		for p := 0; p < kc; p++ {
			clear(panel[p*nr+cols : p*nr+nr])
		}
	}
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

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
// divides it (128 rows with 12-row tiles: 120 + 8), so no tile is partial. Otherwise the
// main height covers everything and the last tile is partial.
func (k *gemmKernels) bands(mc int) (b [2]band, n int) {
	main := mc / k.mr * k.mr
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

// macroTile runs the micro-kernel over the mc×nc block of C at c (leading dimension ldc)
// from packed panels ap (mc rounded up to mr rows) and bp (nc rounded up to nr columns).
// Tiles that do not fill mr×nr go through scratch (mr·nr floats).
func (k *gemmKernels) macroTile(t tile, kc, mc, nc int, ap, bp []float32, c []float32, ldc int, scratch []float32, overwrite bool) {
	mr, nr := t.mr, k.nr
	kernel := t.add
	if overwrite {
		kernel = t.set
	}
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		b := &bp[jr*kc]
		for ir := 0; ir < mc; ir += mr {
			rows := min(mr, mc-ir)
			if rows == mr && cols == nr {
				kernel(kc, &ap[ir*kc], b, &c[ir*ldc+jr], ldc)
				continue
			}
			t.set(kc, &ap[ir*kc], b, &scratch[0], nr)
			for r := 0; r < rows; r++ {
				dst := c[(ir+r)*ldc+jr : (ir+r)*ldc+jr+cols]
				if overwrite {
					copy(dst, scratch[r*nr:r*nr+cols])
					continue
				}
				for j := range dst {
					dst[j] += scratch[r*nr+j]
				}
			}
		}
	}
}

// gemm is the blocked Gemm: the same contract as gemmGeneric.
func (k *gemmKernels) gemm(transA, transB bool, m, n, kk int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if kk == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	// With beta 0 the first k block overwrites C; otherwise C is scaled first and every
	// block accumulates.
	overwrite := beta == 0
	if !overwrite {
		scaleC(m, n, beta, c, ldc)
	}
	w := workers(m * n * kk)
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
		k.gemmSerial(transA, transB, 0, m, 0, n, kk, alpha, a, lda, b, ldb, c, ldc, overwrite)
		return
	}
	j := gemmJobPool.Get().(*gemmJob)
	*j = gemmJob{k, transA, transB, m, n, kk, alpha, a, lda, b, ldb, c, ldc, overwrite, splitRows, chunk, dim}
	parallelRun(parts, j)
	*j = gemmJob{}
	gemmJobPool.Put(j)
}

// gemmJob is one parallel Gemm: part p computes the p-th range of rows or columns of C.
type gemmJob struct {
	k                    *gemmKernels
	transA, transB       bool
	m, n, kk             int
	alpha                float32
	a                    []float32
	lda                  int
	b                    []float32
	ldb                  int
	c                    []float32
	ldc                  int
	overwrite, splitRows bool
	chunk, dim           int
}

var gemmJobPool = sync.Pool{New: func() any { return new(gemmJob) }}

func (j *gemmJob) runPart(part int) {
	lo, hi := part*j.chunk, min((part+1)*j.chunk, j.dim)
	if j.splitRows {
		j.k.gemmSerial(j.transA, j.transB, lo, hi, 0, j.n, j.kk, j.alpha, j.a, j.lda, j.b, j.ldb, j.c, j.ldc, j.overwrite)
	} else {
		j.k.gemmSerial(j.transA, j.transB, 0, j.m, lo, hi, j.kk, j.alpha, j.a, j.lda, j.b, j.ldb, j.c, j.ldc, j.overwrite)
	}
}

// gemmSerial adds alpha·op(A)·op(B) into rows [i0,i1) and columns [j0,j1) of C.
func (k *gemmKernels) gemmSerial(transA, transB bool, i0, i1, j0, j1, kk int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, overwrite bool) {
	mcMax := min(blockMC, roundUp(i1-i0, k.mr)) + k.mr
	ncMax := min(blockNC, roundUp(j1-j0, k.nr))
	kcMax := min(blockKC, kk)
	apb, bpb, scb := getBuf(mcMax*kcMax), getBuf(ncMax*kcMax), getBuf(k.mr*k.nr)
	defer func() { putBuf(apb); putBuf(bpb); putBuf(scb) }()
	ap, bp, scratch := *apb, *bpb, *scb
	for jc := j0; jc < j1; jc += blockNC {
		nc := min(blockNC, j1-jc)
		for pc := 0; pc < kk; pc += blockKC {
			kc := min(blockKC, kk-pc)
			k.packB(bp, b, ldb, transB, pc, kc, jc, nc, k.nr)
			for ic := i0; ic < i1; ic += blockMC {
				mc := min(blockMC, i1-ic)
				bs, nb := k.bands(mc)
				for _, bd := range bs[:nb] {
					k.packA(ap[bd.off*kc:], a, lda, transA, ic+bd.off, bd.rows, pc, kc, bd.t.mr, alpha)
					k.macroTile(bd.t, kc, bd.rows, nc, ap[bd.off*kc:], bp, c[(ic+bd.off)*ldc+jc:], ldc, scratch, overwrite && pc == 0)
				}
			}
		}
	}
}

// packWhole packs all of op(B) (kk×nn) as the per-example products use it: block pc of
// the inner dimension at dst[pc·nPad:], in panels of nr columns. The blocks and column
// ranges are spread over w goroutines.
func (k *gemmKernels) packWhole(w int, dst, b []float32, ldb int, trans bool, kk, nn int) {
	nPad := roundUp(nn, k.nr)
	blocks := (kk + blockKC - 1) / blockKC
	split := max(1, min(w/blocks, nPad/k.nr)) // column ranges per block
	chunk := roundUp((nn+split-1)/split, k.nr)
	split = (nn + chunk - 1) / chunk
	items := blocks * split
	if w <= 1 || items == 1 {
		for i := 0; i < items; i++ {
			k.packWholeItem(i, split, chunk, dst, b, ldb, trans, kk, nn, nPad)
		}
		return
	}
	parts := min(w, items)
	parallel(parts, func(part int) {
		for i := part; i < items; i += parts {
			k.packWholeItem(i, split, chunk, dst, b, ldb, trans, kk, nn, nPad)
		}
	})
}

// packWholeItem packs one (k block, column range) item of packWhole.
func (k *gemmKernels) packWholeItem(item, split, chunk int, dst, b []float32, ldb int, trans bool, kk, nn, nPad int) {
	pc, j0 := (item/split)*blockKC, (item%split)*chunk
	kc, nc := min(blockKC, kk-pc), min(chunk, nn-j0)
	k.packB(dst[pc*nPad+j0*kc:], b, ldb, trans, pc, kc, j0, nc, k.nr)
}

// exampleSplit divides batch examples of rows rows over the workers: when there are
// fewer examples than workers, each example's rows are split too. It returns the
// number of work items and, for item i, the example and its row range.
func exampleSplit(batch, rows, w, align int) (items int, item func(i int) (e, r0, r1 int)) {
	per := 1
	if batch < w {
		per = min((w+batch-1)/batch, max(rows/align, 1))
	}
	chunk := roundUp((rows+per-1)/per, align)
	per = (rows + chunk - 1) / chunk
	return batch * per, func(i int) (int, int, int) {
		e, s := i/per, i%per
		return e, s * chunk, min((s+1)*chunk, rows)
	}
}

// gridGated is the blocked GridGatedGemm: C_e = A_e·(B ⊙ φ(G_e)) + beta·C_e.
// B is packed once; each example gates its own copy of each kc×n panel (gateRows), which
// costs k·n multiplies against the rows·k·n multiply-adds of its product.
func (k *gemmKernels) gridGated(batch, rows, kk, n, gr, gc int, a []float32, lda int, b []float32, ldb int, g []float32, beta float32, c []float32, ldc int) {
	if kk == 0 || batch == 0 || rows == 0 || n == 0 {
		scaleC(batch*rows, n, beta, c, ldc)
		return
	}
	overwrite := beta == 0
	if !overwrite {
		scaleC(batch*rows, n, beta, c, ldc)
	}
	bh, bw := kk/gr, n/gc
	nPad := roundUp(n, k.nr)
	// The whole of B, packed: block pc occupies [pc·nPad, (pc+kc)·nPad).
	w := workers(batch * rows * kk * n)
	bAll := getBuf(kk * nPad)
	defer putBuf(bAll)
	k.packWhole(w, *bAll, b, ldb, false, kk, n)
	items, item := exampleSplit(batch, rows, w, k.gradMR)
	parts := min(w, items)
	parallel(parts, func(part int) {
		kcMax := min(blockKC, kk)
		gated, ap, gx, scratch := getBuf(kcMax*k.nr), getBuf((min(blockMC, rows)+k.mr)*kcMax), getBuf(gr*nPad), getBuf(k.mr*k.nr)
		defer func() { putBuf(gated); putBuf(ap); putBuf(gx); putBuf(scratch) }()
		lastE := -1
		for it := part; it < items; it += parts {
			e, r0, r1 := item(it)
			if e != lastE {
				expandCols((*gx), g[e*gr*gc:(e+1)*gr*gc], gr, gc, bw, nPad, n)
				lastE = e
			}
			for pc := 0; pc < kk; pc += blockKC {
				kc := min(blockKC, kk-pc)
				packed := (*bAll)[pc*nPad:]
				for ic := r0; ic < r1; ic += blockMC {
					mc := min(blockMC, r1-ic)
					row := e*rows + ic
					bs, nb := k.bands(mc)
					for _, bd := range bs[:nb] {
						k.packA((*ap)[bd.off*kc:], a, lda, false, row+bd.off, bd.rows, pc, kc, bd.t.mr, 1)
					}
					// Gate one micro-panel of the weight at a time, just before the tiles
					// that use it, so that it is read from L1: its rows of grid row i are
					// scaled by gx[i][jr:jr+nr].
					for jr := 0; jr < n; jr += k.nr {
						panel := (*gated)[:kc*k.nr]
						for p := pc; p < pc+kc; {
							i := p / bh
							end := min((i+1)*bh, pc+kc)
							off := (p - pc) * k.nr
							k.gateRows(end-p, &panel[off], &packed[jr*kc+off], &(*gx)[i*nPad+jr])
							p = end
						}
						for _, bd := range bs[:nb] {
							k.macroTile(bd.t, kc, bd.rows, min(k.nr, n-jr), (*ap)[bd.off*kc:], panel, c[(row+bd.off)*ldc+jr:], ldc, *scratch, overwrite && pc == 0)
						}
					}
				}
			}
		}
	})
}

// expandCols writes gx[i][q] = G[i][q/bw] for q < n (zero up to nPad): each grid row
// expanded to one value per column of the weight.
func expandCols(gx, g []float32, gr, gc, bw, nPad, n int) {
	for i := 0; i < gr; i++ {
		row := gx[i*nPad : (i+1)*nPad]
		for j, v := range g[i*gc : (i+1)*gc] {
			block := row[j*bw : (j+1)*bw]
			for q := range block {
				block[q] = v
			}
		}
		clear(row[n:])
	}
}

// expandRows writes gx[j][p] = G[p/bh][j] for p < k (zero up to kPad): each grid column
// expanded to one value per row of the weight.
func expandRows(gx, g []float32, gr, gc, bh, kPad, k int) {
	for j := 0; j < gc; j++ {
		row := gx[j*kPad : (j+1)*kPad]
		for i := 0; i < gr; i++ {
			v := g[i*gc+j]
			block := row[i*bh : (i+1)*bh]
			for p := range block {
				block[p] = v
			}
		}
		clear(row[k:])
	}
}

// gridGatedGradA is the blocked GridGatedGemmGradA: dA_e = dC_e·(B ⊙ φ(G_e))ᵀ + beta·dA_e.
// The inner dimension is n; Bᵀ is packed once and gated per example.
func (k *gemmKernels) gridGatedGradA(batch, rows, kk, n, gr, gc int, dc []float32, lddc int, b []float32, ldb int, g []float32, beta float32, da []float32, ldda int) {
	if n == 0 || batch == 0 || rows == 0 || kk == 0 {
		scaleC(batch*rows, kk, beta, da, ldda)
		return
	}
	overwrite := beta == 0
	if !overwrite {
		scaleC(batch*rows, kk, beta, da, ldda)
	}
	bh, bw := kk/gr, n/gc
	kPad := roundUp(kk, k.nr)
	// op(B) = Bᵀ (n×k), packed: block pc of the inner dimension n occupies [pc·kPad, (pc+kc)·kPad).
	w := workers(batch * rows * kk * n)
	bAll := getBuf(n * kPad)
	defer putBuf(bAll)
	k.packWhole(w, *bAll, b, ldb, true, n, kk)
	items, item := exampleSplit(batch, rows, w, k.gradMR)
	parts := min(w, items)
	parallel(parts, func(part int) {
		kcMax := min(blockKC, n)
		// When every nr-wide panel of outputs lies in one grid row, each inner step q of a
		// panel has a single gate G[i][q/bw]: the grid row expanded over the columns.
		perRow := bh%k.nr == 0
		nPad := roundUp(n, k.nr)
		gxLen := gc * kPad
		if perRow {
			gxLen = gr * nPad
		}
		gated, ap, gx, scratch := getBuf(kcMax*kPad), getBuf((min(blockMC, rows)+k.mr)*kcMax), getBuf(gxLen), getBuf(k.mr*k.nr)
		defer func() { putBuf(gated); putBuf(ap); putBuf(gx); putBuf(scratch) }()
		lastE := -1
		for it := part; it < items; it += parts {
			e, r0, r1 := item(it)
			if e != lastE {
				if perRow {
					expandCols(*gx, g[e*gr*gc:(e+1)*gr*gc], gr, gc, bw, nPad, n)
				} else {
					expandRows(*gx, g[e*gr*gc:(e+1)*gr*gc], gr, gc, bh, kPad, kk)
				}
				lastE = e
			}
			for pc := 0; pc < n; pc += blockKC {
				kc := min(blockKC, n-pc)
				packed := (*bAll)[pc*kPad:]
				for jr := 0; jr < kPad; jr += k.nr {
					if perRow {
						i := min(jr, kk-1) / bh
						k.scaleRows(kc, &(*gated)[jr*kc], &packed[jr*kc], &(*gx)[i*nPad+pc])
						continue
					}
					// Inner step q belongs to grid column q/bw; its nr outputs p are scaled by gx[j][p].
					for q := pc; q < pc+kc; {
						j := q / bw
						end := min((j+1)*bw, pc+kc)
						off := jr*kc + (q-pc)*k.nr
						k.gateRows(end-q, &(*gated)[off], &packed[off], &(*gx)[j*kPad+jr])
						q = end
					}
				}
				for ic := r0; ic < r1; ic += blockMC {
					mc := min(blockMC, r1-ic)
					row := e*rows + ic
					bs, nb := k.bands(mc)
					for _, bd := range bs[:nb] {
						k.packA((*ap)[bd.off*kc:], dc, lddc, false, row+bd.off, bd.rows, pc, kc, bd.t.mr, 1)
						k.macroTile(bd.t, kc, bd.rows, kk, (*ap)[bd.off*kc:], *gated, da[(row+bd.off)*ldda:], ldda, *scratch, overwrite && pc == 0)
					}
				}
			}
		}
	})
}

// gridGatedGradBG is the blocked GridGatedGemmGradBG. For each example, the tiles of
// P_e = A_eᵀ·dC_e (k×n, inner dimension rows) are folded into dB (⊙ gate) and into
// h_e[i][q] = Σ_{p in grid row i} P_e[p][q]·B[p][q] as they leave the registers; the
// gate gradient is then dG_e[i][j] = Σ_{q in grid column j} h_e[i][q]. Goroutines split
// the rows of dB; each keeps its own h.
func (k *gemmKernels) gridGatedGradBG(batch, rows, kk, n, gr, gc int, a []float32, lda int, dc []float32, lddc int, b []float32, ldb int, g []float32, db []float32, lddb int, dg []float32) {
	if rows == 0 || batch == 0 || kk == 0 || n == 0 {
		return
	}
	bh, bw := kk/gr, n/gc
	mr := k.gradMR
	nPad := roundUp(n, k.nr)
	w := workers(batch * rows * kk * n)
	chunk := roundUp((kk+w-1)/w, mr)
	parts := (kk + chunk - 1) / chunk
	hs := make([]*[]float32, parts)
	parallel(parts, func(part int) {
		p0, p1 := part*chunk, min((part+1)*chunk, kk)
		kcMax := min(blockKC, rows)
		mcMax := min(blockMC, roundUp(p1-p0, mr))
		bp, ap, gx, scratch, dbScratch := getBuf(kcMax*nPad), getBuf(mcMax*kcMax), getBuf(gr*nPad), getBuf(mr*k.nr), getBuf(k.nr)
		h := getBuf(batch * gr * nPad)
		clear(*h)
		hs[part] = h
		defer func() { putBuf(bp); putBuf(ap); putBuf(gx); putBuf(scratch); putBuf(dbScratch) }()
		uniform := bh%mr == 0
		for e := 0; e < batch; e++ {
			expandCols(*gx, g[e*gr*gc:(e+1)*gr*gc], gr, gc, bw, nPad, n)
			he := (*h)[e*gr*nPad : (e+1)*gr*nPad]
			for pc := 0; pc < rows; pc += blockKC {
				kc := min(blockKC, rows-pc)
				// B side: dC_e (rows×n); A side: A_eᵀ (k×rows).
				k.packB(*bp, dc[(e*rows)*lddc:], lddc, false, pc, kc, 0, n, k.nr)
				for ic := p0; ic < p1; ic += blockMC {
					mc := min(blockMC, p1-ic)
					k.packA(*ap, a[(e*rows)*lda:], lda, true, ic, mc, pc, kc, mr, 1)
					for jr := 0; jr < n; jr += k.nr {
						cols := min(k.nr, n-jr)
						for ir := 0; ir < mc; ir += mr {
							p := ic + ir
							tileRows := min(mr, mc-ir)
							if uniform && tileRows == mr && cols == k.nr {
								i := p / bh
								dbp, lddbT := &(*dbScratch)[0], 0
								if db != nil {
									dbp, lddbT = &db[p*lddb+jr], lddb
								}
								k.gradTile(kc, &(*ap)[ir*kc], &(*bp)[jr*kc], dbp, lddbT, &b[p*ldb+jr], ldb, &(*gx)[i*nPad+jr], &he[i*nPad+jr])
								continue
							}
							// A partial tile, or one that spans grid rows: through scratch.
							k.gradKernelSet(kc, &(*ap)[ir*kc], &(*bp)[jr*kc], &(*scratch)[0], k.nr)
							for r := 0; r < tileRows; r++ {
								i := (p + r) / bh
								for j := 0; j < cols; j++ {
									v := (*scratch)[r*k.nr+j]
									if db != nil {
										db[(p+r)*lddb+jr+j] += v * (*gx)[i*nPad+jr+j]
									}
									he[i*nPad+jr+j] += v * b[(p+r)*ldb+jr+j]
								}
							}
						}
					}
				}
			}
		}
	})
	if dg != nil {
		for _, h := range hs {
			for e := 0; e < batch; e++ {
				for i := 0; i < gr; i++ {
					row := (*h)[(e*gr+i)*nPad:]
					for j := 0; j < gc; j++ {
						var s float32
						for _, v := range row[j*bw : (j+1)*bw] {
							s += v
						}
						dg[(e*gr+i)*gc+j] += s
					}
				}
			}
		}
	}
	for _, h := range hs {
		putBuf(h)
	}
}
