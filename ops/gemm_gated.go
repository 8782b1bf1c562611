package ops

// The grid-gated products on the blocked driver: the gate of an example is folded into
// its copy of the packed weight panel (forward and input gradient), or applied to each
// tile as it leaves the registers (weight and gate gradient).

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
	overwrite := scaleForBlocks(batch*rows, n, beta, c, ldc)
	if rows == 1 && k.gatedRows(batch, kk, n, gr, gc, a, lda, b, ldb, g, c, ldc, overwrite) {
		return
	}
	w := workers(batch * rows * kk * n)
	// The whole of B, packed: block pc occupies [pc·nPad, (pc+kc)·nPad).
	bAll := getBuf(kk * roundUp(n, k.nr))
	defer putBuf(bAll)
	k.packWhole(w, *bAll, b, ldb, false, kk, n)
	k.gridGatedBlocked(w, batch, rows, kk, n, gr, gc, a, lda, *bAll, g, c, ldc, overwrite)
}

// gridGatedBlocked is gridGated's blocked path on w goroutines, with C already scaled
// by beta (overwrite: beta is 0 and the first k block stores instead of adding) and B
// packed whole in bAll (as packWhole and PackB pack it).
func (k *gemmKernels) gridGatedBlocked(w, batch, rows, kk, n, gr, gc int, a []float32, lda int, bAll []float32, g []float32, c []float32, ldc int, overwrite bool) {
	bh, bw := kk/gr, n/gc
	nPad := roundUp(n, k.nr)
	items, item := exampleSplit(batch, rows, w, k.gradMR)
	parts := min(w, items)
	parallel(parts, func(part int) {
		kcMax := min(k.kc, kk)
		gated, ap, gx, scratch := getBuf(kcMax*k.nr), getBuf((min(k.mc, rows)+k.mr)*kcMax), getBuf(gr*nPad), getBuf(k.mr*k.nr)
		defer func() { putBuf(gated); putBuf(ap); putBuf(gx); putBuf(scratch) }()
		lastE := -1
		for it := part; it < items; it += parts {
			e, r0, r1 := item(it)
			if e != lastE {
				k.expandCols((*gx), g[e*gr*gc:(e+1)*gr*gc], gr, gc, bw, nPad, n)
				lastE = e
			}
			for pc := 0; pc < kk; pc += k.kc {
				kc := min(k.kc, kk-pc)
				packed := bAll[pc*nPad:]
				for ic := r0; ic < r1; ic += k.mc {
					mc := min(k.mc, r1-ic)
					row := e*rows + ic
					bs, nb := k.bands(mc)
					for _, bd := range bs[:nb] {
						k.packA((*ap)[bd.off*kc:], a, lda, false, row+bd.off, bd.rows, pc, kc, bd.t.mr, 1)
					}
					// Gate one micro-panel of the weight at a time, just before the tiles
					// that use it, so that it is read from L1.
					for jr := 0; jr < n; jr += k.nr {
						panel := (*gated)[:kc*k.nr]
						k.gatePanel(panel, packed[jr*kc:], pc, kc, jr, bh, nPad, *gx)
						for _, bd := range bs[:nb] {
							k.macroTile(bd.t, kc, bd.rows, min(k.nr, n-jr), nil, 0, 0, (*ap)[bd.off*kc:], panel, c[(row+bd.off)*ldc+jr:], ldc, *scratch, overwrite && pc == 0)
						}
					}
				}
			}
		}
	})
}

// gatePanel writes into dst the micro-panel src of op(B) = B (the panel of columns
// [jr, jr+nr) of the k block [pc, pc+kc), packed) gated: its steps of grid row i scaled
// by gx[i][jr:jr+nr] (expandCols' grid, rows nPad apart, bh steps a grid row).
func (k *gemmKernels) gatePanel(dst, src []float32, pc, kc, jr, bh, nPad int, gx []float32) {
	for p := pc; p < pc+kc; {
		i := p / bh
		end := min((i+1)*bh, pc+kc)
		off := (p - pc) * k.nr
		k.gateRows(end-p, &dst[off], &src[off], &gx[i*nPad+jr])
		p = end
	}
}

// gatedRows is gridGated for one row per example (a decoding step of a HyperGrid layer):
// each example's row runs against the unpacked weight through gemvGatedStrip, one grid
// row of a k block at a time, where the blocked path would gate a copy of every packed
// panel for that one row and compute a whole tile for it. The examples of a goroutine
// take their turns on each piece of the weight (one grid row of one strip of columns)
// while it is in L1. Per k block it computes what the blocked path computes, bit for
// bit: the same rounded gated values, the same chain of fused multiply-adds from zero,
// and one rounded store or addition into C (C is already scaled by beta; overwrite: the
// first block stores). It reports false, doing nothing, where the columns are not a
// whole number of strips or exceed its bound.
func (k *gemmKernels) gatedRows(batch, kk, n, gr, gc int, a []float32, lda int, b []float32, ldb int, g []float32, c []float32, ldc int, overwrite bool) bool {
	w := k.gemvWidth
	if k.gemvGatedStrip == nil || n%w != 0 || n > gemvRowMaxN {
		return false
	}
	bh, bw := kk/gr, n/gc
	parts := min(workers(batch*kk*n), batch)
	// A goroutine takes its examples (part, part+parts, ...) in groups whose expanded
	// gates fit gatedRowsGates floats; the l-th example of a group has its accumulators
	// at acc[l·n:] and its gates, expanded per column, at gx[l·gr·n:].
	group := max(1, gatedRowsGates/(gr*n))
	parallel(parts, func(part int) {
		mine := (batch - part + parts - 1) / parts
		size := min(group, mine)
		acc, gx := getBuf(size*n), getBuf(size*gr*n)
		defer func() { putBuf(acc); putBuf(gx) }()
		for first := 0; first < mine; first += size {
			count := min(size, mine-first)
			ex := func(l int) int { return part + (first+l)*parts }
			for l := range count {
				e := ex(l)
				k.expandCols((*gx)[l*gr*n:], g[e*gr*gc:(e+1)*gr*gc], gr, gc, bw, n, n)
			}
			for pc := 0; pc < kk; pc += k.kc {
				kc := min(k.kc, kk-pc)
				for j := 0; j < n; j += w {
					// One call per grid row within the block: its gate vector is fixed.
					for p, add := pc, 0; p < pc+kc; add = 1 {
						i := p / bh
						end := min((i+1)*bh, pc+kc)
						for l := range count {
							e := ex(l)
							k.gemvGatedStrip(end-p, &a[e*lda+p], &b[p*ldb+j], ldb, &(*gx)[(l*gr+i)*n+j], &(*acc)[l*n+j], add)
						}
						p = end
					}
				}
				for l := range count {
					e := ex(l)
					storeBlock(c[e*ldc:e*ldc+n], (*acc)[l*n:(l+1)*n], overwrite && pc == 0)
				}
			}
		}
	})
	return true
}

// gatedRowsGates bounds, in floats, the expanded gates gatedRows keeps at once per
// goroutine (1 MiB); a variable so that a test can make the groups small.
var gatedRowsGates = 1 << 18

// expandCols writes gx[i][q] = G[i][q/bw] for q < n (zero up to nPad): each grid row
// expanded to one value per column of the weight (expandRuns, where the ISA has it).
func (k *gemmKernels) expandCols(gx, g []float32, gr, gc, bw, nPad, n int) {
	for i := 0; i < gr; i++ {
		row := gx[i*nPad : (i+1)*nPad]
		gi := g[i*gc : (i+1)*gc]
		if k.expandRuns != nil && gc > 0 && bw > 0 {
			_ = row[gc*bw-1] // the kernel writes gc·bw values
			k.expandRuns(gc, &row[0], &gi[0], bw)
		} else {
			for j, v := range gi {
				block := row[j*bw : (j+1)*bw]
				for q := range block {
					block[q] = v
				}
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
	overwrite := scaleForBlocks(batch*rows, kk, beta, da, ldda)
	// op(B) = Bᵀ (n×k), packed: block pc of the inner dimension n occupies [pc·kPad, (pc+kc)·kPad).
	w := workers(batch * rows * kk * n)
	bAll := getBuf(n * roundUp(kk, k.nr))
	defer putBuf(bAll)
	k.packWhole(w, *bAll, b, ldb, true, n, kk)
	k.gridGatedGradABlocked(w, batch, rows, kk, n, gr, gc, dc, lddc, *bAll, g, da, ldda, overwrite)
}

// gridGatedGradABlocked is gridGatedGradA's blocked path on w goroutines, with dA
// already scaled by beta (overwrite: beta is 0) and Bᵀ packed whole in bAll (as
// packWhole and PackB(true, …) pack it).
func (k *gemmKernels) gridGatedGradABlocked(w, batch, rows, kk, n, gr, gc int, dc []float32, lddc int, bAll []float32, g []float32, da []float32, ldda int, overwrite bool) {
	tg := k.newTransposedGates(kk, n, gr, gc)
	kPad := tg.kPad
	items, item := exampleSplit(batch, rows, w, k.gradMR)
	parts := min(w, items)
	parallel(parts, func(part int) {
		kcMax := min(k.kc, n)
		gated, ap, gx, scratch := getBuf(kcMax*k.nr), getBuf((min(k.mc, rows)+k.mr)*kcMax), getBuf(tg.size()), getBuf(k.mr*k.nr)
		defer func() { putBuf(gated); putBuf(ap); putBuf(gx); putBuf(scratch) }()
		lastE := -1
		for it := part; it < items; it += parts {
			e, r0, r1 := item(it)
			if e != lastE {
				k.expandTransposed(tg, *gx, g[e*gr*gc:(e+1)*gr*gc])
				lastE = e
			}
			for pc := 0; pc < n; pc += k.kc {
				kc := min(k.kc, n-pc)
				packed := bAll[pc*kPad:]
				for ic := r0; ic < r1; ic += k.mc {
					mc := min(k.mc, r1-ic)
					row := e*rows + ic
					bs, nb := k.bands(mc)
					for _, bd := range bs[:nb] {
						k.packA((*ap)[bd.off*kc:], dc, lddc, false, row+bd.off, bd.rows, pc, kc, bd.t.mr, 1)
					}
					// Gate one micro-panel of Bᵀ at a time, just before the tiles that use
					// it, so that it is read from L1.
					for jr := 0; jr < kPad; jr += k.nr {
						panel := (*gated)[:kc*k.nr]
						k.gatePanelTransposed(tg, panel, packed[jr*kc:], pc, kc, jr, *gx)
						for _, bd := range bs[:nb] {
							k.macroTile(bd.t, kc, bd.rows, min(k.nr, kk-jr), nil, 0, 0, (*ap)[bd.off*kc:], panel, da[(row+bd.off)*ldda+jr:], ldda, *scratch, overwrite && pc == 0)
						}
					}
				}
			}
		}
	})
}

// transposedGates is how one example's gate grid gates the micro-panels of a transposed
// weight, op(B) = Bᵀ with B kk×n: inner steps q over B's n columns (grid columns of bw),
// outputs p over its kk rows (grid rows of bh), panels kPad outputs apart per step.
// When every nr-wide panel of outputs lies in one grid row (perRow), each inner step of a
// panel has a single gate G[i][q/bw]: the grid rows expanded over the steps (gr rows of
// nPad); otherwise each grid column expanded over the outputs (gc rows of kPad).
type transposedGates struct {
	kk, n, gr, gc, bh, bw, nPad, kPad int
	perRow                            bool
}

func (k *gemmKernels) newTransposedGates(kk, n, gr, gc int) transposedGates {
	bh := kk / gr
	return transposedGates{kk: kk, n: n, gr: gr, gc: gc, bh: bh, bw: n / gc,
		nPad: roundUp(n, k.nr), kPad: roundUp(kk, k.nr), perRow: bh%k.nr == 0}
}

// size is the length of the expanded gates.
func (t transposedGates) size() int {
	if t.perRow {
		return t.gr * t.nPad
	}
	return t.gc * t.kPad
}

// expandTransposed writes into gx (t.size() values) one example's grid ge expanded as t lays it out.
func (k *gemmKernels) expandTransposed(t transposedGates, gx, ge []float32) {
	if t.perRow {
		k.expandCols(gx, ge, t.gr, t.gc, t.bw, t.nPad, t.n)
	} else {
		expandRows(gx, ge, t.gr, t.gc, t.bh, t.kPad, t.kk)
	}
}

// gatePanelTransposed writes into dst the micro-panel src of op(B) = Bᵀ (the panel of
// outputs [jr, jr+nr) of the inner block [pc, pc+kc), packed) gated by gx
// (expandTransposed's).
func (k *gemmKernels) gatePanelTransposed(t transposedGates, dst, src []float32, pc, kc, jr int, gx []float32) {
	if t.perRow {
		i := min(jr, t.kk-1) / t.bh
		k.scaleRows(kc, &dst[0], &src[0], &gx[i*t.nPad+pc])
		return
	}
	// Inner step q belongs to grid column q/bw; its nr outputs p are scaled by gx[j][p].
	for q := pc; q < pc+kc; {
		j := q / t.bw
		end := min((j+1)*t.bw, pc+kc)
		off := (q - pc) * k.nr
		k.gateRows(end-q, &dst[off], &src[off], &gx[j*t.kPad+jr])
		q = end
	}
}

// gradBGPackAll bounds, in floats, all examples' packed dC for which gridGatedGradBG
// runs the examples inside each block of dB rather than the blocks of dB inside each
// example: 1 MiB, a decoder's few rows per example (t5-mini's 32 × 8 × 256; there the
// weight and gate gradients took 3.1-3.4 ms instead of 4.5-4.8 at 1 thread). At the
// encoder's 32 × 128 × 256 the two orders measured the same. All examples' expanded
// gates must fit four times that. A variable so that a test can compare the two orders.
var gradBGPackAll = 1 << 18

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
	// When an example's rows fit one k block and all examples' packed dC is small, the
	// examples run inside each block of dB, while it and B are in cache: every
	// example's dC is packed, and its gates expanded, once, side by side, for all the
	// goroutines to share.
	var bpAll, gxAll *[]float32
	if rows <= k.kc && batch*rows*nPad <= gradBGPackAll && batch*gr*nPad <= 4*gradBGPackAll {
		bpAll, gxAll = getBuf(batch*rows*nPad), getBuf(batch*gr*nPad)
		defer func() { putBuf(bpAll); putBuf(gxAll) }()
		pp := min(w, batch)
		parallel(pp, func(part int) {
			for e := part; e < batch; e += pp {
				k.packB((*bpAll)[e*rows*nPad:], dc[(e*rows)*lddc:], lddc, false, 0, rows, 0, n, k.nr)
				k.expandCols((*gxAll)[e*gr*nPad:], g[e*gr*gc:(e+1)*gr*gc], gr, gc, bw, nPad, n)
			}
		})
	}
	parallel(parts, func(part int) {
		p0, p1 := part*chunk, min((part+1)*chunk, kk)
		kcMax := min(k.kc, rows)
		mcMax := min(k.mc, roundUp(p1-p0, mr))
		ap, scratch, dbScratch := getBuf(mcMax*kcMax), getBuf(mr*k.nr), getBuf(k.nr)
		h := getBuf(batch * gr * nPad)
		clear(*h)
		hs[part] = h
		defer func() { putBuf(ap); putBuf(scratch); putBuf(dbScratch) }()
		uniform := bh%mr == 0
		// tiles runs the tiles of rows [ic, ic+mc) of P_e = A_eᵀ·dC_e for inner steps
		// [pc, pc+kc), folding them into dB and h_e: bp holds dC_e's steps packed, gx the
		// example's gates expanded per column.
		tiles := func(e, pc, kc, ic, mc int, bp, gx []float32) {
			he := (*h)[e*gr*nPad : (e+1)*gr*nPad]
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
						k.gradTile(kc, &(*ap)[ir*kc], &bp[jr*kc], dbp, lddbT, &b[p*ldb+jr], ldb, &gx[i*nPad+jr], &he[i*nPad+jr])
						continue
					}
					// A partial tile, or one that spans grid rows: through scratch.
					k.gradKernelSet(kc, &(*ap)[ir*kc], &bp[jr*kc], &(*scratch)[0], k.nr)
					for r := 0; r < tileRows; r++ {
						i := (p + r) / bh
						for j := 0; j < cols; j++ {
							v := (*scratch)[r*k.nr+j]
							if db != nil {
								db[(p+r)*lddb+jr+j] += v * gx[i*nPad+jr+j]
							}
							he[i*nPad+jr+j] += v * b[(p+r)*ldb+jr+j]
						}
					}
				}
			}
		}
		if bpAll != nil {
			// Each value of dB and h takes its terms in the same order as below
			// (examples in order, then rows of the block), so the same bits.
			for ic := p0; ic < p1; ic += k.mc {
				mc := min(k.mc, p1-ic)
				for e := 0; e < batch; e++ {
					tiles(e, 0, rows, ic, mc, (*bpAll)[e*rows*nPad:], (*gxAll)[e*gr*nPad:])
				}
			}
			return
		}
		// One example at a time: its dC packed block by block, its gates expanded.
		bp, gx := getBuf(kcMax*nPad), getBuf(gr*nPad)
		defer func() { putBuf(bp); putBuf(gx) }()
		for e := 0; e < batch; e++ {
			k.expandCols(*gx, g[e*gr*gc:(e+1)*gr*gc], gr, gc, bw, nPad, n)
			for pc := 0; pc < rows; pc += k.kc {
				kc := min(k.kc, rows-pc)
				// B side: dC_e (rows×n); A side: A_eᵀ (k×rows).
				k.packB(*bp, dc[(e*rows)*lddc:], lddc, false, pc, kc, 0, n, k.nr)
				for ic := p0; ic < p1; ic += k.mc {
					tiles(e, pc, kc, ic, min(k.mc, p1-ic), *bp, *gx)
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
