package autograd

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/ops"
)

// Act names an elementwise activation for GatedAct.
type Act uint8

// The activations GatedAct supports.
const (
	ActGELU Act = iota + 1 // tanh-approximated GELU: GEGLU
	ActReLU                // ReGLU
	ActSiLU                // SwiGLU
)

// gluChunk is how many values GatedAct processes at a time: small enough that act(a) and
// the other per-chunk temporaries stay in L1 instead of making a round trip to memory.
const gluChunk = 2048

// gluCost is the work of one chunk for ops.ParallelFor (about 8 multiply-adds a value).
const gluCost = 8 * gluChunk

// GatedAct returns act(a) ⊙ b, the hidden layer of a gated (GLU) feed-forward layer, in one
// pass: it equals Mul(act(a), b) value for value but reads a and b and writes the result
// once, and its backward pass recomputes act(a) chunk by chunk instead of storing it.
// GEGLU runs one fused kernel each way (ops.GatedGELU, ops.GatedGELUBackward: one
// exponential per value for both gradients), the same values as the composition.
func (t *Tape) GatedAct(act Act, a, b *Tensor) *Tensor {
	sameShape("GatedAct", a, b)
	if act < ActGELU || act > ActSiLU {
		panic(fmt.Sprintf("autograd: GatedAct: unknown activation %d", act))
	}
	out := t.result(a.Rows, a.Cols, a, b)
	// Chunks run side by side, each part with a scratch chunk of its own from the
	// tape's arena (no garbage); every value is computed as on one goroutine.
	n, cs := len(a.Data), min(gluChunk, len(a.Data))
	chunks := (n + gluChunk - 1) / gluChunk
	parts := ops.Parts(chunks, gluCost)
	j := &t.jobs.gluFwd
	*j = gluForward{act: act, a: a.Data, b: b.Data, out: out.Data, cs: cs}
	if act != ActGELU { // GEGLU's one kernel (ops.GatedGELU) needs no scratch
		j.buf = t.f.alloc(max(1, parts) * cs)
	}
	ops.ParallelRangeIn(parts, chunks, j)
	*j = gluForward{}
	if out.needsGrad {
		t.push(record{op: opGatedAct, out: out, a: a, b: b, n: [6]int{int(act)}})
	}
	return out
}

func applyAct(act Act, dst, x []float32) {
	switch act {
	case ActGELU:
		ops.GELU(dst, x)
	case ActReLU:
		ops.ReLU(dst, x)
	case ActSiLU:
		ops.SiLU(dst, x)
	}
}

func applyActBackward(act Act, dx, x, dy []float32) {
	switch act {
	case ActGELU:
		ops.GELUBackward(dx, x, dy)
	case ActReLU:
		ops.ReLUBackward(dx, x, dy)
	case ActSiLU:
		ops.SiLUBackward(dx, x, dy)
	}
}

// gatedActBackward: da = act'(a) ⊙ (g ⊙ b), db = g ⊙ act(a), chunk by chunk.
func (t *Tape) gatedActBackward(r *record) {
	act, g := Act(r.n[0]), r.out.Grad
	da, daFresh := t.accum(r.a)
	db, dbFresh := t.accum(r.b)
	n, cs := len(g), min(gluChunk, len(g))
	chunks := (n + gluChunk - 1) / gluChunk
	parts := max(1, ops.Parts(chunks, gluCost))
	j := &t.jobs.gluBwd
	*j = gluBackward{act: act, g: g, a: r.a.Data, b: r.b.Data, da: da, db: db, daFresh: daFresh, dbFresh: dbFresh,
		cs: cs, bufs1: t.f.alloc(parts * cs), bufs2: t.f.alloc(parts * cs)}
	ops.ParallelRangeIn(parts, chunks, j)
	*j = gluBackward{}
}

// gluForward is GatedAct's loop over chunks (a RangeRunner kept on the tape, so that a
// step allocates nothing); part p uses scratch buf[p·cs:].
type gluForward struct {
	act       Act
	a, b, out []float32
	buf       []float32
	cs        int
}

func (j *gluForward) RunRange(part, lo, hi int) {
	n := len(j.a)
	for c := lo; c < hi; c++ {
		off, end := c*gluChunk, min((c+1)*gluChunk, n)
		if j.act == ActGELU {
			ops.GatedGELU(j.out[off:end], j.a[off:end], j.b[off:end])
			continue
		}
		tmp := j.buf[part*j.cs : part*j.cs+end-off]
		applyAct(j.act, tmp, j.a[off:end])
		ops.Mul(j.out[off:end], tmp, j.b[off:end])
	}
}

// gluBackward is GatedAct's backward loop over chunks: da = act'(a) ⊙ (g ⊙ b),
// db = g ⊙ act(a).
type gluBackward struct {
	act              Act
	g, a, b, da, db  []float32
	daFresh, dbFresh bool
	bufs1, bufs2     []float32
	cs               int
}

func (j *gluBackward) RunRange(part, lo, hi int) {
	n := len(j.g)
	buf1, buf2 := j.bufs1[part*j.cs:(part+1)*j.cs], j.bufs2[part*j.cs:(part+1)*j.cs]
	for c := lo; c < hi; c++ {
		off, end := c*gluChunk, min((c+1)*gluChunk, n)
		gc, ac, bc := j.g[off:end], j.a[off:end], j.b[off:end]
		if j.act == ActGELU && j.da != nil && j.db != nil {
			j.gatedGELU(gc, ac, bc, j.da[off:end], j.db[off:end], buf1[:end-off], buf2[:end-off])
			continue
		}
		if j.da != nil {
			gb := buf1[:end-off]
			ops.Mul(gb, gc, bc)
			if j.daFresh {
				applyActBackward(j.act, j.da[off:end], ac, gb)
			} else {
				d := buf2[:end-off]
				applyActBackward(j.act, d, ac, gb)
				ops.Add(j.da[off:end], j.da[off:end], d)
			}
		}
		// After da: when a and b are one tensor, da's fresh write comes first.
		if j.db != nil {
			tmp := buf1[:end-off]
			applyAct(j.act, tmp, ac)
			if j.dbFresh {
				ops.Mul(j.db[off:end], gc, tmp)
			} else {
				ops.MulAdd(j.db[off:end], gc, tmp)
			}
		}
	}
}

// gatedGELU is one GEGLU chunk's backward pass with both gradients wanted: one kernel
// (ops.GatedGELUBackward) writes them, into da and db where they are fresh, else into
// the scratch chunks s1 and s2 and then added — da first, so that when a and b are one
// tensor (da and db one buffer, db's write not fresh) both terms are added.
func (j *gluBackward) gatedGELU(g, a, b, da, db, s1, s2 []float32) {
	outA, outB := da, db
	if !j.daFresh {
		outA = s1
	}
	if !j.dbFresh {
		outB = s2
	}
	ops.GatedGELUBackward(outA, outB, g, a, b)
	if !j.daFresh {
		ops.Add(da, da, s1)
	}
	if !j.dbFresh {
		ops.Add(db, db, s2)
	}
}
