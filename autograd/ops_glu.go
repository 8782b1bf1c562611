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

// GatedAct returns act(a) ⊙ b, the hidden layer of a gated (GLU) feed-forward layer, in one
// pass: it equals Mul(act(a), b) value for value but reads a and b and writes the result
// once, and its backward pass recomputes act(a) chunk by chunk instead of storing it.
func (t *Tape) GatedAct(act Act, a, b *Tensor) *Tensor {
	sameShape("GatedAct", a, b)
	if act < ActGELU || act > ActSiLU {
		panic(fmt.Sprintf("autograd: GatedAct: unknown activation %d", act))
	}
	out := t.result(a.Rows, a.Cols, a, b)
	buf := t.f.alloc(min(gluChunk, len(a.Data))) // from the tape's arena: no garbage
	for off := 0; off < len(a.Data); off += gluChunk {
		end := min(off+gluChunk, len(a.Data))
		tmp := buf[:end-off]
		applyAct(act, tmp, a.Data[off:end])
		ops.Mul(out.Data[off:end], tmp, b.Data[off:end])
	}
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
	n := min(gluChunk, len(g))
	buf1, buf2 := t.f.alloc(n), t.f.alloc(n)
	for off := 0; off < len(g); off += gluChunk {
		end := min(off+gluChunk, len(g))
		gc, ac, bc := g[off:end], r.a.Data[off:end], r.b.Data[off:end]
		if da != nil {
			gb := buf1[:end-off]
			ops.Mul(gb, gc, bc)
			if daFresh {
				applyActBackward(act, da[off:end], ac, gb)
			} else {
				d := buf2[:end-off]
				applyActBackward(act, d, ac, gb)
				ops.Add(da[off:end], da[off:end], d)
			}
		}
		// After da: when a and b are one tensor, da's fresh write comes first.
		if db != nil {
			tmp := buf1[:end-off]
			applyAct(act, tmp, ac)
			if dbFresh {
				ops.Mul(db[off:end], gc, tmp)
			} else {
				ops.MulAdd(db[off:end], gc, tmp)
			}
		}
	}
}
