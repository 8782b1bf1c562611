package autograd

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/ops"
)

// GatedFFN returns GatedAct(act, x·w0, x·w1)·wo, a gated feed-forward layer (GEGLU,
// ReGLU, SwiGLU): x is m×d, w0 and w1 are d×f, wo is f×e. Its value and every
// gradient equal the composition's — MatMul, MatMul, GatedAct, MatMul — bit for bit,
// but it runs block by block of ffnBlockRows(f) rows, with the three weights packed
// once (ops.PackB): a block's hidden layers are still in cache when the activation
// reads them and the output product reads its result, and in the backward pass the
// hidden layer's gradient never leaves the cache (it is computed, turned into the
// gradients of x·w0 and x·w1, and consumed by the block's input gradient, block by
// block). The forward pass keeps x·w0, x·w1 and the activation for the backward pass,
// as the composition does; without a gradient it keeps nothing but one block.
func (t *Tape) GatedFFN(act Act, x, w0, w1, wo *Tensor) *Tensor {
	return t.gatedFFN("GatedFFN", act, x, w0, w1, wo, nil, ffnGrid{})
}

// GridGatedFFN is GatedFFN with a HyperGrid output weight: GatedAct(act, x·w0, x·w1)
// through GridGatedMatMul(·, wo, g, batch, gr, gc), each example (x.Rows/batch rows)
// with its own gate grid (g, batch×(gr·gc)). It runs as GatedFFN runs, block by block:
// the gated output product of a block reads the activation from cache, and going back
// its input gradient is consumed in cache by the activation's; the weight and gate
// gradients are one GridGatedGemmGradBG over all rows, as in the composition. Its value
// and every gradient equal the composition's (MatMul, MatMul, GatedAct,
// GridGatedMatMul) bit for bit.
func (t *Tape) GridGatedFFN(act Act, x, w0, w1, wo, g *Tensor, batch, gr, gc int) *Tensor {
	f, e := wo.Rows, wo.Cols
	if batch <= 0 || x.Rows%batch != 0 || g.Rows != batch || g.Cols != gr*gc || gr <= 0 || gc <= 0 || f%gr != 0 || e%gc != 0 {
		panic(fmt.Sprintf("autograd: GridGatedFFN: x %d×%d, wo %d×%d, g %d×%d, batch %d, grid %d×%d do not fit",
			x.Rows, x.Cols, wo.Rows, wo.Cols, g.Rows, g.Cols, batch, gr, gc))
	}
	return t.gatedFFN("GridGatedFFN", act, x, w0, w1, wo, g, ffnGrid{rows: x.Rows / batch, gr: gr, gc: gc})
}

// ffnGrid is GridGatedFFN's gating of the output weight: rows per example and the
// grid's shape (rows 0: GatedFFN, not gated).
type ffnGrid struct{ rows, gr, gc int }

// pieces calls f for each piece of rows [r0, r1) that lies in one example: the piece's
// first row, its row count and its example.
func (gd ffnGrid) pieces(r0, r1 int, f func(r, n, e int)) {
	for r := r0; r < r1; {
		e := r / gd.rows
		end := min(r1, (e+1)*gd.rows)
		f(r, end-r, e)
		r = end
	}
}

// gatesOf is example ex's gate grid in gates (one grid per example, side by side).
func (gd ffnGrid) gatesOf(gates []float32, ex int) []float32 {
	return gates[ex*gd.gr*gd.gc : (ex+1)*gd.gr*gd.gc]
}

// gatedWeights holds, for each part of a GridGatedFFN pass, the output weight's packed
// panels gated for the example the part last ran (ops.GatePacked): a part's blocks take
// an example's rows in turn (blocks of ffnBlockRows rows, cut at the example's ends), and
// the weight is gated once for all of them, where a grid-gated product per block would
// gate its own copy each time. The products against a gated copy give the grid-gated
// products' bits. The zero value gates nothing.
type gatedWeights struct {
	p      *ops.PackedB
	grid   ffnGrid
	gates  []float32
	copies []*ops.PackedB // per part; nil until its first example
	ex     []int          // per part: the example its copy is gated for
}

// newGatedWeights readies gated copies of p for the parts of split, with one gate grid
// per example in gates, where an example's rows span several blocks. Where a block
// holds whole examples (a decoder's 8 rows, or 128 with a 2 MiB L2) each example is one
// product either way, and the grid-gated product's gating, one micro-panel at a time in
// L1, costs less than writing a copy of the whole weight: it gets the zero value.
func newGatedWeights(p *ops.PackedB, grid ffnGrid, gates []float32, split ffnSplit) gatedWeights {
	if ffnGateCopies < 0 || ffnGateCopies == 0 && grid.rows <= split.rows {
		return gatedWeights{}
	}
	parts := split.parts
	w := gatedWeights{p: p, grid: grid, gates: gates, copies: make([]*ops.PackedB, parts), ex: make([]int, parts)}
	for i := range w.ex {
		w.ex[i] = -1
	}
	return w
}

// forExample is part's copy of the weight gated for example ex, gating it anew when the
// part's last example was another. It is nil where the products run on the generic Go
// code (ops.GatePacked), and for the zero gatedWeights: then the grid-gated products
// gate the weight themselves.
func (w *gatedWeights) forExample(part, ex int) *ops.PackedB {
	if w.p == nil {
		return nil
	}
	if w.ex[part] != ex {
		w.copies[part] = ops.GatePacked(w.copies[part], w.p, w.grid.gr, w.grid.gc, w.grid.gatesOf(w.gates, ex))
		w.ex[part] = ex
	}
	return w.copies[part]
}

// ffnGateCopies chooses when GridGatedFFN gates copies of its weight: 0 where examples
// span blocks (newGatedWeights), 1 always, -1 never (benchmarks: the ways side by side).
var ffnGateCopies = 0

// release hands the gated copies back to the pool.
func (w *gatedWeights) release() {
	for _, c := range w.copies {
		if c != nil {
			c.Release()
		}
	}
	*w = gatedWeights{}
}

// gatedFFN is GatedFFN, or GridGatedFFN when g is not nil.
func (t *Tape) gatedFFN(name string, act Act, x, w0, w1, wo, g *Tensor, grid ffnGrid) *Tensor {
	m, d, f, e := x.Rows, x.Cols, w0.Cols, wo.Cols
	if w0.Rows != d || w1.Rows != d || w1.Cols != f || wo.Rows != f {
		panic(fmt.Sprintf("autograd: %s: x %d×%d, w0 %d×%d, w1 %d×%d, wo %d×%d do not chain",
			name, m, d, w0.Rows, w0.Cols, w1.Rows, w1.Cols, wo.Rows, wo.Cols))
	}
	if act < ActGELU || act > ActSiLU {
		panic(fmt.Sprintf("autograd: %s: unknown activation %d", name, act))
	}
	out := t.result(m, e, x, w0, w1, wo, g)
	split, cs := ffnBlocks(m, d, f, e, grid.rows)
	parts := split.parts
	// Kept for the backward pass: h = [x·w0 | x·w1] (m rows each) and the activation
	// g; without a gradient, one block of each per part, reused. Their rows are ld
	// apart (ops.DirectLD), so the output product reads g in place, as the backward
	// pass's input-gradient products read the gradients of x·w0 and x·w1, which GEGLU's
	// backward pass writes over h.
	kept, ld, partRows := m, ops.DirectLD(f), 0
	if !out.needsGrad {
		partRows = split.maxBlock() // a part's blocks take turns in its rows
		kept = parts * partRows
	}
	h, gk := t.f.alloc(2*kept*ld), t.f.alloc(kept*ld)
	p0, p1, po := ops.PackB(false, d, f, w0.Data, f), ops.PackB(false, d, f, w1.Data, f), ops.PackB(false, f, e, wo.Data, e)
	j := &t.jobs.ffnFwd
	*j = ffnForward{act: act, x: x.Data, out: out.Data, h0: h[:kept*ld], h1: h[kept*ld:], g: gk, p0: p0, p1: p1, po: po,
		m: m, d: d, f: f, e: e, ld: ld, split: split, keep: out.needsGrad, partRows: partRows, cs: cs, buf: t.f.alloc(2 * parts * cs), grid: grid}
	if g != nil {
		j.gates = g.Data
		j.gated = newGatedWeights(po, grid, g.Data, split)
	}
	ops.ParallelRangeIn(parts, parts, j)
	j.gated.release()
	*j = ffnForward{}
	p0.Release()
	p1.Release()
	po.Release()
	if out.needsGrad {
		t.push(record{op: opGatedFFN, out: out, a: x, b: w0, c: w1, d: wo, e: g, s0: h, s1: gk, n: [6]int{int(act), ld, grid.rows, grid.gr, grid.gc}})
	}
	return out
}

// ffnBlocks is how GatedFFN's passes cut m rows (hidden width f): parts that run side
// by side (ops.Parts, weighed by a block's multiply-adds), each cut into blocks of at
// most rows rows (ffnBlockRows), and the activation's chunk cs. With examples of exRows
// rows (GridGatedFFN; 0 for GatedFFN) a block holds whole examples where they fit, or
// one example up to twice the height: every call of a gated product gates its own copy
// of the weight's panels, so a block cut across examples pays that twice.
func ffnBlocks(m, d, f, e, exRows int) (split ffnSplit, cs int) {
	rows := ffnBlockRows(f)
	unit := rows
	switch {
	case exRows <= 0:
		unit = min(rows, 8)
	case ffnRowsOverride > 0:
	case exRows <= rows:
		rows = rows / exRows * exRows
		unit = exRows
	case exRows <= 2*rows:
		rows, unit = exRows, exRows
	}
	blocks := (m + rows - 1) / rows
	parts := max(1, ops.Parts(blocks, rows*f*(2*d+e)))
	return ffnSplit{m: m, rows: rows, unit: unit, parts: parts}, min(gluChunk, rows*f)
}

// ffnSplit shares m rows among parts side by side as evenly as whole units of unit rows
// allow (whole examples for GridGatedFFN, 8 rows for GatedFFN), and cuts each part into
// blocks of at most rows rows. Cutting the rows into blocks first and sharing the blocks
// left a part up to a block's work behind the other: 4096 rows in blocks of 80 gave 2080
// and 2016 rows, and a decoder's 256 gave 160 and 96. Where the blocks fall changes no
// value (each row's products and activation are the same however the rows are cut).
type ffnSplit struct {
	m, rows, unit, parts int
}

// span is part q's rows [lo, hi).
func (s ffnSplit) span(q int) (lo, hi int) {
	units := (s.m + s.unit - 1) / s.unit
	return min(s.m, q*units/s.parts*s.unit), min(s.m, (q+1)*units/s.parts*s.unit)
}

// gemm is the product a block's plain (not grid-gated) products run on: each on the
// block's goroutine when parts run side by side, else over all the threads. A decoding
// step's 32 rows make one block, whose products ran on one core of two (`bench
// generate t5-mini` at 2 threads 243-254 → 231-236 ms a batch). The same bits either
// way (GemmPacked, GemmPackedSerial).
func (s ffnSplit) gemm() func(transA bool, m int, alpha float32, a []float32, lda int, p *ops.PackedB, beta float32, c []float32, ldc int) {
	if s.parts > 1 {
		return ops.GemmPackedSerial
	}
	return ops.GemmPacked
}

// maxBlock is the most rows of any block.
func (s ffnSplit) maxBlock() int {
	most := 0
	for q := range s.parts {
		lo, hi := s.span(q)
		most = max(most, min(s.rows, hi-lo))
	}
	return most
}

// blocks calls f for each block of part q: its first row and row count.
func (s ffnSplit) blocks(q int, f func(r0, n int)) {
	lo, hi := s.span(q)
	for r := lo; r < hi; r += s.rows {
		f(r, min(s.rows, hi-r))
	}
}

// ffnForward is GatedFFN's loop over blocks of rows: the blocks run side by side, each
// on one goroutine (GemmPackedSerial, the activation chunk by chunk), so a block's
// hidden layer stays in its core's cache and no product waits for the others.
type ffnForward struct {
	act        Act
	x, out     []float32
	h0, h1, g  []float32 // all rows (keep), or one block per part
	p0, p1, po *ops.PackedB
	m, d, f, e int
	ld         int       // the leading dimension of h0, h1 and g
	split      ffnSplit  // the parts and their blocks
	cs         int       // the activation's chunk
	keep       bool      // h0, h1 and g hold all rows (else one block per part)
	partRows   int       // without keep: the rows of each part's block in h0, h1 and g
	buf        []float32 // the activation's scratch: 2·cs values per part
	grid       ffnGrid   // GridGatedFFN's gating of po (rows 0: none)
	gates      []float32 // GridGatedFFN's gate grids, one per example
	gated      gatedWeights
}

// RunRange runs parts [lo, hi) of j.split.
func (j *ffnForward) RunRange(part, lo, hi int) {
	for q := lo; q < hi; q++ {
		j.split.blocks(q, func(r0, n int) { j.block(part, r0, n) })
	}
}

// block runs rows [r0, r0+n) on the goroutine of part part.
func (j *ffnForward) block(part, r0, n int) {
	d, f, e, ld, cs := j.d, j.f, j.e, j.ld, j.cs
	buf := j.buf[2*part*cs : 2*(part+1)*cs]
	at := r0 // where the block lives in h0, h1 and g
	if !j.keep {
		at = part * j.partRows
	}
	xb := j.x[r0*d : (r0+n)*d]
	hb0, hb1, gb := j.h0[at*ld:(at+n)*ld], j.h1[at*ld:(at+n)*ld], j.g[at*ld:(at+n)*ld]
	gemm := j.split.gemm()
	gemm(false, n, 1, xb, d, j.p0, 0, hb0, ld)
	gemm(false, n, 1, xb, d, j.p1, 0, hb1, ld)
	for r := range n {
		gated := gluForward{act: j.act, a: hb0[r*ld : r*ld+f], b: hb1[r*ld : r*ld+f], out: gb[r*ld : r*ld+f], cs: cs, buf: buf}
		gated.RunRange(0, 0, (f+gluChunk-1)/gluChunk)
	}
	if j.grid.rows == 0 {
		gemm(false, n, 1, gb, ld, j.po, 0, j.out[r0*e:(r0+n)*e], e)
		return
	}
	gd := j.grid
	gd.pieces(r0, r0+n, func(r, rn, ex int) {
		a, c := gb[(r-r0)*ld:], j.out[r*e:]
		if w := j.gated.forExample(part, ex); w != nil {
			gemm(false, rn, 1, a, ld, w, 0, c, e)
			return
		}
		ops.GridGatedGemmPackedSerial(1, rn, gd.gr, gd.gc, a, ld, j.po, gd.gatesOf(j.gates, ex), 0, c, e)
	})
}

// ffnBlockRows is GatedFFN's block height for hidden width f: a block's three hidden
// tensors (x·w0, x·w1 and the activation, f values a row each) take at most half the
// L2 cache, leaving the rest to the packed weights streaming through; a multiple of 8
// rows, at least 16.
func ffnBlockRows(f int) int {
	if ffnRowsOverride > 0 {
		return ffnRowsOverride
	}
	return max(16, ops.L2Bytes()/2/(3*4*max(f, 1))/8*8)
}

// ffnRowsOverride, when positive, replaces ffnBlockRows' height (tests: several blocks
// on small shapes).
var ffnRowsOverride int

func (t *Tape) gatedFFNBackward(r *record) {
	act := Act(r.n[0])
	x, w0, w1, wo, gates := r.a, r.b, r.c, r.d, r.e
	m, d, f, e, ld := x.Rows, x.Cols, w0.Cols, wo.Cols, r.n[1]
	grid := ffnGrid{rows: r.n[2], gr: r.n[3], gc: r.n[4]}
	dy, g := r.out.Grad, r.s1
	h0, h1 := r.s0[:m*ld], r.s0[m*ld:]
	if grid.rows == 0 {
		if dwo, fresh := t.accum(wo); dwo != nil { // dwo (f×e) = gᵀ·dy
			ops.Gemm(true, false, f, e, m, 1, g, ld, dy, e, beta(fresh), dwo, e)
		}
	} else if dwo, dg := t.accumZero(wo), t.accumZero(gates); dwo != nil || dg != nil {
		ops.GridGatedGemmGradBG(m/grid.rows, grid.rows, f, e, grid.gr, grid.gc, g, ld, dy, e, wo.Data, e, gates.Data, dwo, e, dg)
	}
	dx, xFresh := t.accum(x)
	dw0, w0Fresh := t.accum(w0)
	dw1, w1Fresh := t.accum(w1)
	if dx == nil && dw0 == nil && dw1 == nil {
		return
	}
	// Block by block, side by side: the hidden gradient dg = dy·woᵀ, the gradients of
	// x·w0 and x·w1 from it, and x's gradient from those (x·w1's term first, as the
	// composition's reverse order adds them).
	split, cs := ffnBlocks(m, d, f, e, grid.rows)
	rows, parts := split.rows, split.parts
	// GEGLU's kernel writes the gradients of x·w0 and x·w1 over them, row by row, as
	// it reads them (Backward runs once: nothing reads h again). The lines it writes
	// are in cache, where a buffer of their own would be fetched from memory first.
	dh0, dh1 := h0, h1
	if act != ActGELU {
		dh := t.f.alloc(2 * m * ld)
		dh0, dh1 = dh[:m*ld], dh[m*ld:]
	}
	j := &t.jobs.ffnBwd
	*j = ffnBackward{act: act, dy: dy, h0: h0, h1: h1, dh0: dh0, dh1: dh1, dx: dx, xFresh: xFresh,
		dg: t.f.alloc(parts * rows * f), buf: t.f.alloc(2 * parts * cs),
		pot: ops.PackB(true, e, f, wo.Data, e), m: m, d: d, f: f, e: e, ld: ld, split: split, cs: cs, grid: grid}
	if gates != nil {
		j.gates = gates.Data
		j.gated = newGatedWeights(j.pot, grid, gates.Data, split)
	}
	if dx != nil {
		j.p0t, j.p1t = ops.PackB(true, f, d, w0.Data, f), ops.PackB(true, f, d, w1.Data, f)
	}
	ops.ParallelRangeIn(parts, parts, j)
	j.gated.release()
	j.pot.Release()
	if dx != nil {
		j.p0t.Release()
		j.p1t.Release()
	}
	*j = ffnBackward{}
	// The weight gradients sum over all rows: one product each, as in the composition.
	if dw1 != nil {
		ops.Gemm(true, false, d, f, m, 1, x.Data, d, dh1, ld, beta(w1Fresh), dw1, f)
	}
	if dw0 != nil {
		ops.Gemm(true, false, d, f, m, 1, x.Data, d, dh0, ld, beta(w0Fresh), dw0, f)
	}
}

// ffnBackward is GatedFFN's backward loop over blocks of rows, side by side as the
// forward pass runs them.
type ffnBackward struct {
	act                  Act
	dy, h0, h1, dh0, dh1 []float32 // rows ld apart; with GEGLU dh0 is h0 and dh1 h1
	dx                   []float32 // nil when x needs no gradient
	xFresh               bool
	dg, buf              []float32 // per part: a block of dg (rows·f values), the activation's scratch (2·cs)
	pot, p0t, p1t        *ops.PackedB
	m, d, f, e, ld       int
	split                ffnSplit // the parts and their blocks
	cs                   int
	grid                 ffnGrid   // GridGatedFFN's gating of wo (rows 0: none)
	gates                []float32 // GridGatedFFN's gate grids
	gated                gatedWeights
}

// RunRange runs parts [lo, hi) of j.split.
func (j *ffnBackward) RunRange(part, lo, hi int) {
	for q := lo; q < hi; q++ {
		j.split.blocks(q, func(r0, n int) { j.block(part, r0, n) })
	}
}

// block runs rows [r0, r0+n) on the goroutine of part part.
func (j *ffnBackward) block(part, r0, n int) {
	d, f, e, ld, cs := j.d, j.f, j.e, j.ld, j.cs
	rows := j.split.rows
	dg := j.dg[part*rows*f : (part+1)*rows*f]
	buf := j.buf[2*part*cs : 2*(part+1)*cs]
	blk := func(s []float32, w int) []float32 { return s[r0*w : (r0+n)*w] }
	dgb := dg[:n*f]
	gemm := j.split.gemm()
	if gd := j.grid; gd.rows == 0 {
		gemm(false, n, 1, blk(j.dy, e), e, j.pot, 0, dgb, f)
	} else {
		gd.pieces(r0, r0+n, func(r, rn, ex int) {
			a, c := j.dy[r*e:], dgb[(r-r0)*f:]
			if w := j.gated.forExample(part, ex); w != nil {
				gemm(false, rn, 1, a, e, w, 0, c, f)
				return
			}
			ops.GridGatedGemmGradAPackedSerial(1, rn, gd.gr, gd.gc, a, e, j.pot, gd.gatesOf(j.gates, ex), 0, c, f)
		})
	}
	h0, h1, dh0, dh1 := blk(j.h0, ld), blk(j.h1, ld), blk(j.dh0, ld), blk(j.dh1, ld)
	for r := range n {
		at := func(s []float32, w int) []float32 { return s[r*w : r*w+f] }
		gated := gluBackward{act: j.act, g: at(dgb, f), a: at(h0, ld), b: at(h1, ld), da: at(dh0, ld), db: at(dh1, ld),
			daFresh: true, dbFresh: true, cs: cs, bufs1: buf[:cs], bufs2: buf[cs:]}
		gated.RunRange(0, 0, (f+gluChunk-1)/gluChunk)
	}
	if j.dx != nil {
		gemm(false, n, 1, dh1, ld, j.p1t, beta(j.xFresh), blk(j.dx, d), d)
		gemm(false, n, 1, dh0, ld, j.p0t, 1, blk(j.dx, d), d)
	}
}
