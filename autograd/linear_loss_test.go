package autograd_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/autograd/gradcheck"
	"github.com/hypergrid-go/hypergrid/ops"
)

// lceCase is a LinearCrossEntropy configuration: an untied (d×v) or tied (v×d, transW)
// projection, the scale, the smoothing, and the blocks' height.
type lceCase struct {
	transW    bool
	alpha     float32
	smoothing float32
	rows      int
}

func (c lceCase) String() string {
	return fmt.Sprintf("transW=%v/alpha=%v/smoothing=%v/rows=%d", c.transW, c.alpha, c.smoothing, c.rows)
}

var lceCases = []lceCase{
	{false, 1, 0, 0},
	{false, 1, 0.1, 2},
	{true, 0.7, 0, 3},
	{true, 0.5, 0.1, 0},
}

// LinearCrossEntropy's gradient of x and of w match finite differences, in one block
// and in several (the last one short), tied and untied, with smoothing and padding rows.
func TestLinearCrossEntropyGradients(t *testing.T) {
	const n, d, v = 7, 4, 9
	targets := []int32{2, -1, 8, 0, 5, -1, 3}
	for _, c := range lceCases {
		t.Run(c.String(), func(t *testing.T) {
			defer autograd.SetLinearCrossEntropyRows(autograd.SetLinearCrossEntropyRows(c.rows))
			x := gradcheck.Random("x", 1, 1, n, d)
			w := gradcheck.Random("w", 2, 1, d, v)
			if c.transW {
				w = gradcheck.Random("w", 2, 1, v, d)
			}
			loss := func(tape *autograd.Tape) *autograd.Tensor {
				h := tape.GELU(&x.Tensor) // x's gradient flows on through an operation
				return tape.Scale(tape.LinearCrossEntropy(h, &w.Tensor, c.transW, c.alpha, targets, c.smoothing), 1.5)
			}
			if err := gradcheck.Check(loss, []*autograd.Param{x, w}, gradcheck.Options{}); err != nil {
				t.Error(err)
			}
		})
	}
}

// lceRun is one training pass of a loss built by f on fresh copies of x and w, with the
// loss scaled by up (the upstream gradient) and the tape's kept values counted: the
// loss, x's gradient and w's.
func lceRun(threads int, x0, w0 *autograd.Param, up float32, f func(t *autograd.Tape, x, w *autograd.Tensor) *autograd.Tensor) (loss float32, dx, dw []float32) {
	defer ops.SetThreads(ops.SetThreads(threads))
	x := gradcheck.Random("x", 0, 0, x0.Rows, x0.Cols)
	w := gradcheck.Random("w", 0, 0, w0.Rows, w0.Cols)
	copy(x.Data, x0.Data)
	copy(w.Data, w0.Data)
	tape := autograd.NewTape()
	l := f(tape, &x.Tensor, &w.Tensor)
	loss = l.Data[0]
	if up != 1 {
		l = tape.Scale(l, up)
	}
	tape.Backward(l)
	return loss, x.Grad, w.Grad
}

// LinearCrossEntropy equals Scale, MatMul and CrossEntropy: the loss bit for bit, the
// gradients within float32 rounding, whatever the blocks and the upstream gradient;
// and its results are the same bit for bit on 1 and 3 threads.
func TestLinearCrossEntropyMatchesComposition(t *testing.T) {
	const n, d, v = 37, 24, 301
	targets := make([]int32, n)
	for i := range targets {
		targets[i] = int32(i * 53 % v)
		if i%6 == 5 {
			targets[i] = -1
		}
	}
	for _, c := range lceCases {
		for _, up := range []float32{1, 2.5} {
			t.Run(fmt.Sprintf("%v/up=%v", c, up), func(t *testing.T) {
				defer autograd.SetLinearCrossEntropyRows(autograd.SetLinearCrossEntropyRows(c.rows * 5))
				x := gradcheck.Random("x", 3, 1, n, d)
				w := gradcheck.Random("w", 4, 0.5, d, v)
				if c.transW {
					w = gradcheck.Random("w", 4, 0.5, v, d)
				}
				fused := func(t *autograd.Tape, x, w *autograd.Tensor) *autograd.Tensor {
					return t.LinearCrossEntropy(x, w, c.transW, c.alpha, targets, c.smoothing)
				}
				composed := func(t *autograd.Tape, x, w *autograd.Tensor) *autograd.Tensor {
					if c.alpha != 1 {
						x = t.Scale(x, c.alpha)
					}
					return t.CrossEntropy(t.MatMul(x, w, c.transW), targets, c.smoothing)
				}
				loss, dx, dw := lceRun(1, x, w, up, fused)
				wantLoss, wantDX, wantDW := lceRun(1, x, w, up, composed)
				if loss != wantLoss {
					t.Errorf("loss %v, the composition's %v", loss, wantLoss)
				}
				close32(t, "x's gradient", dx, wantDX, 1e-5)
				close32(t, "w's gradient", dw, wantDW, 1e-5)
				loss3, dx3, dw3 := lceRun(3, x, w, up, fused)
				if loss3 != loss || !slices.Equal(dx3, dx) || !slices.Equal(dw3, dw) {
					t.Errorf("3 threads differ from 1")
				}
			})
		}
	}
}

// A frozen projection gets no gradient and x still gets its own; without a target the
// loss is 0 and nothing is recorded; an inference tape computes the same loss.
func TestLinearCrossEntropyEdges(t *testing.T) {
	x := gradcheck.Random("x", 1, 1, 4, 3)
	w := gradcheck.Random("w", 2, 1, 3, 5)
	targets := []int32{1, 4, -1, 0}
	tape := autograd.NewTape()
	want := tape.LinearCrossEntropy(&x.Tensor, &w.Tensor, false, 1, targets, 0).Data[0]

	w.SetFrozen(true)
	w.Grad = nil
	tape.Reset()
	tape.Backward(tape.LinearCrossEntropy(&x.Tensor, &w.Tensor, false, 1, targets, 0))
	if w.Grad != nil {
		t.Errorf("a frozen projection got a gradient")
	}
	if slices.Equal(x.Grad, make([]float32, len(x.Grad))) {
		t.Errorf("x's gradient is zero")
	}
	w.SetFrozen(false)

	tape.Reset()
	autograd.DeferZeroGrads([]*autograd.Param{x, w})
	l := tape.LinearCrossEntropy(&x.Tensor, &w.Tensor, false, 1, []int32{-1, -1, -1, -1}, 0.1)
	tape.Backward(l)
	if l.Data[0] != 0 {
		t.Errorf("loss without targets %v, want 0", l.Data[0])
	}
	for _, p := range []*autograd.Param{x, w} {
		if !slices.Equal(p.Grad, make([]float32, len(p.Grad))) {
			t.Errorf("without targets, %s's gradient is not zero", p.Name)
		}
	}

	tape.Reset()
	tape.SetRecording(false)
	if got := tape.LinearCrossEntropy(&x.Tensor, &w.Tensor, false, 1, targets, 0).Data[0]; got != want || math.IsNaN(float64(got)) {
		t.Errorf("inference loss %v, training loss %v", got, want)
	}
}

func TestLinearCrossEntropyPanics(t *testing.T) {
	x := gradcheck.Random("x", 1, 1, 2, 3)
	w := gradcheck.Random("w", 2, 1, 3, 5)
	for name, f := range map[string]func(t *autograd.Tape){
		"shapes":  func(t *autograd.Tape) { t.LinearCrossEntropy(&x.Tensor, &w.Tensor, true, 1, []int32{0, 1}, 0) },
		"targets": func(t *autograd.Tape) { t.LinearCrossEntropy(&x.Tensor, &w.Tensor, false, 1, []int32{0}, 0) },
		"range":   func(t *autograd.Tape) { t.LinearCrossEntropy(&x.Tensor, &w.Tensor, false, 1, []int32{0, 5}, 0) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			f(autograd.NewTape())
		})
	}
}
