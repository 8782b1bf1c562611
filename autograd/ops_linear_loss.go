package autograd

import (
	"fmt"
	"slices"

	"github.com/hypergrid-go/hypergrid/ops"
)

// LinearCrossEntropy returns CrossEntropy(alpha·x·op(w), targets, smoothing), where
// op(w) is w (d×v) or, with transW, wᵀ (w v×d: a tied embedding table): a language
// model's output projection and its loss in one operation that never holds the n×v
// logits. CrossEntropy after MatMul keeps the logits, their softmax and their gradient,
// 3·n·v floats (1.6 GB for 4096 target tokens over T5's 32128-token vocabulary); this
// runs block by block of LinearCrossEntropyRows(n, v) rows, each block's logits turned
// in place into their gradient and consumed at once by the block's share of x's
// gradient and w's. It keeps one block of logits, x's gradient (n×d) and w's (d·v) for
// the backward pass, which only scales them by the loss's upstream gradient.
//
// The loss is CrossEntropy's bit for bit; the gradients equal the composition's (Scale,
// MatMul, CrossEntropy) within float32 rounding: alpha scales the products' operands
// instead of their results, w's gradient sums the blocks' products in block order, and
// an upstream gradient other than 1 multiplies the finished gradients.
func (t *Tape) LinearCrossEntropy(x, w *Tensor, transW bool, alpha float32, targets []int32, smoothing float32) *Tensor {
	n, d := x.Rows, x.Cols
	wd, v := w.Rows, w.Cols
	if transW {
		wd, v = w.Cols, w.Rows
	}
	if wd != d {
		panic(fmt.Sprintf("autograd: LinearCrossEntropy: x %d×%d times w %d×%d (transW=%v)", n, d, w.Rows, w.Cols, transW))
	}
	if len(targets) != n {
		panic(fmt.Sprintf("autograd: LinearCrossEntropy: %d targets for %d rows", len(targets), n))
	}
	count := ceTargets("LinearCrossEntropy", targets, v)
	out := t.result(1, 1, x, w)
	grads := out.needsGrad && count > 0
	var dx, dw []float32
	if grads && x.needsGrad {
		dx = t.f.alloc(n * d)
	}
	if grads && w.needsGrad {
		dw = t.f.alloc(d * v)
	}
	rb := LinearCrossEntropyRows(n, v)
	logits := t.f.alloc(min(rb, n) * v)
	t.f64 = slices.Grow(t.f64[:0], n)[:n]
	losses := t.f64
	var g float32 // the gradient of the mean for an upstream gradient of 1
	if count > 0 {
		g = 1 / float32(count)
	}
	for r0 := 0; r0 < n; r0 += rb {
		nb := min(rb, n-r0)
		xb, lb := x.Data[r0*d:(r0+nb)*d], logits[:nb*v]
		ops.Gemm(false, transW, nb, v, d, alpha, xb, d, w.Data, w.Cols, 0, lb, v)
		j := &t.jobs.lce
		*j = lceRows{logits: lb, targets: targets[r0 : r0+nb], v: v, smoothing: smoothing, losses: losses[r0 : r0+nb], g: g, grads: grads}
		ops.ParallelRange(nb, 4*v, j)
		*j = lceRows{}
		if dx != nil { // dx_b = alpha·dlogits·op(w)ᵀ
			ops.Gemm(false, !transW, nb, d, v, alpha, lb, v, w.Data, w.Cols, 0, dx[r0*d:], d)
		}
		if dw == nil {
			continue
		}
		bw := beta(r0 == 0)
		if transW { // dw (v×d) += alpha·dlogitsᵀ·x_b
			ops.Gemm(true, false, v, d, nb, alpha, lb, v, xb, d, bw, dw, d)
		} else { // dw (d×v) += alpha·x_bᵀ·dlogits
			ops.Gemm(true, false, d, v, nb, alpha, xb, d, lb, v, bw, dw, v)
		}
	}
	out.Data[0] = ceMean(losses, targets, count)
	if out.needsGrad {
		t.push(record{op: opLinearCrossEntropy, out: out, a: x, b: w, s0: dx, s1: dw, flag: grads})
	}
	return out
}

// LinearCrossEntropyRows is the height of LinearCrossEntropy's blocks for n rows over v
// columns: the block's logits take at most linearCrossEntropyBlock values (64 MB), in
// whole multiples of 64 rows, at least 64; n when all rows fit.
func LinearCrossEntropyRows(n, v int) int {
	if linearCERowsOverride > 0 {
		return linearCERowsOverride
	}
	return min(max(n, 1), max(64, linearCrossEntropyBlock/max(v, 1)/64*64))
}

// linearCrossEntropyBlock is the most logits a block of LinearCrossEntropy holds. Each
// block adds its share into w's whole gradient (d·v values, read and written again),
// so blocks must be tall for that traffic to stay small beside the block's products:
// 512 rows of T5's 32128-token vocabulary. (4M values, 128 rows, made a T5-mini step
// with that vocabulary and 4096 target tokens 15% slower than the unfused composition.)
const linearCrossEntropyBlock = 16 << 20

// linearCERowsOverride, when positive, replaces LinearCrossEntropyRows' height (tests:
// several blocks on small shapes).
var linearCERowsOverride int

func (t *Tape) linearCrossEntropyBackward(r *record) {
	if !r.flag { // no row has a target: zero gradients, as CrossEntropy gives
		for _, x := range []*Tensor{r.a, r.b} {
			if g, fresh := t.accum(x); fresh {
				clear(g)
			}
		}
		return
	}
	up := r.out.Grad[0]
	if dx := r.s0; dx != nil {
		if up != 1 {
			ops.Scale(up, dx)
		}
		t.passGrad(r.a, dx)
	}
	if dw := r.s1; dw != nil {
		if g, fresh := t.accum(r.b); g != nil {
			if fresh {
				copy(g, dw)
				if up != 1 {
					ops.Scale(up, g)
				}
			} else {
				ops.Axpy(up, dw, g)
			}
		}
	}
}

// lceRows turns a block of LinearCrossEntropy's logits, row by row, into each row's
// loss (as CrossEntropy computes it) and, with grads, into the row's gradient in place:
// g·(softmax − smoothing/v − (1−smoothing)·onehot(target)), zeros where the row has no
// target.
type lceRows struct {
	logits    []float32
	targets   []int32
	v         int
	smoothing float32
	losses    []float64
	g         float32
	grads     bool
}

func (j *lceRows) RunRange(_, lo, hi int) {
	v := j.v
	for i := lo; i < hi; i++ {
		tg := j.targets[i]
		x := j.logits[i*v : (i+1)*v]
		if tg < 0 {
			clear(x)
			continue
		}
		// What the loss needs from the logits, before the softmax overwrites them.
		mx, xt := float64(ops.Max(x)), float64(x[tg])
		var sumX float64
		if j.smoothing != 0 {
			sumX = float64(ops.Sum(x))
		}
		ops.SoftmaxRows(x, x, 1, v)
		j.losses[i] = ceRowLoss(mx, float64(ops.Max(x)), xt, sumX, v, j.smoothing)
		if j.grads {
			ceRowGrad(x, x, tg, j.g, j.smoothing)
		}
	}
}
