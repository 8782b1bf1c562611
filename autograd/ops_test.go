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

// Every operation's gradients pass a finite-difference check.
func TestGradients(t *testing.T) {
	type tc struct {
		name   string
		params []*autograd.Param
		fwd    func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor
		opts   gradcheck.Options
	}
	r := gradcheck.Random
	ids := []int32{3, 0, 3, 1, 4}
	valid := []bool{true, true, false, true, true, true, true, false}
	cases := []tc{
		{"MatMul", []*autograd.Param{r("a", 1, 1, 3, 4), r("b", 2, 1, 4, 5)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.MatMul(p[0], p[1], false) }, gradcheck.Options{}},
		{"MatMulTransB", []*autograd.Param{r("a", 1, 1, 3, 4), r("b", 2, 1, 5, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.MatMul(p[0], p[1], true) }, gradcheck.Options{}},
		{"MatMulShared", []*autograd.Param{r("a", 1, 1, 4, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.MatMul(p[0], p[0], false) }, gradcheck.Options{}},
		{"MatMulEach", []*autograd.Param{r("a", 1, 1, 3, 4), r("q", 2, 1, 4, 5), r("k", 3, 1, 4, 5), r("v", 4, 1, 4, 5)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				var o [3]*autograd.Tensor
				t.MatMulEach(t.GELU(p[0]), p[1:], o[:])
				return t.Add(t.Mul(o[0], o[1]), o[2])
			}, gradcheck.Options{}},
		// The first product's output reaches no loss: the others compute their own weight
		// gradients.
		{"MatMulEach/first-unused", []*autograd.Param{r("a", 1, 1, 3, 4), r("q", 2, 1, 4, 5), r("k", 3, 1, 4, 5)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				var o [2]*autograd.Tensor
				t.MatMulEach(p[0], p[1:], o[:])
				return o[1]
			}, gradcheck.Options{}},
		{"Add", []*autograd.Param{r("a", 1, 1, 3, 4), r("b", 2, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.Add(p[0], p[1]) }, gradcheck.Options{}},
		{"AddSelf", []*autograd.Param{r("a", 1, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				x := t.Mul(p[0], p[0])
				return t.Add(x, x)
			}, gradcheck.Options{}},
		{"Residual", []*autograd.Param{r("a", 1, 1, 3, 4), r("w", 2, 1, 4, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				x := t.GELU(p[0])
				y := t.Add(x, t.MatMul(x, p[1], false))
				return t.Add(y, t.MatMul(y, p[1], false))
			}, gradcheck.Options{}},
		{"AddRow", []*autograd.Param{r("a", 1, 1, 3, 4), r("b", 2, 1, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.AddRow(p[0], p[1]) }, gradcheck.Options{}},
		{"Mul", []*autograd.Param{r("a", 1, 1, 3, 4), r("b", 2, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.Mul(p[0], p[1]) }, gradcheck.Options{}},
		{"GatedAct/gelu", []*autograd.Param{r("a", 1, 1, 3, 4), r("b", 2, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.GatedAct(autograd.ActGELU, p[0], p[1])
			}, gradcheck.Options{}},
		{"GatedAct/gelu-shared", []*autograd.Param{r("a", 1, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.GatedAct(autograd.ActGELU, p[0], p[0])
			}, gradcheck.Options{}},
		// Mul's backward pass runs first: GatedAct adds into gradients already there.
		{"GatedAct/gelu-accumulated", []*autograd.Param{r("a", 1, 1, 3, 4), r("b", 2, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.Add(t.GatedAct(autograd.ActGELU, p[0], p[1]), t.Mul(p[0], p[1]))
			}, gradcheck.Options{}},
		{"GatedAct/silu-shared", []*autograd.Param{r("a", 1, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.GatedAct(autograd.ActSiLU, p[0], p[0])
			}, gradcheck.Options{}},
		{"GatedAct/relu", []*autograd.Param{r("a", 1, 1, 3, 4), r("b", 2, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.GatedAct(autograd.ActReLU, p[0], p[1])
			}, gradcheck.Options{Step: 1e-3}},
		{"Scale", []*autograd.Param{r("a", 1, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.Scale(p[0], -1.5) }, gradcheck.Options{}},
		{"View", []*autograd.Param{r("a", 1, 1, 3, 4), r("w", 2, 1, 2, 3)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.MatMul(t.View(t.GELU(p[0]), 6, 2), p[1], false)
			}, gradcheck.Options{}},
		{"GELU", []*autograd.Param{r("a", 1, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.GELU(p[0]) }, gradcheck.Options{}},
		{"ReLU", []*autograd.Param{r("a", 1, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.ReLU(p[0]) }, gradcheck.Options{Step: 1e-3}},
		{"SiLU", []*autograd.Param{r("a", 1, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.SiLU(p[0]) }, gradcheck.Options{}},
		{"Sigmoid", []*autograd.Param{r("a", 1, 1, 3, 4)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.Sigmoid(p[0]) }, gradcheck.Options{}},
		{"RMSNorm", []*autograd.Param{r("x", 1, 1, 3, 8), r("w", 2, 1, 8)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.RMSNorm(p[0], p[1], 1e-6) }, gradcheck.Options{}},
		{"LayerNorm", []*autograd.Param{r("x", 1, 1, 3, 8), r("w", 2, 1, 8), r("b", 3, 1, 8)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.LayerNorm(p[0], p[1], p[2], 1e-5)
			}, gradcheck.Options{}},
		{"GatherRows", []*autograd.Param{r("table", 1, 1, 5, 3)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.GatherRows(p[0], ids) }, gradcheck.Options{}},
		{"RelPosBias", []*autograd.Param{r("table", 1, 1, 4, 2)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.RelPosBias(p[0], []int32{0, 1, 2, 3, 3, 1}, 2)
			}, gradcheck.Options{}},
		{"Dropout", []*autograd.Param{r("a", 1, 1, 4, 8)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.Dropout(p[0], 0.3, 42) }, gradcheck.Options{}},
		{"AddDropout", []*autograd.Param{r("x", 1, 1, 4, 8), r("a", 2, 1, 4, 8)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.AddDropout(p[0], p[1], 0.3, 42)
			}, gradcheck.Options{}},
		{"AddDropout/residual", []*autograd.Param{r("x", 1, 1, 4, 8), r("w", 2, 1, 8, 8)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				h := t.GELU(p[0]) // no gradient buffer yet: the skip path adopts the output's
				return t.AddDropout(h, t.MatMul(h, p[1], false), 0.3, 42)
			}, gradcheck.Options{}},
		{"RMSNorm/residual", []*autograd.Param{r("x", 1, 1, 3, 8), r("w", 2, 1, 8)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				h := t.GELU(p[0]) // the norm's backward adds into the gradient the skip path gave h
				return t.Add(h, t.RMSNorm(h, p[1], 1e-6))
			}, gradcheck.Options{}},
		{"GatedFFN/gelu", []*autograd.Param{r("x", 1, 1, 5, 4), r("w0", 2, 1, 4, 6), r("w1", 3, 1, 4, 6), r("wo", 4, 1, 6, 3)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.GatedFFN(autograd.ActGELU, p[0], p[1], p[2], p[3])
			}, gradcheck.Options{}},
		{"GatedFFN/silu", []*autograd.Param{r("x", 1, 1, 5, 4), r("w0", 2, 1, 4, 6), r("w1", 3, 1, 4, 6), r("wo", 4, 1, 6, 3)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.GatedFFN(autograd.ActSiLU, t.GELU(p[0]), p[1], p[2], p[3])
			}, gradcheck.Options{}},
		{"GridGatedFFN/gelu", []*autograd.Param{r("x", 1, 1, 6, 4), r("w0", 2, 1, 4, 6), r("w1", 3, 1, 4, 6), r("wo", 4, 1, 6, 4), r("g", 5, 1, 2, 3*2)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.GridGatedFFN(autograd.ActGELU, p[0], p[1], p[2], p[3], p[4], 2, 3, 2)
			}, gradcheck.Options{}},
		{"GatedFFN/relu", []*autograd.Param{r("x", 1, 1, 5, 4), r("w0", 2, 1, 4, 6), r("w1", 3, 1, 4, 6), r("wo", 4, 1, 6, 3)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.GatedFFN(autograd.ActReLU, p[0], p[1], p[2], p[3])
			}, gradcheck.Options{Step: 1e-3}},
		{"Outer", []*autograd.Param{r("r", 1, 1, 3, 4), r("c", 2, 1, 3, 2)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.Outer(p[0], p[1]) }, gradcheck.Options{}},
		{"OuterBroadcast", []*autograd.Param{r("r", 1, 1, 3, 4), r("c", 2, 1, 1, 2)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.Outer(p[0], p[1]) }, gradcheck.Options{}},
		{"GridGatedMatMul", []*autograd.Param{r("a", 1, 1, 6, 8), r("w", 2, 1, 8, 6), r("g", 3, 1, 2, 4*3)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.GridGatedMatMul(p[0], p[1], p[2], 2, 4, 3)
			}, gradcheck.Options{}},
		{"MeanRows", []*autograd.Param{r("x", 1, 1, 8, 3)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor { return t.MeanRows(p[0], 2, valid) }, gradcheck.Options{}},
		{"Attention", []*autograd.Param{r("q", 1, 1, 2*3, 2*4), r("k", 2, 1, 2*5, 2*4), r("v", 3, 1, 2*5, 2*4), r("bias", 4, 1, 2, 3*5)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.Attention(p[0], p[1], p[2], p[3], autograd.AttentionShape{Batch: 2, QLen: 3, KLen: 5, Heads: 2, DHead: 4, Scale: 0.7,
					KeyValid: []bool{true, true, true, false, false, true, true, true, true, true}})
			}, gradcheck.Options{}},
		{"AttentionCausal", []*autograd.Param{r("q", 1, 1, 2*4, 2*3), r("k", 2, 1, 2*4, 2*3), r("v", 3, 1, 2*4, 2*3)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.Attention(p[0], p[1], p[2], nil, autograd.AttentionShape{Batch: 2, QLen: 4, KLen: 4, Heads: 2, DHead: 3, Scale: 1, Causal: true})
			}, gradcheck.Options{}},
		{"CrossEntropy", []*autograd.Param{r("logits", 1, 2, 4, 6)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.CrossEntropy(p[0], []int32{2, -1, 5, 0}, 0)
			}, gradcheck.Options{}},
		{"CrossEntropySmoothed", []*autograd.Param{r("logits", 1, 2, 4, 6)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.CrossEntropy(p[0], []int32{2, 1, -1, 0}, 0.1)
			}, gradcheck.Options{}},
		{"MSE", []*autograd.Param{r("pred", 1, 1, 4, 1)},
			func(t *autograd.Tape, p []*autograd.Tensor) *autograd.Tensor {
				return t.MSE(p[0], []float32{0.5, -1, 2, 0})
			}, gradcheck.Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loss := func(tape *autograd.Tape) *autograd.Tensor {
				ts := make([]*autograd.Tensor, len(c.params))
				for i, p := range c.params {
					ts[i] = &p.Tensor
				}
				out := c.fwd(tape, ts)
				if out.Len() == 1 {
					return out
				}
				return tape.WeightedSum(out, gradcheck.Weights(out.Len(), 9))
			}
			if err := gradcheck.Check(loss, c.params, c.opts); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// naiveMatMul is the plain triple loop.
func naiveMatMul(a []float32, m, k int, b []float32, n int) []float32 {
	c := make([]float32, m*n)
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				s += float64(a[i*k+p]) * float64(b[p*n+j])
			}
			c[i*n+j] = float32(s)
		}
	}
	return c
}

func close32(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// Attention equals the explicit per-example, per-head softmax(q kᵀ + bias) v.
func TestAttentionForward(t *testing.T) {
	const b, L, M, H, dh = 2, 3, 4, 2, 3
	hd := H * dh
	q := gradcheck.Random("q", 1, 1, b*L, hd)
	k := gradcheck.Random("k", 2, 1, b*M, hd)
	v := gradcheck.Random("v", 3, 1, b*M, hd)
	bias := gradcheck.Random("bias", 4, 1, H, L*M)
	valid := []bool{true, true, true, false, true, false, true, true}
	tape := autograd.NewTape()
	out := tape.Attention(&q.Tensor, &k.Tensor, &v.Tensor, &bias.Tensor, autograd.AttentionShape{Batch: b, QLen: L, KLen: M, Heads: H, DHead: dh, Scale: 0.5, KeyValid: valid})
	want := make([]float32, b*L*hd)
	for e := range b {
		for h := range H {
			for i := range L {
				scores := make([]float64, M)
				mx := math.Inf(-1)
				for j := range M {
					if !valid[e*M+j] {
						scores[j] = math.Inf(-1)
						continue
					}
					var s float64
					for d := range dh {
						s += float64(q.Data[(e*L+i)*hd+h*dh+d]) * float64(k.Data[(e*M+j)*hd+h*dh+d])
					}
					scores[j] = 0.5*s + float64(bias.Data[h*L*M+i*M+j])
					mx = math.Max(mx, scores[j])
				}
				var z float64
				for j := range M {
					scores[j] = math.Exp(scores[j] - mx)
					z += scores[j]
				}
				for d := range dh {
					var s float64
					for j := range M {
						s += scores[j] / z * float64(v.Data[(e*M+j)*hd+h*dh+d])
					}
					want[(e*L+i)*hd+h*dh+d] = float32(s)
				}
			}
		}
	}
	close32(t, "attention", out.Data, want, 1e-5)
}

func TestMatMulForward(t *testing.T) {
	a := gradcheck.Random("a", 1, 1, 5, 7)
	b := gradcheck.Random("b", 2, 1, 7, 3)
	tape := autograd.NewTape()
	close32(t, "a·b", tape.MatMul(&a.Tensor, &b.Tensor, false).Data, naiveMatMul(a.Data, 5, 7, b.Data, 3), 1e-5)
}

func TestCrossEntropyValue(t *testing.T) {
	logits := []float32{1, 2, 3, 0, 0, 0, -50, 40, 0}
	tape := autograd.NewTape()
	x := tape.From(logits, 3, 3)
	for _, eps := range []float32{0, 0.2} {
		got := tape.CrossEntropy(x, []int32{2, -1, 0}, eps).Data[0]
		var want float64
		for _, row := range []struct {
			x []float32
			t int
		}{{logits[0:3], 2}, {logits[6:9], 0}} {
			var z float64
			for _, v := range row.x {
				z += math.Exp(float64(v))
			}
			for j, v := range row.x {
				q := float64(eps) / 3
				if j == row.t {
					q += 1 - float64(eps)
				}
				want -= q * (float64(v) - math.Log(z))
			}
		}
		want /= 2
		if math.Abs(float64(got)-want) > 1e-4*math.Abs(want) {
			t.Errorf("smoothing %v: loss %v, want %v", eps, got, want)
		}
	}
}

// A fully masked attention row yields a uniform distribution, not NaN.
func TestAttentionAllMasked(t *testing.T) {
	tape := autograd.NewTape()
	q := tape.From([]float32{1, 2}, 1, 2)
	kv := tape.From([]float32{1, 0, 0, 1}, 2, 2)
	out := tape.Attention(q, kv, kv, nil, autograd.AttentionShape{Batch: 1, QLen: 1, KLen: 2, Heads: 1, DHead: 2, Scale: 1, KeyValid: []bool{false, false}})
	close32(t, "out", out.Data, []float32{0.5, 0.5}, 1e-6)
}

// Inference mode records nothing, so no gradient flows and Backward refuses.
func TestInferenceRecordsNothing(t *testing.T) {
	w := gradcheck.Random("w", 1, 1, 3, 3)
	tape := autograd.NewTape()
	tape.SetRecording(false)
	y := tape.MatMul(tape.New(2, 3), &w.Tensor, false)
	if y.NeedsGrad() {
		t.Fatal("an inference-mode result needs a gradient")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Backward on an inference-mode result did not panic")
		}
	}()
	tape.Backward(y)
}

// After warm-up a step on a reset tape allocates nothing, on one thread. (The
// products inside attention are small enough for ops to run them without allocating;
// ops tests its own kernels' allocations.)
func TestStepAllocatesNothing(t *testing.T) {
	w := gradcheck.Random("w", 1, 0.3, 8, 16)
	nrm := autograd.NewParam("n", 16)
	for i := range nrm.Data {
		nrm.Data[i] = 1
	}
	tape := autograd.NewTape()
	x := make([]float32, 8*16)
	targets := []int32{1, 2, 3, -1, 4, 5, 6, 7}
	rows := []int32{1, 2, 3, 0, 4, 5, 6, 7}
	step := func() {
		tape.Reset()
		h := tape.From(x, 8, 16)
		for range 3 {
			h = tape.View(h, 8, 16)
			g := tape.GELU(tape.RMSNorm(h, &nrm.Tensor, 1e-6))
			h = tape.Add(h, tape.Mul(tape.Dropout(g, 0.1, 3), tape.GatherRows(&w.Tensor, rows)))
			// Two examples of 4 positions, 2 heads of 8.
			a := tape.Attention(h, h, g, nil, autograd.AttentionShape{Batch: 2, QLen: 4, KLen: 4, Heads: 2, DHead: 8, Scale: 1, Causal: true})
			h = tape.Add(h, tape.GatedAct(autograd.ActGELU, a, h))
		}
		tape.Backward(tape.CrossEntropy(h, targets, 0.1))
	}
	prev := ops.SetThreads(1)
	defer ops.SetThreads(prev)
	step()
	step()
	if n := testing.AllocsPerRun(10, step); n > 0 {
		t.Errorf("a steady-state step allocates %v times", n)
	}
}

// TestGatedActMatchesComposition checks the fused GLU activation value for value against
// Mul(act(a), b), on a tensor larger than one chunk, gradients included.
func TestGatedActMatchesComposition(t *testing.T) {
	for _, c := range []struct {
		act   autograd.Act
		plain func(*autograd.Tape, *autograd.Tensor) *autograd.Tensor
	}{
		{autograd.ActGELU, (*autograd.Tape).GELU},
		{autograd.ActReLU, (*autograd.Tape).ReLU},
		{autograd.ActSiLU, (*autograd.Tape).SiLU},
	} {
		run := func(fused bool) (out, da, db []float32) {
			a, b := gradcheck.Random("a", 7, 1, 3, 5000), gradcheck.Random("b", 8, 1, 3, 5000)
			tape := autograd.NewTape()
			var y *autograd.Tensor
			if fused {
				y = tape.GatedAct(c.act, &a.Tensor, &b.Tensor)
			} else {
				y = tape.Mul(c.plain(tape, &a.Tensor), &b.Tensor)
			}
			loss := tape.WeightedSum(y, gradcheck.Weights(y.Len(), 9))
			tape.Backward(loss)
			return append([]float32(nil), y.Data...), append([]float32(nil), a.Grad...), append([]float32(nil), b.Grad...)
		}
		y1, da1, db1 := run(true)
		y2, da2, db2 := run(false)
		for i := range y1 {
			if y1[i] != y2[i] || da1[i] != da2[i] || db1[i] != db2[i] {
				t.Fatalf("act %d: element %d: fused (%v, %v, %v) != composed (%v, %v, %v)", c.act, i, y1[i], da1[i], db1[i], y2[i], da2[i], db2[i])
			}
		}
	}
}

// AddDropout equals Add(x, Dropout(a)) bit for bit, value and gradients, over several
// mask chunks and a partial last draw, on one thread and on three, with x a parameter
// or an intermediate (whose gradient the skip path adopts), and a residual RMSNorm
// (whose backward adds into that gradient) equal to its composed form too.
func TestAddDropoutMatchesComposition(t *testing.T) {
	const rows, cols = 13, 1031
	run := func(threads int, fused, intermediate bool) [][]float32 {
		defer ops.SetThreads(ops.SetThreads(threads))
		xp := gradcheck.Random("x", 1, 1, rows, cols)
		ap := gradcheck.Random("a", 2, 1, rows, cols)
		w := gradcheck.Random("w", 3, 1, 1, cols)
		tape := autograd.NewTape()
		x, a := &xp.Tensor, &ap.Tensor
		if intermediate {
			x, a = tape.GELU(x), tape.GELU(a)
		}
		var y *autograd.Tensor
		if fused {
			y = tape.AddDropout(x, a, 0.1, 77)
		} else {
			y = tape.Add(x, tape.Dropout(a, 0.1, 77))
		}
		y = tape.Add(y, tape.RMSNorm(y, &w.Tensor, 1e-6))
		tape.Backward(tape.WeightedSum(y, gradcheck.Weights(y.Len(), 9)))
		return [][]float32{slices.Clone(y.Data), xp.Grad, ap.Grad, w.Grad}
	}
	for _, intermediate := range []bool{false, true} {
		want := run(1, false, intermediate)
		for _, threads := range []int{1, 3} {
			got := run(threads, true, intermediate)
			for i, name := range []string{"output", "dx", "da", "dw"} {
				if !slices.Equal(got[i], want[i]) {
					t.Errorf("intermediate %v, %d threads: %s differs from Add(x, Dropout(a))", intermediate, threads, name)
				}
			}
		}
	}
}

// MatMulEach equals a MatMul per product bit for bit, value and every gradient: on
// one thread and three, for an input that is a parameter or an intermediate (whose
// gradient then sums the products' terms), with every output used, the first unused
// and a middle one unused; its weight gradients come from one joined product.
func TestMatMulEachMatchesMatMul(t *testing.T) {
	const m, d = 70, 64
	widths := []int{64, 64, 40} // the last not a whole micro-panel
	run := func(threads int, each, intermediate bool, used []bool) [][]float32 {
		defer ops.SetThreads(ops.SetThreads(threads))
		xp := gradcheck.Random("x", 1, 1, m, d)
		var bs []*autograd.Tensor
		var ps []*autograd.Param
		for i, n := range widths {
			p := gradcheck.Random(fmt.Sprint("w", i), uint64(2+i), 1, d, n)
			ps, bs = append(ps, p), append(bs, &p.Tensor)
		}
		tape := autograd.NewTape()
		x := &xp.Tensor
		if intermediate {
			x = tape.GELU(x)
		}
		outs := make([]*autograd.Tensor, len(bs))
		if each {
			tape.MatMulEach(x, bs, outs)
		} else {
			for i, b := range bs {
				outs[i] = tape.MatMul(x, b, false)
			}
		}
		var loss *autograd.Tensor
		for i, o := range outs {
			if !used[i] {
				continue
			}
			s := tape.WeightedSum(o, gradcheck.Weights(o.Len(), uint64(10+i)))
			if loss == nil {
				loss = s
			} else {
				loss = tape.Add(loss, s)
			}
		}
		tape.Backward(loss)
		got := [][]float32{xp.Grad}
		for i, o := range outs {
			got = append(got, slices.Clone(o.Data), ps[i].Grad)
		}
		return got
	}
	for _, used := range [][]bool{{true, true, true}, {false, true, true}, {true, false, true}} {
		for _, intermediate := range []bool{false, true} {
			want := run(1, false, intermediate, used)
			for _, threads := range []int{1, 3} {
				got := run(threads, true, intermediate, used)
				for i := range want {
					if !slices.Equal(got[i], want[i]) {
						t.Errorf("used %v, intermediate %v, %d threads: part %d (dx, then each output and its weight's gradient) differs from MatMul's", used, intermediate, threads, i)
					}
				}
			}
		}
	}
}

// GatedFFN equals its composition (MatMul, MatMul, GatedAct, MatMul) bit for bit,
// value and every gradient, for each activation: in several blocks and in its own, on
// one thread and three, with x a parameter or an intermediate, and on a tape that
// records nothing (where it keeps one block).
func TestGatedFFNMatchesComposition(t *testing.T) {
	for _, s := range []struct{ m, d, f, e int }{{37, 16, 40, 12}, {70, 24, 300, 260}, {29, 24, 512, 20}} { // the second spans several k blocks; the third has rows padded (ops.DirectLD)
		testGatedFFNMatchesComposition(t, s.m, s.d, s.f, s.e)
	}
}

func testGatedFFNMatchesComposition(t *testing.T, m, d, f, e int) {
	run := func(act autograd.Act, fused bool, blockRows, threads int, intermediate, record bool) [][]float32 {
		defer ops.SetThreads(ops.SetThreads(threads))
		defer autograd.SetFFNBlockRows(autograd.SetFFNBlockRows(blockRows))
		xp := gradcheck.Random("x", 1, 1, m, d)
		w0, w1, wo := gradcheck.Random("w0", 2, 1, d, f), gradcheck.Random("w1", 3, 1, d, f), gradcheck.Random("wo", 4, 1, f, e)
		tape := autograd.NewTape()
		tape.SetRecording(record)
		x := &xp.Tensor
		if intermediate {
			x = tape.GELU(x)
		}
		var y *autograd.Tensor
		if fused {
			y = tape.GatedFFN(act, x, &w0.Tensor, &w1.Tensor, &wo.Tensor)
		} else {
			h := tape.GatedAct(act, tape.MatMul(x, &w0.Tensor, false), tape.MatMul(x, &w1.Tensor, false))
			y = tape.MatMul(h, &wo.Tensor, false)
		}
		if !record {
			return [][]float32{slices.Clone(y.Data)}
		}
		tape.Backward(tape.WeightedSum(y, gradcheck.Weights(y.Len(), 9)))
		return [][]float32{slices.Clone(y.Data), xp.Grad, w0.Grad, w1.Grad, wo.Grad}
	}
	for _, act := range []autograd.Act{autograd.ActGELU, autograd.ActReLU, autograd.ActSiLU} {
		for _, intermediate := range []bool{false, true} {
			for _, record := range []bool{true, false} {
				want := run(act, false, 0, 1, intermediate, record)
				for _, blockRows := range []int{0, 8, 16} {
					for _, threads := range []int{1, 3} {
						got := run(act, true, blockRows, threads, intermediate, record)
						for i, name := range []string{"output", "dx", "dw0", "dw1", "dwo"}[:len(want)] {
							if !slices.Equal(got[i], want[i]) {
								t.Errorf("%d×%d·%d×%d·%d: activation %d, intermediate %v, recording %v, blocks of %d rows, %d threads: %s differs from the composition",
									m, d, f, f, e, act, intermediate, record, blockRows, threads, name)
							}
						}
					}
				}
			}
		}
	}
}

// GridGatedFFN equals MatMul, MatMul, GatedAct and GridGatedMatMul bit for bit: the
// value and every gradient (x, the three weights, the gates), in one block or several
// (blocks cut across examples), on 1 and 3 threads (each against the composition on as
// many), recording or not.
func TestGridGatedFFNMatchesComposition(t *testing.T) {
	for _, s := range []struct{ batch, rows, d, f, e, gr, gc int }{
		{3, 13, 16, 40, 12, 4, 3}, {5, 14, 24, 300, 260, 5, 4}, {2, 16, 24, 512, 20, 32, 5}, {4, 1, 8, 32, 16, 2, 2},
	} {
		m := s.batch * s.rows
		run := func(act autograd.Act, fused bool, blockRows, threads int, intermediate, record bool) [][]float32 {
			defer ops.SetThreads(ops.SetThreads(threads))
			defer autograd.SetFFNBlockRows(autograd.SetFFNBlockRows(blockRows))
			xp := gradcheck.Random("x", 1, 1, m, s.d)
			w0, w1, wo := gradcheck.Random("w0", 2, 1, s.d, s.f), gradcheck.Random("w1", 3, 1, s.d, s.f), gradcheck.Random("wo", 4, 1, s.f, s.e)
			gp := gradcheck.Random("g", 5, 1, s.batch, s.gr*s.gc)
			tape := autograd.NewTape()
			tape.SetRecording(record)
			x, g := &xp.Tensor, &gp.Tensor
			if intermediate {
				x, g = tape.GELU(x), tape.GELU(g)
			}
			var y *autograd.Tensor
			if fused {
				y = tape.GridGatedFFN(act, x, &w0.Tensor, &w1.Tensor, &wo.Tensor, g, s.batch, s.gr, s.gc)
			} else {
				h := tape.GatedAct(act, tape.MatMul(x, &w0.Tensor, false), tape.MatMul(x, &w1.Tensor, false))
				y = tape.GridGatedMatMul(h, &wo.Tensor, g, s.batch, s.gr, s.gc)
			}
			if !record {
				return [][]float32{slices.Clone(y.Data)}
			}
			tape.Backward(tape.WeightedSum(y, gradcheck.Weights(y.Len(), 9)))
			return [][]float32{slices.Clone(y.Data), xp.Grad, w0.Grad, w1.Grad, wo.Grad, gp.Grad}
		}
		for _, act := range []autograd.Act{autograd.ActGELU, autograd.ActSiLU} {
			for _, intermediate := range []bool{false, true} {
				for _, record := range []bool{true, false} {
					for _, threads := range []int{1, 3} {
						// Against the composition on as many threads: GridGatedGemmGradBG
						// sums the goroutines' shares of the gate gradient.
						want := run(act, false, 0, threads, intermediate, record)
						for _, blockRows := range []int{0, 8, 16} {
							got := run(act, true, blockRows, threads, intermediate, record)
							for i, name := range []string{"output", "dx", "dw0", "dw1", "dwo", "dg"}[:len(want)] {
								if !slices.Equal(got[i], want[i]) {
									t.Errorf("%+v: activation %d, intermediate %v, recording %v, blocks of %d rows, %d threads: %s differs from the composition",
										s, act, intermediate, record, blockRows, threads, name)
								}
							}
						}
					}
				}
			}
		}
	}
}

// Attention runs examples side by side on several threads: its output and gradients
// are the same bit for bit as on one thread (causal or not, with padding and bias; the
// larger shape also sums the bias gradient in pieces side by side).
func TestAttentionThreadsBitIdentical(t *testing.T) {
	for _, sh := range []struct{ b, L int }{{6, 32}, {9, 128}} {
		b, L := sh.b, sh.L
		const H, dh = 4, 16
		hd := H * dh
		valid := make([]bool, b*L)
		for i := range valid {
			valid[i] = i%L < L-i/L-1 // example e has e+1 padding keys
		}
		run := func(threads int, causal bool) [][]float32 {
			prev := ops.SetThreads(threads)
			defer ops.SetThreads(prev)
			q := gradcheck.Random("q", 1, 1, b*L, hd)
			k := gradcheck.Random("k", 2, 1, b*L, hd)
			v := gradcheck.Random("v", 3, 1, b*L, hd)
			bias := gradcheck.Random("bias", 4, 1, H, L*L)
			w := gradcheck.Random("w", 5, 1, b*L, hd)
			// Twice on one tape, as a training loop reuses it, the first time without a
			// bias (every example's score gradient goes through the tape's buffers): the
			// second pass must not pick up anything the first left there.
			tape := autograd.NewTape()
			var got [][]float32
			for pass := range 2 {
				tape.Reset()
				for _, p := range []*autograd.Param{q, k, v, bias} {
					p.Grad = nil
				}
				bt := &bias.Tensor
				if pass == 0 {
					bt = nil
				}
				out := tape.Attention(&q.Tensor, &k.Tensor, &v.Tensor, bt, autograd.AttentionShape{Batch: b, QLen: L, KLen: L, Heads: H, DHead: dh, Scale: 1, Causal: causal, KeyValid: valid})
				tape.Backward(tape.WeightedSum(out, w.Data))
				got = [][]float32{slices.Clone(out.Data), q.Grad, k.Grad, v.Grad, bias.Grad}
			}
			return got
		}
		// The bias gradient is the examples' own, each computed alone, summed in order.
		perExample := func(causal bool) []float32 {
			q := gradcheck.Random("q", 1, 1, b*L, hd)
			k := gradcheck.Random("k", 2, 1, b*L, hd)
			v := gradcheck.Random("v", 3, 1, b*L, hd)
			bias := gradcheck.Random("bias", 4, 1, H, L*L)
			w := gradcheck.Random("w", 5, 1, b*L, hd)
			sum := make([]float32, H*L*L)
			for e := range b {
				rows := func(p *autograd.Param) *autograd.Tensor {
					return &autograd.Tensor{Data: p.Data[e*L*hd : (e+1)*L*hd], Rows: L, Cols: hd}
				}
				bias.Grad = nil
				tape := autograd.NewTape()
				out := tape.Attention(rows(q), rows(k), rows(v), &bias.Tensor, autograd.AttentionShape{Batch: 1, QLen: L, KLen: L, Heads: H, DHead: dh, Scale: 1, Causal: causal, KeyValid: valid[e*L : (e+1)*L]})
				tape.Backward(tape.WeightedSum(out, w.Data[e*L*hd:(e+1)*L*hd]))
				if e == 0 {
					copy(sum, bias.Grad)
				} else {
					ops.Add(sum, sum, bias.Grad)
				}
			}
			return sum
		}
		for _, causal := range []bool{false, true} {
			one, three := run(1, causal), run(3, causal)
			for i, name := range []string{"output", "dq", "dk", "dv", "dbias"} {
				if !slices.Equal(one[i], three[i]) {
					t.Errorf("%d×%d, causal %v: %s differs between 1 and 3 threads", b, L, causal, name)
				}
			}
			if !slices.Equal(one[4], perExample(causal)) {
				t.Errorf("%d×%d, causal %v: dbias is not the examples' own, summed in order", b, L, causal)
			}
		}
	}
}

// GatedAct runs its chunks side by side on several threads: output and gradients are
// the same bit for bit as on one thread, for each activation, with a and b distinct
// or one tensor.
func TestGatedActThreadsBitIdentical(t *testing.T) {
	const rows, cols = 97, 1031 // many chunks and a short last one
	run := func(threads int, act autograd.Act, shared bool) [][]float32 {
		defer ops.SetThreads(ops.SetThreads(threads))
		a := gradcheck.Random("a", 1, 1, rows, cols)
		b := gradcheck.Random("b", 2, 1, rows, cols)
		if shared {
			b = a
		}
		tape := autograd.NewTape()
		out := tape.GatedAct(act, &a.Tensor, &b.Tensor)
		w := gradcheck.Random("w", 3, 1, rows, cols)
		tape.Backward(tape.WeightedSum(out, w.Data))
		return [][]float32{slices.Clone(out.Data), a.Grad, b.Grad}
	}
	for _, act := range []autograd.Act{autograd.ActGELU, autograd.ActReLU, autograd.ActSiLU} {
		for _, shared := range []bool{false, true} {
			one, three := run(1, act, shared), run(3, act, shared)
			for i, name := range []string{"output", "da", "db"} {
				if !slices.Equal(one[i], three[i]) {
					t.Errorf("activation %d, shared %v: %s differs between 1 and 3 threads", act, shared, name)
				}
			}
		}
	}
}

// CrossEntropy computes its rows side by side on several threads: the loss and the
// gradient are the same bit for bit as on one thread.
func TestCrossEntropyThreadsBitIdentical(t *testing.T) {
	const rows, cols = 64, 3001
	targets := make([]int32, rows)
	for i := range targets {
		targets[i] = int32(i*37%cols) - int32(i%5/4) // every fifth row padding (-1)
	}
	run := func(threads int) [][]float32 {
		defer ops.SetThreads(ops.SetThreads(threads))
		x := gradcheck.Random("x", 1, 3, rows, cols)
		tape := autograd.NewTape()
		loss := tape.CrossEntropy(&x.Tensor, targets, 0.1)
		tape.Backward(loss)
		return [][]float32{slices.Clone(loss.Data), x.Grad}
	}
	one, three := run(1), run(3)
	for i, name := range []string{"loss", "gradient"} {
		if !slices.Equal(one[i], three[i]) {
			t.Errorf("%s differs between 1 and 3 threads", name)
		}
	}
}

// An inference tape rewound to a mark hands out the same memory again, RowsOf shares
// its tensor's values, and a recording tape refuses both.
// ArenaPeakBytes counts what a tape holds at most: a Rewind frees what came after its
// mark, a Reset everything.
func TestArenaPeakBytes(t *testing.T) {
	tape := autograd.NewTape()
	tape.SetRecording(false)
	tape.New(10, 10) // 100 values
	m := tape.Mark()
	tape.New(10, 100) // 1000 more
	tape.Rewind(m)
	tape.New(5, 100) // 500 in their place
	if got, want := tape.ArenaPeakBytes(), 4*1100; got != want {
		t.Errorf("after a rewind: peak %d bytes, want %d", got, want)
	}
	tape.Reset()
	tape.New(2, 2)
	if got := tape.ArenaPeakBytes(); got != 16 {
		t.Errorf("after a reset: peak %d bytes, want 16", got)
	}
}

func TestMarkRewindRowsOf(t *testing.T) {
	tape := autograd.NewTape()
	tape.SetRecording(false)
	x := tape.From([]float32{1, 2, 3, 4, 5, 6}, 3, 2)
	m := tape.Mark()
	a := tape.New(4, 4)
	tape.Rewind(m)
	b := tape.New(4, 4)
	if &a.Data[0] != &b.Data[0] {
		t.Error("the allocation after Rewind does not reuse the rewound memory")
	}
	r := tape.RowsOf(x, 1, 3)
	if r.Rows != 2 || r.Cols != 2 || &r.Data[0] != &x.Data[2] || len(r.Data) != 4 {
		t.Errorf("RowsOf(x, 1, 3) = %d×%d %v, want rows 1 and 2 of x in place", r.Rows, r.Cols, r.Data)
	}
	for name, f := range map[string]func(*autograd.Tape){
		"Rewind": func(tp *autograd.Tape) { tp.Rewind(tp.Mark()) },
		"RowsOf": func(tp *autograd.Tape) { tp.RowsOf(tp.New(2, 2), 0, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s on a recording tape did not panic", name)
				}
			}()
			f(autograd.NewTape())
		}()
	}
}
