package autograd

import (
	"fmt"
	"slices"

	"github.com/hypergrid-go/hypergrid/ops"
)

func sameShape(fn string, a, b *Tensor) {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		panic(fmt.Sprintf("autograd: %s: shapes %d×%d and %d×%d differ", fn, a.Rows, a.Cols, b.Rows, b.Cols))
	}
}

// MatMul returns a·b (a is m×k, b is k×n), or a·bᵀ when transB is set (b is n×k).
// It is one ops.Gemm over all rows of a, so a linear layer over a whole batch of
// sequences is a single product.
func (t *Tape) MatMul(a, b *Tensor, transB bool) *Tensor {
	k, n := b.Rows, b.Cols
	if transB {
		k, n = b.Cols, b.Rows
	}
	if a.Cols != k {
		panic(fmt.Sprintf("autograd: MatMul: %d×%d times %d×%d (transB=%v)", a.Rows, a.Cols, b.Rows, b.Cols, transB))
	}
	out := t.result(a.Rows, n, a, b)
	ops.Gemm(false, transB, a.Rows, n, k, 1, a.Data, a.Cols, b.Data, b.Cols, 0, out.Data, n)
	if out.needsGrad {
		t.push(record{op: opMatMul, out: out, a: a, b: b, flag: transB})
	}
	return out
}

// MatMulEach sets outs[i] = a·bs[i] (each bs[i] a.Cols×n_i, not transposed; at most
// maxEach of them, outs as long as bs): the projections of one input, as
// attention's queries, keys and values. It runs them, and their weight gradients
// (aᵀ·dout_i), as one product over the bs[i] side by side (ops.GemmSegments), which
// reads a, or packs aᵀ, once for all; the values and every gradient are those of a
// MatMul per projection, in order, bit for bit.
func (t *Tape) MatMulEach(a *Tensor, bs, outs []*Tensor) {
	if len(outs) != len(bs) || len(bs) > maxEach {
		panic(fmt.Sprintf("autograd: MatMulEach: %d products into %d outputs; want as many, at most %d", len(bs), len(outs), maxEach))
	}
	var segs [maxEach]ops.GemmSegment
	for i, b := range bs {
		if a.Cols != b.Rows {
			panic(fmt.Sprintf("autograd: MatMulEach: %d×%d times %d×%d", a.Rows, a.Cols, b.Rows, b.Cols))
		}
		if slices.Contains(bs[:i], b) {
			panic("autograd: MatMulEach: the same matrix twice (its gradient would be written by two products at once); use MatMul for the second")
		}
		outs[i] = t.result(a.Rows, b.Cols, a, b)
		segs[i] = ops.GemmSegment{N: b.Cols, B: b.Data, LDB: b.Cols, C: outs[i].Data, LDC: b.Cols}
	}
	ops.GemmSegments(false, false, a.Rows, a.Cols, 1, a.Data, a.Cols, segs[:len(bs)])
	first := len(t.recs)
	for i, b := range bs {
		if outs[i].needsGrad {
			// n: the group's size, this product's place in it, where the group's records
			// start (products whose output needs no gradient push none).
			t.push(record{op: opMatMulEach, out: outs[i], a: a, b: b, n: [6]int{len(bs), i, first}})
		}
	}
}

// maxEach is the most products MatMulEach takes.
const maxEach = 8

// matMulEachBackward is matMulBackward for one product of a MatMulEach group: a's
// gradient term now, the weight gradient by the group's first record (reached last,
// when every output's gradient is complete) for the whole group at once, as one
// ops.GemmSegments; a record whose output got no gradient is skipped by Backward, so a
// later record whose first one will be skipped computes its own.
func (t *Tape) matMulEachBackward(r *record) {
	a, dc := r.a, r.out.Grad
	m, k := a.Rows, a.Cols
	if da, fresh := t.accum(a); da != nil {
		ops.Gemm(false, true, m, k, r.out.Cols, 1, dc, r.out.Cols, r.b.Data, r.out.Cols, beta(fresh), da, k)
	}
	group := t.recs[r.n[2]:]
	lead := &group[0]
	if r != lead && lead.out.Grad != nil {
		return // lead computes this weight gradient
	}
	var segs [maxEach]ops.GemmSegment
	n := 0
	for i := range group {
		g := &group[i]
		if i > 0 && (g.op != opMatMulEach || g.n[2] != r.n[2]) {
			break // the group's records end here
		}
		if (r != lead && g != r) || g.out.Grad == nil {
			continue
		}
		if db, fresh := t.accum(g.b); db != nil {
			segs[n] = ops.GemmSegment{N: g.out.Cols, B: g.out.Grad, LDB: g.out.Cols, Beta: beta(fresh), C: db, LDC: g.out.Cols}
			n++
		}
	}
	// dB_i (k×n_i) = aᵀ·dC_i.
	ops.GemmSegments(true, false, k, m, 1, a.Data, k, segs[:n])
}

func (t *Tape) matMulBackward(r *record) {
	a, b, dc := r.a, r.b, r.out.Grad
	m, n := r.out.Rows, r.out.Cols
	k := a.Cols
	if da, fresh := t.accum(a); da != nil {
		if r.flag { // b is n×k: dA = dC·B
			ops.Gemm(false, false, m, k, n, 1, dc, n, b.Data, k, beta(fresh), da, k)
		} else { // b is k×n: dA = dC·Bᵀ
			ops.Gemm(false, true, m, k, n, 1, dc, n, b.Data, n, beta(fresh), da, k)
		}
	}
	if db, fresh := t.accum(b); db != nil {
		if r.flag { // dB (n×k) = dCᵀ·A
			ops.Gemm(true, false, n, k, m, 1, dc, n, a.Data, k, beta(fresh), db, k)
		} else { // dB (k×n) = Aᵀ·dC
			ops.Gemm(true, false, k, n, m, 1, a.Data, k, dc, n, beta(fresh), db, n)
		}
	}
}

// Add returns a + b (equal shapes).
func (t *Tape) Add(a, b *Tensor) *Tensor {
	sameShape("Add", a, b)
	out := t.result(a.Rows, a.Cols, a, b)
	ops.Add(out.Data, a.Data, b.Data)
	if out.needsGrad {
		t.push(record{op: opAdd, out: out, a: a, b: b})
	}
	return out
}

// passGrad adds g into x's gradient. When x has no gradient buffer yet it adopts g
// itself: the output's gradient is final once its record is reached, so sharing it
// saves a copy (residual connections cost nothing in the backward pass).
func (t *Tape) passGrad(x *Tensor, g []float32) {
	if x == nil || !x.needsGrad {
		return
	}
	if x.Grad == nil && !x.param {
		x.Grad = g
		return
	}
	t.addGrad(x, g)
}

// addGrad adds g into x's gradient, or copies it into a gradient buffer that is new
// or stale (accum).
func (t *Tape) addGrad(x *Tensor, g []float32) {
	dst, fresh := t.accum(x)
	if fresh {
		copy(dst, g)
		return
	}
	ops.Add(dst, dst, g)
}

func (t *Tape) addBackward(r *record) {
	g := r.out.Grad
	if r.a == r.b {
		t.passGrad(r.a, g)
		if r.a.needsGrad {
			ops.Add(r.a.Grad, r.a.Grad, g)
		}
		return
	}
	// Only one input may adopt g: the other copies.
	t.passGrad(r.a, g)
	if r.b.needsGrad {
		t.addGrad(r.b, g)
	}
}

// AddRow returns a with the row vector b (1×a.Cols) added to every row (a bias).
func (t *Tape) AddRow(a, b *Tensor) *Tensor {
	if b.Len() != a.Cols {
		panic(fmt.Sprintf("autograd: AddRow: a row of %d values for %d columns", b.Len(), a.Cols))
	}
	out := t.result(a.Rows, a.Cols, a, b)
	for i := range a.Rows {
		ops.Add(out.Data[i*a.Cols:(i+1)*a.Cols], a.Data[i*a.Cols:(i+1)*a.Cols], b.Data)
	}
	if out.needsGrad {
		t.push(record{op: opAddRow, out: out, a: a, b: b})
	}
	return out
}

func (t *Tape) addRowBackward(r *record) {
	g, cols := r.out.Grad, r.a.Cols
	if db := t.accumZero(r.b); db != nil {
		for i := range r.a.Rows {
			ops.Add(db, db, g[i*cols:(i+1)*cols])
		}
	}
	t.passGrad(r.a, g)
}

// Mul returns a ⊙ b (equal shapes).
func (t *Tape) Mul(a, b *Tensor) *Tensor {
	sameShape("Mul", a, b)
	out := t.result(a.Rows, a.Cols, a, b)
	ops.Mul(out.Data, a.Data, b.Data)
	if out.needsGrad {
		t.push(record{op: opMul, out: out, a: a, b: b})
	}
	return out
}

func (t *Tape) mulBackward(r *record) {
	g := r.out.Grad
	mulInto := func(x *Tensor, other []float32) {
		if dx, fresh := t.accum(x); dx != nil {
			if fresh {
				ops.Mul(dx, g, other)
			} else {
				ops.MulAdd(dx, g, other)
			}
		}
	}
	mulInto(r.a, r.b.Data)
	mulInto(r.b, r.a.Data)
}

// Scale returns alpha·a.
func (t *Tape) Scale(a *Tensor, alpha float32) *Tensor {
	out := t.result(a.Rows, a.Cols, a)
	copy(out.Data, a.Data)
	ops.Scale(alpha, out.Data)
	if out.needsGrad {
		t.push(record{op: opScale, out: out, a: a, f: alpha})
	}
	return out
}

func (t *Tape) scaleBackward(r *record) {
	if da, fresh := t.accum(r.a); da != nil {
		if fresh {
			copy(da, r.out.Grad)
			ops.Scale(r.f, da)
		} else {
			ops.Axpy(r.f, r.out.Grad, da)
		}
	}
}

// View returns a rows×cols tensor sharing a's values (rows·cols = a.Len()).
func (t *Tape) View(a *Tensor, rows, cols int) *Tensor {
	if rows*cols != a.Len() {
		panic(fmt.Sprintf("autograd: View: %d×%d cannot view %d values", rows, cols, a.Len()))
	}
	out := t.result(0, 0, a)
	out.Data, out.Rows, out.Cols = a.Data, rows, cols
	if out.needsGrad {
		t.push(record{op: opView, out: out, a: a})
	}
	return out
}

// GELU returns the tanh-approximated GELU of a.
func (t *Tape) GELU(a *Tensor) *Tensor { return t.activation(opGELU, a) }

// ReLU returns max(a, 0).
func (t *Tape) ReLU(a *Tensor) *Tensor { return t.activation(opReLU, a) }

// SiLU returns a·σ(a).
func (t *Tape) SiLU(a *Tensor) *Tensor { return t.activation(opSiLU, a) }

// Sigmoid returns σ(a) = 1/(1+e^-a).
func (t *Tape) Sigmoid(a *Tensor) *Tensor { return t.activation(opSigmoid, a) }

func (t *Tape) activation(op opKind, a *Tensor) *Tensor {
	out := t.result(a.Rows, a.Cols, a)
	switch op {
	case opGELU:
		ops.GELU(out.Data, a.Data)
	case opReLU:
		ops.ReLU(out.Data, a.Data)
	case opSiLU:
		ops.SiLU(out.Data, a.Data)
	case opSigmoid:
		ops.Sigmoid(out.Data, a.Data)
	}
	if out.needsGrad {
		t.push(record{op: op, out: out, a: a})
	}
	return out
}

func (t *Tape) activationBackward(r *record) {
	dx := t.gradOut(r.a)
	if dx == nil {
		return
	}
	switch r.op {
	case opGELU:
		ops.GELUBackward(dx, r.a.Data, r.out.Grad)
	case opReLU:
		ops.ReLUBackward(dx, r.a.Data, r.out.Grad)
	case opSiLU:
		ops.SiLUBackward(dx, r.a.Data, r.out.Grad)
	case opSigmoid:
		ops.SigmoidBackward(dx, r.out.Data, r.out.Grad)
	}
	t.gradDone(r.a, dx)
}

// WeightedSum returns the scalar Σ a[i]·w[i] (accumulated in float64); w has a.Len()
// values and is copied. It turns any tensor into a loss, e.g. for gradient checks.
func (t *Tape) WeightedSum(a *Tensor, w []float32) *Tensor {
	if len(w) != a.Len() {
		panic(fmt.Sprintf("autograd: WeightedSum: %d weights for %d values", len(w), a.Len()))
	}
	out := t.result(1, 1, a)
	var s float64
	for i, v := range a.Data {
		s += float64(v) * float64(w[i])
	}
	out.Data[0] = float32(s)
	if out.needsGrad {
		ws := t.f.alloc(len(w))
		copy(ws, w)
		t.push(record{op: opWeightedSum, out: out, a: a, s0: ws})
	}
	return out
}

func (t *Tape) weightedSumBackward(r *record) {
	g := r.out.Grad[0]
	if da, fresh := t.accum(r.a); da != nil {
		if fresh {
			copy(da, r.s0)
			ops.Scale(g, da)
		} else {
			ops.Axpy(g, r.s0, da)
		}
	}
}
