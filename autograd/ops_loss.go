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
	// Each row's loss is computed side by side; the sum runs in row order, as on one
	// goroutine.
	for i, tg := range targets {
		if int(tg) >= v {
			panic(fmt.Sprintf("autograd: CrossEntropy: target %d at row %d outside [0, %d)", tg, i, v))
		}
	}
	t.f64 = slices.Grow(t.f64[:0], n)[:n]
	losses := t.f64
	j := &t.jobs.ceFwd
	*j = ceForward{logits: logits.Data, p: p, targets: targets, v: v, smoothing: smoothing, losses: losses}
	ops.ParallelRange(n, 3*v, j)
	*j = ceForward{}
	var sum float64
	count := 0
	for i, tg := range targets {
		if tg >= 0 {
			count++
			sum += losses[i]
		}
	}
	if count > 0 {
		out.Data[0] = float32(sum / float64(count))
	} else {
		out.Data[0] = 0
	}
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
	off := r.f / float32(v)
	j := &t.jobs.ceBwd
	*j = ceBackward{dx: dx, p: r.s0, targets: r.idx, v: v, g: g, off: off, smoothing: r.f}
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
		// log p_j = x_j - max - log Σexp(x - max), and Σexp(x - max) = 1/max(p).
		shift := float64(ops.Max(x)) - math.Log(float64(ops.Max(pr)))
		lp := float64(x[tg]) - shift
		loss := -(1 - float64(j.smoothing)) * lp
		if j.smoothing != 0 {
			sumLP := float64(ops.Sum(x)) - float64(v)*shift
			loss -= float64(j.smoothing) / float64(v) * sumLP
		}
		j.losses[i] = loss
	}
}

// ceBackward writes the gradient of CrossEntropy's rows.
type ceBackward struct {
	dx, p     []float32
	targets   []int32
	v         int
	g, off    float32
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
		for c, pc := range j.p[i*v : (i+1)*v] {
			d[c] = j.g * (pc - j.off)
		}
		d[tg] -= j.g * (1 - j.smoothing)
	}
}
