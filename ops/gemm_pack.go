package ops

import "time"

// Packing: the blocked drivers copy panels of A and B into contiguous, zero-padded
// micro-panels in the order their micro-kernels read them.

// packA packs rows [i0, i0+mc) and steps [p0, p0+kc) of op(A), scaled by alpha, into
// micro-panels of mr rows: dst[ir·kc + p·mr + r] = alpha·op(A)[i0+ir+r][p0+p], zero-padded.
func (k *gemmKernels) packA(dst []float32, a []float32, lda int, trans bool, i0, mc, p0, kc, mr int, alpha float32) {
	if profiling.Load() {
		defer countPacking(time.Now())
	}
	if trans {
		k.packAT(dst, a, lda, i0, mc, p0, kc, mr, alpha)
		return
	}
	il := k.interleaver(mr)
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		panel := dst[ir*kc : ir*kc+kc*mr]
		if rows == mr && il.pack(panel, a[(i0+ir)*lda+p0:], lda, kc, alpha) {
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
// stored A (packRowPieces).
func (k *gemmKernels) packAT(dst []float32, a []float32, lda int, i0, mc, p0, kc, mr int, alpha float32) {
	k.packRowPieces(dst, a, lda, p0*lda+i0, mc, kc, mr, alpha)
}

// packRowPieces packs columns [0, n) of the kc rows at src[base+p·ld:] into micro-panels
// w wide, each step p of a panel a piece of row p: dst[j·kc + p·w + c] =
// alpha·src[base + p·ld + j + c], zero-padded.
//
// It goes down the rows packRowBlock at a time and, for each such band, across the
// panels, writing each panel's piece of the band contiguously. Filling every panel's
// step p before step p+1 (a row at a time) writes to all the panels side by side, kc·w
// floats apart — a multiple of 4 KiB, one L1 set (BenchmarkPack, Intel Xeon model 207:
// A/trans=true 8.6 → 23 GB/s from L2, B/trans=false 22 → 28). Filling one whole panel
// at a time instead reads a piece of all kc rows at once: with rows 4 KiB apart (a
// 1024-wide gradient) that is kc pages touched together, more streams than the hardware
// prefetcher follows (on an Intel Xeon reporting model 167, BenchmarkGemm's
// 1024x256x4096/TN 141-143 → 159-173 GFLOP/s with the bands, and 256x1024x4096/TN
// 133-139 → 149-153).
func (k *gemmKernels) packRowPieces(dst, src []float32, ld, base, n, kc, w int, alpha float32) {
	full := n / w * w
	if cp := k.copyGroups[w]; alpha == 1 && cp != nil {
		for p0 := 0; p0 < kc; p0 += packRowBlock {
			rows := min(packRowBlock, kc-p0)
			for j := 0; j < full; j += w {
				cp(rows, &dst[j*kc+p0*w], &src[base+p0*ld+j], w, ld)
			}
		}
	} else {
		for j := 0; j < full; j += w {
			panel := dst[j*kc : j*kc+kc*w]
			for p := 0; p < kc; p++ {
				d, row := panel[p*w:p*w+w], src[base+p*ld+j:base+p*ld+j+w]
				for c, v := range row {
					d[c] = alpha * v
				}
			}
		}
	}
	if full < n {
		panel := dst[full*kc : full*kc+kc*w]
		for p := 0; p < kc; p++ {
			d := panel[p*w : p*w+w]
			for c, v := range src[base+p*ld+full : base+p*ld+n] {
				d[c] = alpha * v
			}
			clear(d[n-full:])
		}
	}
}

// packRowBlock is how many rows packRowPieces copies into one panel before moving on to
// the next: no more streams than the hardware prefetchers of current cores follow (4 to
// 32 rows measured within a few percent of each other; whole panels slower, and row by
// row slower still).
const packRowBlock = 16

// packB packs steps [p0, p0+kc) and columns [j0, j0+nc) of op(B) into micro-panels of nr
// columns: dst[jr·kc + p·nr + c] = op(B)[p0+p][j0+jr+c], zero-padded.
func (k *gemmKernels) packB(dst []float32, b []float32, ldb int, trans bool, p0, kc, j0, nc, nr int) {
	if profiling.Load() {
		defer countPacking(time.Now())
	}
	if !trans {
		// Step p of every panel is a piece of row p of B.
		k.packRowPieces(dst, b, ldb, p0*ldb+j0, nc, kc, nr, 1)
		return
	}
	il := k.interleaver(nr)
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		panel := dst[jr*kc : jr*kc+kc*nr]
		// op(B)[p][j] = b[j·ldb + p]: each column of the panel is a contiguous row of b.
		if cols == nr && il.pack(panel, b[(j0+jr)*ldb+p0:], ldb, kc, 1) {
			continue
		}
		// A partial panel: zeros, then its columns (one clear of the panel costs less
		// than kc short ones around the values).
		clear(panel)
		for c := 0; c < cols; c++ {
			src := b[(j0+jr+c)*ldb+p0 : (j0+jr+c)*ldb+p0+kc]
			for p, v := range src {
				panel[p*nr+c] = v
			}
		}
	}
}

// panelInterleaver packs w whole rows of src (leading dimension ld) for kc steps into a
// panel: panel[p·w + r] = alpha·src[r·ld + p]. The ISA's interleave kernel takes the
// steps 16 at a time, the generated Go interleaver the rest (or all of them).
type panelInterleaver struct {
	w       int
	simd    func(blocks int, dst, src *float32, ld int, alpha float32)
	generic func(dst, src []float32, ld, kc int, alpha float32)
}

// interleaver returns the panel interleaver of width w (looked up once per packing call).
func (k *gemmKernels) interleaver(w int) panelInterleaver {
	return panelInterleaver{w, k.interleave[w], packInterleavers[w]}
}

// pack packs one panel; it reports false, doing nothing, where width w has no
// interleaver.
func (pi panelInterleaver) pack(panel, src []float32, ld, kc int, alpha float32) bool {
	done := 0
	if pi.simd != nil && kc >= 16 && (pi.generic != nil || kc%16 == 0) {
		blocks := kc / 16
		pi.simd(blocks, &panel[0], &src[0], ld, alpha)
		done = blocks * 16
	} else if pi.generic == nil {
		return false
	}
	if done < kc {
		pi.generic(panel[done*pi.w:], src[done:], ld, kc-done, alpha)
	}
	return true
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// packWhole packs all of op(B) (kk×nn) as the per-example products use it: block pc of
// the inner dimension at dst[pc·nPad:], in panels of nr columns. The blocks and column
// ranges are spread over w goroutines.
func (k *gemmKernels) packWhole(w int, dst, b []float32, ldb int, trans bool, kk, nn int) {
	nPad := roundUp(nn, k.nr)
	blocks := (kk + k.kc - 1) / k.kc
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
	pc, j0 := (item/split)*k.kc, (item%split)*chunk
	kc, nc := min(k.kc, kk-pc), min(chunk, nn-j0)
	k.packB(dst[pc*nPad+j0*kc:], b, ldb, trans, pc, kc, j0, nc, k.nr)
}
