package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/ops"
)

// testParams returns a 3×4 weight and a 3-value bias (no decay) with gradients, the
// weight's shifted by wShift and the bias's by bShift.
func testParams(wShift, bShift float32) []Param {
	w, g := make([]float32, 12), make([]float32, 12)
	b, gb := make([]float32, 3), make([]float32, 3)
	for i := range w {
		w[i], g[i] = float32(i)/10, float32(i%5)-2+wShift
	}
	for i := range b {
		b[i], gb[i] = 1, float32(i)+bShift
	}
	return []Param{{Name: "w", Value: w, Grad: g, Rows: 3, Cols: 4}, {Name: "b", Value: b, Grad: gb, Rows: 1, Cols: 3, NoDecay: true}}
}

// newTestOptimizer returns New(kind) over params with weight decay 0.01, failing t on
// an error.
func newTestOptimizer(t *testing.T, kind string, params []Param) Optimizer {
	t.Helper()
	o, err := New(kind, Options{WeightDecay: 0.01}, params)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestOptimizerExportImport: an optimizer restored from another's exported state takes
// the same next step, bit for bit, for every kind New makes.
func TestOptimizerExportImport(t *testing.T) {
	mk := func() []Param { return testParams(0, 0) }
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			pa, pb := mk(), mk()
			a := newTestOptimizer(t, kind, pa)
			if a.Name() != kind {
				t.Errorf("Name() = %q", a.Name())
			}
			for range 3 {
				a.Step(0.01)
			}
			b := newTestOptimizer(t, kind, pb)
			state, steps := a.Export()
			copied := make([]Vector, len(state))
			for i, v := range state {
				copied[i] = Vector{Name: v.Name, Data: append([]float32(nil), v.Data...)}
			}
			if err := b.Import(copied, steps); err != nil {
				t.Fatal(err)
			}
			for i := range pa {
				copy(pb[i].Value, pa[i].Value)
			}
			a.Step(0.01)
			b.Step(0.01)
			for i := range pa {
				for j := range pa[i].Value {
					if math.Float32bits(pa[i].Value[j]) != math.Float32bits(pb[i].Value[j]) {
						t.Fatalf("%s[%d]: %v after the restored step, %v after the original", pa[i].Name, j, pb[i].Value[j], pa[i].Value[j])
					}
				}
			}
			if b.Steps() != 4 {
				t.Errorf("Steps() = %d after import and a step, want 4", b.Steps())
			}
			bad := append([]Vector(nil), copied...)
			bad[0].Name = "w.nonsense"
			if err := b.Import(bad, steps); err == nil || !strings.Contains(err.Error(), "w.nonsense") {
				t.Errorf("a wrong state vector: %v", err)
			}
		})
	}
	if _, err := New("sgd", Options{}, mk()); err == nil || !strings.Contains(err.Error(), "adamw, adafactor") {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := New("adamw", Options{RelativeStep: true}, mk()); err == nil {
		t.Error("relative_step with adamw was accepted")
	}
}

// StepScaled(lr, s) is the update Step(lr) makes after the gradients are scaled by s
// (ops.Scale, as clipping did): bit for bit for AdamW (its kernel scales each gradient
// first), within float32 rounding for Adafactor (which folds s into its factors).
func TestStepScaledIsScaleThenStep(t *testing.T) {
	mk := func() []Param { return testParams(-0.3, 0.7) }
	const s = 0.3
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			pa, pb := mk(), mk()
			a, b := newTestOptimizer(t, kind, pa), newTestOptimizer(t, kind, pb)
			for step := range 3 {
				a.StepScaled(0.01, s)
				for _, p := range pb {
					ops.Scale(s, p.Grad)
				}
				b.Step(0.01)
				for i, p := range mk() { // both take the next step from the unscaled gradients
					copy(pa[i].Grad, p.Grad)
					copy(pb[i].Grad, p.Grad)
				}
				for i := range pa {
					for j := range pa[i].Value {
						a, b := pa[i].Value[j], pb[i].Value[j]
						if kind == "adafactor" && math.Abs(float64(a-b)) <= 1e-6*math.Max(1, math.Abs(float64(b))) {
							continue
						}
						if math.Float32bits(a) != math.Float32bits(b) {
							t.Fatalf("step %d: %s[%d] = %v with StepScaled, %v scaling first", step, pa[i].Name, j, pa[i].Value[j], pb[i].Value[j])
						}
					}
				}
			}
		})
	}
}
