package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hypergrid-go/hypergrid/ops"
)

// On the first step β2 = 0, so a rank-one squared gradient is reconstructed exactly
// from its row and column means: every update is alpha·sign(g), alpha = lr·RMS(w).
func TestAdafactorFirstStepIsSignStep(t *testing.T) {
	a, b := []float64{1, 2, 3}, []float64{0.5, -1, 2, 4}
	w := make([]float32, 12)
	g := make([]float32, 12)
	for r := range 3 {
		for c := range 4 {
			g[r*4+c] = float32(a[r] * b[c])
			w[r*4+c] = float32(r+c) * 0.1
		}
	}
	w0 := append([]float32(nil), w...)
	o, err := NewAdafactor(DefaultAdafactorConfig(), []Param{{Name: "w", Value: w, Grad: g, Rows: 3, Cols: 4}})
	if err != nil {
		t.Fatal(err)
	}
	o.Step(0.01)
	var w2 float64
	for _, v := range w0 {
		w2 += float64(v) * float64(v)
	}
	alpha := 0.01 * math.Max(1e-3, math.Sqrt(w2/float64(len(w0))))
	for i := range w {
		want := float64(w0[i]) - alpha*math.Copysign(1, float64(g[i]))
		if math.Abs(float64(w[i])-want) > 1e-6 {
			t.Fatalf("w[%d] = %v, want %v", i, w[i], want)
		}
	}
}

func TestAdafactorMinimisesAndResumes(t *testing.T) {
	// Minimise Σ (w - target)² over a 4×5 matrix and a vector.
	target := make([]float32, 20)
	for i := range target {
		target[i] = float32(i%7) - 3
	}
	run := func(steps int, o *Adafactor, w, g, v, gv []float32) {
		for range steps {
			for i := range w {
				g[i] = 2 * (w[i] - target[i])
			}
			for i := range v {
				gv[i] = 2 * (v[i] - 1)
			}
			o.Step(0.05)
		}
	}
	newRun := func() (*Adafactor, []float32, []float32, []float32, []float32) {
		w, g, v, gv := make([]float32, 20), make([]float32, 20), make([]float32, 3), make([]float32, 3)
		cfg := DefaultAdafactorConfig()
		cfg.ScaleParameter = false
		o, err := NewAdafactor(cfg, []Param{{Name: "w", Value: w, Grad: g, Rows: 4, Cols: 5}, {Name: "v", Value: v, Grad: gv}})
		if err != nil {
			t.Fatal(err)
		}
		return o, w, g, v, gv
	}
	o, w, g, v, gv := newRun()
	run(300, o, w, g, v, gv)
	var loss float64
	for i := range w {
		loss += math.Pow(float64(w[i]-target[i]), 2)
	}
	if loss > 1 {
		t.Errorf("loss %v after 300 steps; Adafactor should have fitted the target", loss)
	}
	// Resume: 100 steps, save, 100 more in a fresh optimizer == 200 straight.
	o1, w1, g1, v1, gv1 := newRun()
	run(200, o1, w1, g1, v1, gv1)
	o2, w2, g2, v2, gv2 := newRun()
	run(100, o2, w2, g2, v2, gv2)
	st := o2.State()
	o3, w3, g3, v3, gv3 := newRun()
	copy(w3, w2)
	copy(v3, v2)
	if err := o3.SetState(st); err != nil {
		t.Fatal(err)
	}
	run(100, o3, w3, g3, v3, gv3)
	for i := range w1 {
		if w1[i] != w3[i] {
			t.Fatalf("resumed w[%d] = %v, straight run %v", i, w3[i], w1[i])
		}
	}
}

// refAdafactor is Adafactor as the formulas state it, value by value in float64 (the
// plain loops Step replaced): the oracle for Step's segmented, vectorised passes.
type refAdafactor struct {
	cfg      AdafactorConfig
	params   []Param
	row, col [][]float64
	v        [][]float64
	step     float64
}

func newRefAdafactor(cfg AdafactorConfig, params []Param) *refAdafactor {
	r := &refAdafactor{cfg: cfg, params: params}
	for _, p := range params {
		if factored(p) {
			r.row = append(r.row, make([]float64, p.Rows))
			r.col = append(r.col, make([]float64, p.Cols))
			r.v = append(r.v, nil)
		} else {
			r.row, r.col = append(r.row, nil), append(r.col, nil)
			r.v = append(r.v, make([]float64, len(p.Value)))
		}
	}
	return r
}

func (o *refAdafactor) Step(lr, gradScale float64) {
	o.step++
	beta2 := 1 - math.Pow(o.step, o.cfg.DecayRate)
	for i, p := range o.params {
		w := p.Value
		g := make([]float64, len(w))
		for j := range g {
			g[j] = gradScale * float64(p.Grad[j])
		}
		var w2 float64
		for _, x := range w {
			w2 += float64(x) * float64(x)
		}
		alpha := lr
		if o.cfg.ScaleParameter {
			alpha *= math.Max(o.cfg.Eps2, math.Sqrt(w2/float64(len(w))))
		}
		u := make([]float64, len(w))
		if factored(p) {
			rows, cols := p.Rows, p.Cols
			row, col := o.row[i], o.col[i]
			for r := range rows {
				var s float64
				for c := range cols {
					s += g[r*cols+c]*g[r*cols+c] + o.cfg.Eps1
				}
				row[r] = beta2*row[r] + (1-beta2)*s/float64(cols)
			}
			for c := range cols {
				var s float64
				for r := range rows {
					s += g[r*cols+c]*g[r*cols+c] + o.cfg.Eps1
				}
				col[c] = beta2*col[c] + (1-beta2)*s/float64(rows)
			}
			var mean float64
			for _, x := range row {
				mean += x
			}
			mean /= float64(rows)
			for r := range rows {
				for c := range cols {
					u[r*cols+c] = g[r*cols+c] / math.Sqrt(row[r]*col[c]/mean)
				}
			}
		} else {
			for j := range w {
				o.v[i][j] = beta2*o.v[i][j] + (1-beta2)*(g[j]*g[j]+o.cfg.Eps1)
				u[j] = g[j] / math.Sqrt(o.v[i][j])
			}
		}
		var ss float64
		for _, x := range u {
			ss += x * x
		}
		scale := alpha / math.Max(1, math.Sqrt(ss/float64(len(u)))/o.cfg.ClipThreshold)
		decay := 1.0
		if o.cfg.WeightDecay != 0 && !p.NoDecay {
			decay = 1 - alpha*o.cfg.WeightDecay
		}
		for j := range w {
			w[j] = float32(float64(w[j])*decay - scale*u[j])
		}
	}
}

// TestAdafactorMatchesFormulas runs Step (and StepScaled) against refAdafactor on
// parameters that take every path: matrices of several segments, rows longer than one
// kernel piece, a vector of several segments, a small matrix, with weight decay and
// parameter scaling; and checks that the thread count changes no bit.
func TestAdafactorMatchesFormulas(t *testing.T) {
	shapes := []struct{ rows, cols int }{{300, 250}, {3, adafactorPiece + 3000}, {1, 70001}, {3, 4}, {640, 96}}
	mk := func() []Param {
		rng := rand.New(rand.NewPCG(5, 6))
		var ps []Param
		for i, s := range shapes {
			w, g := make([]float32, s.rows*s.cols), make([]float32, s.rows*s.cols)
			for j := range w {
				w[j] = float32(rng.NormFloat64()) * 0.1
			}
			ps = append(ps, Param{Name: fmt.Sprint("p", i), Value: w, Grad: g, Rows: s.rows, Cols: s.cols, NoDecay: i == 3})
		}
		return ps
	}
	grads := func(ps []Param, step int) {
		rng := rand.New(rand.NewPCG(7, uint64(step)))
		for _, p := range ps {
			for j := range p.Grad {
				// Rows and columns of different sizes, so that the factors matter.
				p.Grad[j] = float32(rng.NormFloat64() * (1 + float64(j%7)) * 1e-2)
			}
		}
	}
	cfg := DefaultAdafactorConfig()
	cfg.WeightDecay = 0.1
	var runs [][]Param
	for _, threads := range []int{1, 2, 3} {
		prev := ops.SetThreads(threads)
		ps, rp := mk(), mk()
		o, err := NewAdafactor(cfg, ps)
		if err != nil {
			t.Fatal(err)
		}
		ref := newRefAdafactor(cfg, rp)
		for step := range 6 {
			grads(ps, step)
			grads(rp, step)
			if step%2 == 0 {
				o.Step(0.01)
				ref.Step(0.01, 1)
			} else {
				o.StepScaled(0.01, 0.5)
				ref.Step(0.01, float64(float32(0.5)))
			}
		}
		ops.SetThreads(prev)
		for i := range ps {
			for j, got := range ps[i].Value {
				want := rp[i].Value[j]
				if math.Abs(float64(got-want)) > 1e-5*math.Max(1e-2, math.Abs(float64(want))) {
					t.Fatalf("threads=%d: %s[%d] = %v, the formulas give %v", threads, ps[i].Name, j, got, want)
				}
			}
		}
		runs = append(runs, ps)
	}
	// AdafactorValues counts what the optimizer allocated.
	o, _ := NewAdafactor(cfg, runs[0])
	o.plan()
	var want, got int64
	for i, p := range runs[0] {
		want += AdafactorValues(p.Rows, p.Cols)
		f, pp := o.state.Factors[i], o.per[i]
		got += int64(len(f.Row) + len(f.Col) + len(f.V) + len(pp.rowScale) + len(pp.colInv))
	}
	for _, sg := range o.segs {
		got += int64(len(sg.colSum) + len(sg.colW))
	}
	if got != want {
		t.Errorf("AdafactorValues counts %d values; the optimizer keeps %d", want, got)
	}
	for _, ps := range runs[1:] {
		for i := range ps {
			for j := range ps[i].Value {
				if math.Float32bits(ps[i].Value[j]) != math.Float32bits(runs[0][i].Value[j]) {
					t.Fatalf("%s[%d] differs between thread counts: %v, %v", ps[i].Name, j, ps[i].Value[j], runs[0][i].Value[j])
				}
			}
		}
	}
}
