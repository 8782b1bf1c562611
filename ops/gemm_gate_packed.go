package ops

import (
	"fmt"
	"time"
)

// GatePacked returns one example's gated copy of a packed weight: p's panels, each value
// multiplied by its cell of the example's gate grid g (gr×gc values, rows over the
// weight B's rows), rounded as the grid-gated products round it. GemmPackedSerial or
// GemmPacked against it computes, bit for bit, what GridGatedGemmPackedSerial computes
// against p with that grid, and for a p packed transposed (PackB(true, …), Bᵀ) what
// GridGatedGemmGradAPackedSerial does. A caller that runs one example's rows in several
// products (blocks that keep their hidden layers in cache) gates the weight once for
// all of them this way, where each grid-gated product gates its own copy.
//
// into, when not nil, is a PackedB from an earlier GatePacked call whose buffer is
// reused (or released, when it is too small); the result replaces it. GatePacked
// returns nil where the products run on the generic Go code, which packs nothing: call
// the grid-gated products there. A profile counts it as an operation of its own,
// "GatePacked".
func GatePacked(into, p *PackedB, gr, gc int, g []float32) *PackedB {
	if profiling.Load() {
		defer profiled("GatePacked", time.Now(), 0)
	}
	if p.gated {
		panic("ops: GatePacked: the weight is already gated")
	}
	// bRows, bCols: the weight B's shape, over which the grid lies.
	bRows, bCols := p.kk, p.n
	if p.transB {
		bRows, bCols = p.n, p.kk
	}
	if gr <= 0 || gc <= 0 || bRows%gr != 0 || bCols%gc != 0 || len(g) < gr*gc {
		panic(fmt.Sprintf("ops: GatePacked: a %d×%d grid (%d gates) does not tile a %d×%d weight", gr, gc, len(g), bRows, bCols))
	}
	k := p.k
	if k == nil {
		if into != nil {
			into.Release()
		}
		return nil
	}
	nPad := roundUp(p.n, k.nr)
	size := nPad * p.kk
	if into == nil || into.buf == nil || cap(*into.buf) < size {
		if into != nil {
			into.Release()
		}
		into = &PackedB{buf: getBuf(size)}
	}
	buf := into.buf
	*into = PackedB{k: k, transB: p.transB, kk: p.kk, n: p.n, gated: true, buf: buf, panels: (*buf)[:size]}
	if p.kk == 0 || p.n == 0 {
		return into
	}
	if p.transB {
		k.gateTransposed(into.panels, p.panels, p.kk, p.n, gr, gc, g)
	} else {
		k.gatePlain(into.panels, p.panels, p.kk, p.n, gr, gc, g)
	}
	return into
}

// gatePlain writes dst = src gated, for the panels of op(B) = B (kk×n), each as
// gridGatedBlocked gates it (gatePanel).
func (k *gemmKernels) gatePlain(dst, src []float32, kk, n, gr, gc int, g []float32) {
	bh, bw := kk/gr, n/gc
	nPad := roundUp(n, k.nr)
	gx := getBuf(gr * nPad)
	defer putBuf(gx)
	k.expandCols(*gx, g, gr, gc, bw, nPad, n)
	for pc := 0; pc < kk; pc += k.kc {
		kc := min(k.kc, kk-pc)
		for jr := 0; jr < n; jr += k.nr {
			off := pc*nPad + jr*kc
			k.gatePanel(dst[off:], src[off:], pc, kc, jr, bh, nPad, *gx)
		}
	}
}

// gateTransposed writes dst = src gated, for the panels of op(B) = Bᵀ (kk×n, B n×kk),
// each as gridGatedGradABlocked gates it (gatePanelTransposed).
func (k *gemmKernels) gateTransposed(dst, src []float32, kk, n, gr, gc int, g []float32) {
	t := k.newTransposedGates(n, kk, gr, gc) // in B's terms: n rows, kk columns
	gx := getBuf(t.size())
	defer putBuf(gx)
	k.expandTransposed(t, *gx, g)
	for pc := 0; pc < kk; pc += k.kc {
		kc := min(k.kc, kk-pc)
		for jr := 0; jr < t.kPad; jr += k.nr {
			off := pc*t.kPad + jr*kc
			k.gatePanelTransposed(t, dst[off:], src[off:], pc, kc, jr, *gx)
		}
	}
}
