package optim

import (
	"math"
	"testing"
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
	alpha := 0.01 * math.Max(1e-3, rms(w0))
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
