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
	m, d, f, e := x.Rows, x.Cols, w0.Cols, wo.Cols
	if w0.Rows != d || w1.Rows != d || w1.Cols != f || wo.Rows != f {
		panic(fmt.Sprintf("autograd: GatedFFN: x %d×%d, w0 %d×%d, w1 %d×%d, wo %d×%d do not chain",
			m, d, w0.Rows, w0.Cols, w1.Rows, w1.Cols, wo.Rows, wo.Cols))
	}
	if act < ActGELU || act > ActSiLU {
		panic(fmt.Sprintf("autograd: GatedFFN: unknown activation %d", act))
	}
	out := t.result(m, e, x, w0, w1, wo)
	rows, blocks, parts, cs := ffnBlocks(m, d, f, e)
	// Kept for the backward pass: h = [x·w0 | x·w1] (m·f values each) and the
	// activation g; without a gradient, one block of each per part, reused. The rows
	// of g are ld apart (ops.DirectLD), so the output product reads them in place (as
	// the backward pass's input-gradient products read the gradients of x·w0 and x·w1).
	kept, ld := m, ops.DirectLD(f)
	if !out.needsGrad {
		kept = min(m, parts*rows)
	}
	h, g := t.f.alloc(2*kept*f), t.f.alloc(kept*ld)
	p0, p1, po := ops.PackB(false, d, f, w0.Data, f), ops.PackB(false, d, f, w1.Data, f), ops.PackB(false, f, e, wo.Data, e)
	j := &t.jobs.ffnFwd
	*j = ffnForward{act: act, x: x.Data, out: out.Data, h0: h[:kept*f], h1: h[kept*f:], g: g, p0: p0, p1: p1, po: po,
		m: m, d: d, f: f, e: e, ld: ld, rows: rows, keep: out.needsGrad, cs: cs, buf: t.f.alloc(2 * parts * cs)}
	ops.ParallelRangeIn(parts, blocks, j)
	*j = ffnForward{}
	p0.Release()
	p1.Release()
	po.Release()
	if out.needsGrad {
		t.push(record{op: opGatedFFN, out: out, a: x, b: w0, c: w1, d: wo, s0: h, s1: g, n: [6]int{int(act), ld}})
	}
	return out
}

// ffnBlocks is how GatedFFN's passes cut m rows (hidden width f): blocks of rows rows
// (ffnBlockRows), run in parts side by side (ops.Parts, weighed by a block's
// multiply-adds), and the activation's chunk cs.
func ffnBlocks(m, d, f, e int) (rows, blocks, parts, cs int) {
	rows = ffnBlockRows(f)
	blocks = (m + rows - 1) / rows
	parts = max(1, ops.Parts(blocks, rows*f*(2*d+e)))
	return rows, blocks, parts, min(gluChunk, rows*f)
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
	ld         int       // the leading dimension of g (h0 and h1: f)
	rows, cs   int       // block height, the activation's chunk
	keep       bool      // h0, h1 and g hold all rows (else one block per part)
	buf        []float32 // the activation's scratch: 2·cs values per part
}

func (j *ffnForward) RunRange(part, lo, hi int) {
	d, f, e, ld, cs := j.d, j.f, j.e, j.ld, j.cs
	buf := j.buf[2*part*cs : 2*(part+1)*cs]
	for b := lo; b < hi; b++ {
		r0 := b * j.rows
		n := min(j.rows, j.m-r0)
		at := r0 // where the block lives in h0, h1 and g
		if !j.keep {
			at = part * j.rows
		}
		xb := j.x[r0*d : (r0+n)*d]
		hb0, hb1, gb := j.h0[at*f:(at+n)*f], j.h1[at*f:(at+n)*f], j.g[at*ld:(at+n)*ld]
		ops.GemmPackedSerial(false, n, 1, xb, d, j.p0, 0, hb0, f)
		ops.GemmPackedSerial(false, n, 1, xb, d, j.p1, 0, hb1, f)
		for r := range n {
			gated := gluForward{act: j.act, a: hb0[r*f : (r+1)*f], b: hb1[r*f : (r+1)*f], out: gb[r*ld : r*ld+f], cs: cs, buf: buf}
			gated.RunRange(0, 0, (f+gluChunk-1)/gluChunk)
		}
		ops.GemmPackedSerial(false, n, 1, gb, ld, j.po, 0, j.out[r0*e:(r0+n)*e], e)
	}
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
	x, w0, w1, wo := r.a, r.b, r.c, r.d
	m, d, f, e, ld := x.Rows, x.Cols, w0.Cols, wo.Cols, r.n[1]
	dy, g := r.out.Grad, r.s1
	h0, h1 := r.s0[:m*f], r.s0[m*f:]
	if dwo, fresh := t.accum(wo); dwo != nil { // dwo (f×e) = gᵀ·dy
		ops.Gemm(true, false, f, e, m, 1, g, ld, dy, e, beta(fresh), dwo, e)
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
	rows, blocks, parts, cs := ffnBlocks(m, d, f, e)
	dh := t.f.alloc(2 * m * ld)
	dh0, dh1 := dh[:m*ld], dh[m*ld:]
	j := &t.jobs.ffnBwd
	*j = ffnBackward{act: act, dy: dy, h0: h0, h1: h1, dh0: dh0, dh1: dh1, dx: dx, xFresh: xFresh,
		dg: t.f.alloc(parts * rows * f), buf: t.f.alloc(2 * parts * cs),
		pot: ops.PackB(true, e, f, wo.Data, e), m: m, d: d, f: f, e: e, ld: ld, rows: rows, cs: cs}
	if dx != nil {
		j.p0t, j.p1t = ops.PackB(true, f, d, w0.Data, f), ops.PackB(true, f, d, w1.Data, f)
	}
	ops.ParallelRangeIn(parts, blocks, j)
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
	dy, h0, h1, dh0, dh1 []float32 // dh0 and dh1 have rows ld apart
	dx                   []float32 // nil when x needs no gradient
	xFresh               bool
	dg, buf              []float32 // per part: a block of dg (rows·f values), the activation's scratch (2·cs)
	pot, p0t, p1t        *ops.PackedB
	m, d, f, e, ld       int
	rows, cs             int
}

func (j *ffnBackward) RunRange(part, lo, hi int) {
	d, f, e, ld, cs := j.d, j.f, j.e, j.ld, j.cs
	dg := j.dg[part*j.rows*f : (part+1)*j.rows*f]
	buf := j.buf[2*part*cs : 2*(part+1)*cs]
	for b := lo; b < hi; b++ {
		r0 := b * j.rows
		n := min(j.rows, j.m-r0)
		blk := func(s []float32, w int) []float32 { return s[r0*w : (r0+n)*w] }
		dgb := dg[:n*f]
		ops.GemmPackedSerial(false, n, 1, blk(j.dy, e), e, j.pot, 0, dgb, f)
		h0, h1, dh0, dh1 := blk(j.h0, f), blk(j.h1, f), blk(j.dh0, ld), blk(j.dh1, ld)
		for r := range n {
			at := func(s []float32, w int) []float32 { return s[r*w : r*w+f] }
			gated := gluBackward{act: j.act, g: at(dgb, f), a: at(h0, f), b: at(h1, f), da: at(dh0, ld), db: at(dh1, ld),
				daFresh: true, dbFresh: true, cs: cs, bufs1: buf[:cs], bufs2: buf[cs:]}
			gated.RunRange(0, 0, (f+gluChunk-1)/gluChunk)
		}
		if j.dx != nil {
			ops.GemmPackedSerial(false, n, 1, dh1, ld, j.p1t, beta(j.xFresh), blk(j.dx, d), d)
			ops.GemmPackedSerial(false, n, 1, dh0, ld, j.p0t, 1, blk(j.dx, d), d)
		}
	}
}
