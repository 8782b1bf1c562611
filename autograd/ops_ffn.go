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
	rows := ffnBlockRows(f)
	// Kept for the backward pass: h = [x·w0 | x·w1] (m·f values each) and the
	// activation g; without a gradient, one block of each, reused.
	kept := m
	if !out.needsGrad {
		kept = min(m, rows)
	}
	h, g := t.f.alloc(2*kept*f), t.f.alloc(kept*f)
	h0, h1 := h[:kept*f], h[kept*f:]
	p0, p1, po := ops.PackB(false, d, f, w0.Data, f), ops.PackB(false, d, f, w1.Data, f), ops.PackB(false, f, e, wo.Data, e)
	defer func() { p0.Release(); p1.Release(); po.Release() }()
	buf := t.gluScratch(act, rows*f)
	for r0 := 0; r0 < m; r0 += rows {
		n := min(rows, m-r0)
		at := r0 // where the block lives in h and g
		if !out.needsGrad {
			at = 0
		}
		xb := x.Data[r0*d : (r0+n)*d]
		hb0, hb1, gb := h0[at*f:(at+n)*f], h1[at*f:(at+n)*f], g[at*f:(at+n)*f]
		ops.GemmPacked(false, n, 1, xb, d, p0, 0, hb0, f)
		ops.GemmPacked(false, n, 1, xb, d, p1, 0, hb1, f)
		t.gatedForward(act, gb, hb0, hb1, buf)
		ops.GemmPacked(false, n, 1, gb, f, po, 0, out.Data[r0*e:(r0+n)*e], e)
	}
	if out.needsGrad {
		t.push(record{op: opGatedFFN, out: out, a: x, b: w0, c: w1, d: wo, s0: h, s1: g, n: [6]int{int(act)}})
	}
	return out
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

// gluScratch returns the per-part scratch that gatedForward and gatedBackward need for
// chunks of a block of n values (none for GEGLU's fused kernels going forward).
func (t *Tape) gluScratch(act Act, n int) []float32 {
	cs := min(gluChunk, n)
	return t.f.alloc(2 * max(1, ops.Parts((n+gluChunk-1)/gluChunk, gluCost)) * max(cs, 1))
}

// gatedForward writes act(a) ⊙ b into out chunk by chunk, as GatedAct does.
func (t *Tape) gatedForward(act Act, out, a, b, buf []float32) {
	n, cs := len(a), min(gluChunk, len(a))
	chunks := (n + gluChunk - 1) / gluChunk
	parts := max(1, min(ops.Parts(chunks, gluCost), len(buf)/max(2*cs, 1)))
	j := &t.jobs.gluFwd
	*j = gluForward{act: act, a: a, b: b, out: out, cs: cs, buf: buf}
	ops.ParallelRangeIn(parts, chunks, j)
	*j = gluForward{}
}

func (t *Tape) gatedFFNBackward(r *record) {
	act := Act(r.n[0])
	x, w0, w1, wo := r.a, r.b, r.c, r.d
	m, d, f, e := x.Rows, x.Cols, w0.Cols, wo.Cols
	dy, g := r.out.Grad, r.s1
	h0, h1 := r.s0[:m*f], r.s0[m*f:]
	if dwo, fresh := t.accum(wo); dwo != nil { // dwo (f×e) = gᵀ·dy
		ops.Gemm(true, false, f, e, m, 1, g, f, dy, e, beta(fresh), dwo, e)
	}
	dx, xFresh := t.accum(x)
	dw0, w0Fresh := t.accum(w0)
	dw1, w1Fresh := t.accum(w1)
	if dx == nil && dw0 == nil && dw1 == nil {
		return
	}
	// Block by block: the hidden gradient dg = dy·woᵀ, the gradients of x·w0 and x·w1
	// from it, and x's gradient from those (x·w1's term first, as the composition's
	// reverse order adds them).
	rows := ffnBlockRows(f)
	dh := t.f.alloc(2 * m * f)
	dh0, dh1 := dh[:m*f], dh[m*f:]
	dg := t.f.alloc(min(m, rows) * f)
	buf := t.gluScratch(act, rows*f)
	pot := ops.PackB(true, e, f, wo.Data, e)
	defer pot.Release()
	var p0t, p1t *ops.PackedB
	if dx != nil {
		p0t, p1t = ops.PackB(true, f, d, w0.Data, f), ops.PackB(true, f, d, w1.Data, f)
		defer func() { p0t.Release(); p1t.Release() }()
	}
	for r0 := 0; r0 < m; r0 += rows {
		n := min(rows, m-r0)
		blk := func(s []float32, w int) []float32 { return s[r0*w : (r0+n)*w] }
		dgb := dg[:n*f]
		ops.GemmPacked(false, n, 1, blk(dy, e), e, pot, 0, dgb, f)
		t.gatedBackward(act, dgb, blk(h0, f), blk(h1, f), blk(dh0, f), blk(dh1, f), buf)
		if dx != nil {
			ops.GemmPacked(false, n, 1, blk(dh1, f), f, p1t, beta(xFresh), blk(dx, d), d)
			ops.GemmPacked(false, n, 1, blk(dh0, f), f, p0t, 1, blk(dx, d), d)
		}
	}
	// The weight gradients sum over all rows: one product each, as in the composition.
	if dw1 != nil {
		ops.Gemm(true, false, d, f, m, 1, x.Data, d, dh1, f, beta(w1Fresh), dw1, f)
	}
	if dw0 != nil {
		ops.Gemm(true, false, d, f, m, 1, x.Data, d, dh0, f, beta(w0Fresh), dw0, f)
	}
}

// gatedBackward writes both gradients of out = act(a) ⊙ b, given out's gradient dout,
// into da and db (overwritten) chunk by chunk, as GatedAct's backward pass does.
func (t *Tape) gatedBackward(act Act, dout, a, b, da, db, buf []float32) {
	n, cs := len(dout), min(gluChunk, len(dout))
	chunks := (n + gluChunk - 1) / gluChunk
	parts := max(1, min(ops.Parts(chunks, gluCost), len(buf)/max(2*cs, 1)))
	j := &t.jobs.gluBwd
	*j = gluBackward{act: act, g: dout, a: a, b: b, da: da, db: db, daFresh: true, dbFresh: true,
		cs: cs, bufs1: buf[:parts*cs], bufs2: buf[parts*cs : 2*parts*cs]}
	ops.ParallelRangeIn(parts, chunks, j)
	*j = gluBackward{}
}

// beta is a product's beta for a gradient buffer: 0 overwrites a fresh one, 1 adds.
func beta(fresh bool) float32 {
	if fresh {
		return 0
	}
	return 1
}
