package autograd

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/ops"
)

// RMSNorm returns, row by row, x ⊙ w / √(mean(x²) + eps) (T5's normalisation); w has
// x.Cols values.
func (t *Tape) RMSNorm(x, w *Tensor, eps float32) *Tensor {
	if w.Len() != x.Cols {
		panic(fmt.Sprintf("autograd: RMSNorm: %d weights for %d columns", w.Len(), x.Cols))
	}
	out := t.result(x.Rows, x.Cols, x, w)
	inv := t.f.alloc(x.Rows)
	ops.RMSNormRows(out.Data, x.Data, w.Data, x.Rows, x.Cols, eps, inv)
	if out.needsGrad {
		t.push(record{op: opRMSNorm, out: out, a: x, b: w, s0: inv})
	}
	return out
}

func (t *Tape) rmsNormBackward(r *record) {
	x, w := r.a, r.b
	dx, fresh := t.accum(x)
	dw := t.accumZero(w)
	if dw == nil {
		dw = t.f.alloc(w.Len())
	}
	switch {
	case dx == nil: // only w needs a gradient
		ops.RMSNormRowsBackward(t.f.alloc(x.Len()), dw, x.Data, w.Data, r.s0, r.out.Grad, x.Rows, x.Cols)
	case fresh:
		ops.RMSNormRowsBackward(dx, dw, x.Data, w.Data, r.s0, r.out.Grad, x.Rows, x.Cols)
	default: // a residual stream: its gradient already holds the skip path's
		ops.RMSNormRowsBackwardAdd(dx, dw, x.Data, w.Data, r.s0, r.out.Grad, x.Rows, x.Cols)
	}
}

// LayerNorm returns, row by row, (x - mean)/√(var + eps) ⊙ w + b; w and b have x.Cols
// values.
func (t *Tape) LayerNorm(x, w, b *Tensor, eps float32) *Tensor {
	if w.Len() != x.Cols || b.Len() != x.Cols {
		panic(fmt.Sprintf("autograd: LayerNorm: %d weights and %d biases for %d columns", w.Len(), b.Len(), x.Cols))
	}
	out := t.result(x.Rows, x.Cols, x, w, b)
	mean, rstd := t.f.alloc(x.Rows), t.f.alloc(x.Rows)
	ops.LayerNormRows(out.Data, x.Data, w.Data, b.Data, x.Rows, x.Cols, eps, mean, rstd)
	if out.needsGrad {
		t.push(record{op: opLayerNorm, out: out, a: x, b: w, c: b, s0: mean, s1: rstd})
	}
	return out
}

func (t *Tape) layerNormBackward(r *record) {
	x, w, b := r.a, r.b, r.c
	dx := t.gradOut(x)
	if dx == nil {
		dx = t.f.alloc(x.Len())
	}
	dw := t.accumZero(w)
	if dw == nil {
		dw = t.f.alloc(w.Len())
	}
	db := t.accumZero(b)
	if db == nil {
		db = t.f.alloc(b.Len())
	}
	ops.LayerNormRowsBackward(dx, dw, db, x.Data, w.Data, r.s0, r.s1, r.out.Grad, x.Rows, x.Cols)
	if x.needsGrad {
		t.gradDone(x, dx)
	}
}

// GatherRows returns the rows idx[0], idx[1], ... of x (len(idx)×x.Cols): an embedding
// lookup, or the selection of each example's first position. idx is copied; an index
// outside [0, x.Rows) panics.
func (t *Tape) GatherRows(x *Tensor, idx []int32) *Tensor {
	cols := x.Cols
	out := t.result(len(idx), cols, x)
	for i, j := range idx {
		if j < 0 || int(j) >= x.Rows {
			panic(fmt.Sprintf("autograd: GatherRows: index %d at %d outside [0, %d)", j, i, x.Rows))
		}
		copy(out.Data[i*cols:(i+1)*cols], x.Data[int(j)*cols:int(j+1)*cols])
	}
	if out.needsGrad {
		saved := t.i.alloc(len(idx))
		copy(saved, idx)
		t.push(record{op: opGather, out: out, a: x, idx: saved})
	}
	return out
}

func (t *Tape) gatherBackward(r *record) {
	dx := t.accumZero(r.a)
	if dx == nil {
		return
	}
	cols, g := r.a.Cols, r.out.Grad
	for i, j := range r.idx {
		ops.Add(dx[int(j)*cols:int(j+1)*cols], dx[int(j)*cols:int(j+1)*cols], g[i*cols:(i+1)*cols])
	}
}

// RelPosBias expands a Buckets×heads table into a heads×len(buckets) bias:
// out[h][p] = table[buckets[p]][h]. buckets must stay unchanged until Backward.
func (t *Tape) RelPosBias(table *Tensor, buckets []int32, heads int) *Tensor {
	if table.Cols != heads {
		panic(fmt.Sprintf("autograd: RelPosBias: table has %d columns for %d heads", table.Cols, heads))
	}
	n := len(buckets)
	out := t.result(heads, n, table)
	for p, bk := range buckets {
		if bk < 0 || int(bk) >= table.Rows {
			panic(fmt.Sprintf("autograd: RelPosBias: bucket %d outside [0, %d)", bk, table.Rows))
		}
		row := table.Data[int(bk)*heads : int(bk+1)*heads]
		for h, v := range row {
			out.Data[h*n+p] = v
		}
	}
	if out.needsGrad {
		t.push(record{op: opRelBias, out: out, a: table, idx: buckets, n: [6]int{heads}})
	}
	return out
}

func (t *Tape) relBiasBackward(r *record) {
	dt := t.accumZero(r.a)
	if dt == nil {
		return
	}
	heads, n, g := r.n[0], len(r.idx), r.out.Grad
	for h := range heads {
		gh := g[h*n : (h+1)*n]
		for p, bk := range r.idx {
			dt[int(bk)*heads+h] += gh[p]
		}
	}
}

// Dropout zeroes each value of x with probability rate and scales the others by
// 1/(1-rate). The mask is a deterministic function of seed.
func (t *Tape) Dropout(x *Tensor, rate float32, seed uint64) *Tensor {
	checkRate("Dropout", rate)
	out := t.result(x.Rows, x.Cols, x)
	t.applyDropout(out.Data, x.Data, nil, applyMul, rate, seed)
	if out.needsGrad {
		t.push(record{op: opDropout, out: out, a: x, f: rate, n: dropoutSeed(seed)})
	}
	return out
}

// AddDropout returns x + Dropout(a, rate, seed): a residual connection around a
// sublayer whose output a is dropped out, in one pass (ops.AddMul) and without keeping
// the dropped-out tensor. Its value and both gradients equal those of Add(x, Dropout(a,
// rate, seed)) bit for bit whenever a is not x itself.
func (t *Tape) AddDropout(x, a *Tensor, rate float32, seed uint64) *Tensor {
	sameShape("AddDropout", x, a)
	checkRate("AddDropout", rate)
	out := t.result(x.Rows, x.Cols, x, a)
	t.applyDropout(out.Data, a.Data, x.Data, applyAddMul, rate, seed)
	if out.needsGrad {
		t.push(record{op: opAddDropout, out: out, a: x, b: a, f: rate, n: dropoutSeed(seed)})
	}
	return out
}

// addDropoutBackward: da = g ⊙ mask, then x takes g (adopting it when it has no
// gradient yet, which is why da is computed first: g may then change).
func (t *Tape) addDropoutBackward(r *record) {
	g := r.out.Grad
	t.dropoutGrad(r, r.b, g)
	t.passGrad(r.a, g)
}

// checkRate panics unless rate is a dropout rate, in [0, 1).
func checkRate(fn string, rate float32) {
	if !(rate >= 0 && rate < 1) {
		panic(fmt.Sprintf("autograd: %s: rate %v outside [0, 1)", fn, rate))
	}
}

func (t *Tape) dropoutBackward(r *record) { t.dropoutGrad(r, r.a, r.out.Grad) }

// Outer returns the per-example outer products out[e] = r[e]·c[e]ᵀ, flattened
// row-major into a batch×(r.Cols·c.Cols) tensor. r and c have batch rows or one row
// (shared by every example); batch is the larger row count.
func (t *Tape) Outer(r, c *Tensor) *Tensor {
	batch := max(r.Rows, c.Rows)
	if (r.Rows != 1 && r.Rows != batch) || (c.Rows != 1 && c.Rows != batch) {
		panic(fmt.Sprintf("autograd: Outer: %d and %d rows do not broadcast", r.Rows, c.Rows))
	}
	gr, gc := r.Cols, c.Cols
	out := t.result(batch, gr*gc, r, c)
	for e := range batch {
		re := r.Data[min(e, r.Rows-1)*gr:][:gr]
		ce := c.Data[min(e, c.Rows-1)*gc:][:gc]
		o := out.Data[e*gr*gc:]
		for i, rv := range re {
			oi := o[i*gc : (i+1)*gc]
			for j, cv := range ce {
				oi[j] = rv * cv
			}
		}
	}
	if out.needsGrad {
		t.push(record{op: opOuter, out: out, a: r, b: c})
	}
	return out
}

func (t *Tape) outerBackward(rec *record) {
	r, c, g := rec.a, rec.b, rec.out.Grad
	gr, gc := r.Cols, c.Cols
	dr, dc := t.accumZero(r), t.accumZero(c)
	for e := range rec.out.Rows {
		re, ce := r.Data[min(e, r.Rows-1)*gr:][:gr], c.Data[min(e, c.Rows-1)*gc:][:gc]
		ge := g[e*gr*gc:]
		for i := range gr {
			gi := ge[i*gc : (i+1)*gc]
			if dr != nil {
				dr[min(e, r.Rows-1)*gr+i] += ops.Dot(gi, ce)
			}
			if dc != nil {
				ops.Axpy(re[i], gi, dc[min(e, c.Rows-1)*gc:][:gc])
			}
		}
	}
}

// GridGatedMatMul returns, for each of batch examples, A_e·(W ⊙ φ(G_e)): a is
// (batch·rows)×k with each example's rows consecutive, w is k×n, and g is batch×(gr·gc),
// example e's gr×gc grid of block gates; φ repeats each gate over a (k/gr)×(n/gc) block
// of W. It runs on ops.GridGatedGemm: the gated weights are never materialised.
func (t *Tape) GridGatedMatMul(a, w, g *Tensor, batch, gr, gc int) *Tensor {
	k, n := w.Rows, w.Cols
	if a.Cols != k || batch <= 0 || a.Rows%batch != 0 || g.Rows != batch || g.Cols != gr*gc || gr <= 0 || gc <= 0 || k%gr != 0 || n%gc != 0 {
		panic(fmt.Sprintf("autograd: GridGatedMatMul: a %d×%d, w %d×%d, g %d×%d, batch %d, grid %d×%d do not fit",
			a.Rows, a.Cols, w.Rows, w.Cols, g.Rows, g.Cols, batch, gr, gc))
	}
	rows := a.Rows / batch
	out := t.result(a.Rows, n, a, w, g)
	ops.GridGatedGemm(batch, rows, k, n, gr, gc, a.Data, k, w.Data, n, g.Data, 0, out.Data, n)
	if out.needsGrad {
		t.push(record{op: opGridGated, out: out, a: a, b: w, c: g, n: [6]int{batch, rows, gr, gc}})
	}
	return out
}

func (t *Tape) gridGatedBackward(r *record) {
	a, w, g, dc := r.a, r.b, r.c, r.out.Grad
	batch, rows, gr, gc := r.n[0], r.n[1], r.n[2], r.n[3]
	k, n := w.Rows, w.Cols
	if da, fresh := t.accum(a); da != nil {
		ops.GridGatedGemmGradA(batch, rows, k, n, gr, gc, dc, n, w.Data, n, g.Data, beta(fresh), da, k)
	}
	dw, dg := t.accumZero(w), t.accumZero(g)
	if dw != nil || dg != nil {
		ops.GridGatedGemmGradBG(batch, rows, k, n, gr, gc, a.Data, k, dc, n, w.Data, n, g.Data, dw, n, dg)
	}
}

// MeanRows returns the mean of each example's valid rows: x is (batch·len)×d, valid
// marks the real positions (nil: all), and the result is batch×d (zero for an
// example without valid positions).
func (t *Tape) MeanRows(x *Tensor, batch int, valid []bool) *Tensor {
	if batch <= 0 || x.Rows%batch != 0 || (valid != nil && len(valid) != x.Rows) {
		panic(fmt.Sprintf("autograd: MeanRows: %d rows, batch %d, %d valid flags", x.Rows, batch, len(valid)))
	}
	length, d := x.Rows/batch, x.Cols
	out := t.result(batch, d, x)
	clear(out.Data)
	wts := t.f.alloc(x.Rows)
	for e := range batch {
		count := 0
		for l := range length {
			if valid == nil || valid[e*length+l] {
				count++
			}
		}
		var wv float32
		if count > 0 {
			wv = 1 / float32(count)
		}
		oe := out.Data[e*d : (e+1)*d]
		for l := range length {
			i := e*length + l
			if valid == nil || valid[i] {
				wts[i] = wv
				ops.Axpy(wv, x.Data[i*d:(i+1)*d], oe)
			} else {
				wts[i] = 0
			}
		}
	}
	if out.needsGrad {
		t.push(record{op: opMeanRows, out: out, a: x, s0: wts})
	}
	return out
}

func (t *Tape) meanRowsBackward(r *record) {
	dx := t.accumZero(r.a)
	if dx == nil {
		return
	}
	d, length := r.a.Cols, r.a.Rows/r.out.Rows
	for i, wv := range r.s0 {
		if wv != 0 {
			e := i / length
			ops.Axpy(wv, r.out.Grad[e*d:(e+1)*d], dx[i*d:(i+1)*d])
		}
	}
}
