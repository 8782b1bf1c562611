package autograd

import (
	"fmt"
	"math"
	"slices"

	"github.com/hypergrid-go/hypergrid/ops"
)

// CrossEntropy returns the mean over rows with a target of the cross-entropy between
// softmax(logits row) and the target distribution (1-smoothing)·onehot(target) +
// smoothing/cols. Rows whose target is negative (padding) are ignored; when none has a
// target the loss is 0. A target ≥ logits.Cols panics.
func (t *Tape) CrossEntropy(logits *Tensor, targets []int32, smoothing float32) *Tensor {
	n, v := logits.Rows, logits.Cols
	if len(targets) != n {
		panic(fmt.Sprintf("autograd: CrossEntropy: %d targets for %d rows", len(targets), n))
	}
	out := t.result(1, 1, logits)
	p := t.f.alloc(n * v)
	ops.SoftmaxRows(p, logits.Data, n, v)
	count := ceTargets("CrossEntropy", targets, v)
	// Each row's loss is computed side by side; the sum runs in row order, as on one
	// goroutine.
	t.f64 = slices.Grow(t.f64[:0], n)[:n]
	losses := t.f64
	j := &t.jobs.ceFwd
	*j = ceForward{logits: logits.Data, p: p, targets: targets, v: v, smoothing: smoothing, losses: losses}
	ops.ParallelRange(n, 3*v, j)
	*j = ceForward{}
	out.Data[0] = ceMean(losses, targets, count)
	if out.needsGrad {
		saved := t.i.alloc(n)
		copy(saved, targets)
		t.push(record{op: opCrossEntropy, out: out, a: logits, s0: p, idx: saved, f: smoothing, n: [6]int{count}})
	}
	return out
}

func (t *Tape) crossEntropyBackward(r *record) {
	dx := t.gradOut(r.a)
	if dx == nil {
		return
	}
	v, count := r.a.Cols, r.n[0]
	var g float32
	if count > 0 {
		g = r.out.Grad[0] / float32(count)
	}
	j := &t.jobs.ceBwd
	*j = ceBackward{dx: dx, p: r.s0, targets: r.idx, v: v, g: g, smoothing: r.f}
	ops.ParallelRange(len(r.idx), v, j)
	*j = ceBackward{}
	t.gradDone(r.a, dx)
}

// MSE returns the mean over all values of (pred - target)²; targets has pred.Len()
// values and is copied.
func (t *Tape) MSE(pred *Tensor, targets []float32) *Tensor {
	if len(targets) != pred.Len() {
		panic(fmt.Sprintf("autograd: MSE: %d targets for %d predictions", len(targets), pred.Len()))
	}
	out := t.result(1, 1, pred)
	diff := t.f.alloc(len(targets))
	var s float64
	for i, y := range targets {
		d := pred.Data[i] - y
		diff[i] = d
		s += float64(d) * float64(d)
	}
	if len(targets) > 0 {
		s /= float64(len(targets))
	}
	out.Data[0] = float32(s)
	if out.needsGrad {
		t.push(record{op: opMSE, out: out, a: pred, s0: diff})
	}
	return out
}

func (t *Tape) mseBackward(r *record) {
	if len(r.s0) == 0 {
		return
	}
	g := 2 * r.out.Grad[0] / float32(len(r.s0))
	if dx, fresh := t.accum(r.a); dx != nil {
		if fresh {
			copy(dx, r.s0)
			ops.Scale(g, dx)
		} else {
			ops.Axpy(g, r.s0, dx)
		}
	}
}

// ceForward computes the loss of each row of CrossEntropy (a RangeRunner kept on the
// tape); rows without a target are skipped.
type ceForward struct {
	logits, p []float32
	targets   []int32
	v         int
	smoothing float32
	losses    []float64
}

func (j *ceForward) RunRange(_, lo, hi int) {
	v := j.v
	for i := lo; i < hi; i++ {
		tg := j.targets[i]
		if tg < 0 {
			continue
		}
		x, pr := j.logits[i*v:(i+1)*v], j.p[i*v:(i+1)*v]
		var sumX float64
		if j.smoothing != 0 {
			sumX = float64(ops.Sum(x))
		}
		j.losses[i] = ceRowLoss(float64(ops.Max(x)), float64(ops.Max(pr)), float64(x[tg]), sumX, v, j.smoothing)
	}
}

// ceTargets checks that every target of fn's rows is below v (negative: no target) and
// counts the rows that have one.
func ceTargets(fn string, targets []int32, v int) (count int) {
	for i, tg := range targets {
		if int(tg) >= v {
			panic(fmt.Sprintf("autograd: %s: target %d at row %d outside [0, %d)", fn, tg, i, v))
		}
		if tg >= 0 {
			count++
		}
	}
	return count
}

// ceRowLoss is the cross-entropy of a row of v logits x against its target tg, with
// smoothing, from max x, max softmax(x), x[tg] and (with smoothing) Σx: log p_j = x_j −
// max − log Σexp(x − max), and Σexp(x − max) = 1/max(p).
func ceRowLoss(maxX, maxP, xt, sumX float64, v int, smoothing float32) float64 {
	shift := maxX - math.Log(maxP)
	loss := -(1 - float64(smoothing)) * (xt - shift)
	if smoothing != 0 {
		loss -= float64(smoothing) / float64(v) * (sumX - float64(v)*shift)
	}
	return loss
}

// ceRowGrad writes a row's gradient g·(p − smoothing/v − (1−smoothing)·onehot(tg)) into
// d from its softmax p (d may be p).
func ceRowGrad(d, p []float32, tg int32, g, smoothing float32) {
	off := smoothing / float32(len(p))
	for c, pc := range p {
		d[c] = g * (pc - off)
	}
	d[tg] -= g * (1 - smoothing)
}

// ceMean is the mean of the row losses of the count rows with a target, summed in row
// order (0 when none has one).
func ceMean(losses []float64, targets []int32, count int) float32 {
	if count == 0 {
		return 0
	}
	var sum float64
	for i, tg := range targets {
		if tg >= 0 {
			sum += losses[i]
		}
	}
	return float32(sum / float64(count))
}

// ceBackward writes the gradient of CrossEntropy's rows.
type ceBackward struct {
	dx, p     []float32
	targets   []int32
	v         int
	g         float32
	smoothing float32
}

func (j *ceBackward) RunRange(_, lo, hi int) {
	v := j.v
	for i := lo; i < hi; i++ {
		tg := j.targets[i]
		d := j.dx[i*v : (i+1)*v]
		if tg < 0 || j.g == 0 {
			clear(d)
			continue
		}
		ceRowGrad(d, j.p[i*v:(i+1)*v], tg, j.g, j.smoothing)
	}
}
