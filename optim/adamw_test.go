package optim

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/ops"
)

// adamwRef is the textbook AdamW in float64, written independently of the optimized loop.
func adamwRef(cfg AdamWConfig, w, g, m, v []float64, t int, lr float64, decay bool) {
	for j := range w {
		if decay {
			w[j] -= lr * cfg.WeightDecay * w[j]
		}
		m[j] = cfg.Beta1*m[j] + (1-cfg.Beta1)*g[j]
		v[j] = cfg.Beta2*v[j] + (1-cfg.Beta2)*g[j]*g[j]
		mhat := m[j] / (1 - math.Pow(cfg.Beta1, float64(t)))
		vhat := v[j] / (1 - math.Pow(cfg.Beta2, float64(t)))
		w[j] -= lr * mhat / (math.Sqrt(vhat) + cfg.Eps)
	}
}

// gradAt is a deterministic, step-dependent gradient.
func gradAt(step, j int, w float32) float32 {
	return float32(math.Sin(float64(step*7+j*3)))*0.5 + 0.1*w
}

func TestAdamWMatchesReference(t *testing.T) {
	tests := []struct {
		name    string
		cfg     AdamWConfig
		noDecay bool
		lr      float32
	}{
		{"defaults", DefaultAdamWConfig(), false, 1e-2},
		{"no weight decay", AdamWConfig{Beta1: 0.9, Beta2: 0.98, Eps: 1e-6}, false, 3e-3},
		{"strong decay", AdamWConfig{Beta1: 0.8, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.5}, false, 1e-1},
		{"decay skipped by NoDecay", AdamWConfig{Beta1: 0.8, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.5}, true, 1e-1},
		{"beta1 zero", AdamWConfig{Beta1: 0, Beta2: 0.9, Eps: 1e-8, WeightDecay: 0.1}, false, 1e-2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const n = 37
			w := make([]float32, n)
			g := make([]float32, n)
			wr := make([]float64, n)
			gr := make([]float64, n)
			mr := make([]float64, n)
			vr := make([]float64, n)
			for j := range w {
				w[j] = float32(j%5) - 2
				wr[j] = float64(w[j])
			}
			o, err := NewAdamW(tc.cfg, []Param{{Name: "w", Value: w, Grad: g, NoDecay: tc.noDecay}})
			if err != nil {
				t.Fatal(err)
			}
			for step := 1; step <= 20; step++ {
				for j := range w {
					g[j] = gradAt(step, j, w[j])
					gr[j] = float64(g[j])
				}
				o.Step(tc.lr)
				adamwRef(tc.cfg, wr, gr, mr, vr, step, float64(tc.lr), !tc.noDecay && tc.cfg.WeightDecay != 0)
				for j := range w {
					if d := math.Abs(float64(w[j]) - wr[j]); d > 1e-5*(1+math.Abs(wr[j])) {
						t.Fatalf("step %d: w[%d] = %v, reference %v", step, j, w[j], wr[j])
					}
				}
			}
			if o.Steps() != 20 {
				t.Errorf("Steps() = %d, want 20", o.Steps())
			}
		})
	}
}

func TestAdamWFirstStepIsSignTimesLR(t *testing.T) {
	// With bias correction the first update is lr·g/(|g|+ε) ≈ lr·sign(g), whatever |g| is.
	w := []float32{1, 1, 1, 1}
	g := []float32{1e-3, -5, 200, -1e-2}
	o, err := NewAdamW(AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-12}, []Param{{Name: "w", Value: w, Grad: g}})
	if err != nil {
		t.Fatal(err)
	}
	o.Step(0.1)
	want := []float32{0.9, 1.1, 0.9, 1.1}
	for j := range w {
		if math.Abs(float64(w[j]-want[j])) > 1e-5 {
			t.Errorf("w[%d] = %v, want %v", j, w[j], want[j])
		}
	}
}

func TestAdamWMinimizesQuadratic(t *testing.T) {
	target := []float32{3, -2, 0.5, 10}
	w := make([]float32, len(target))
	g := make([]float32, len(target))
	o, err := NewAdamW(AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, []Param{{Name: "w", Value: w, Grad: g}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2000 {
		for j := range w {
			g[j] = 2 * (w[j] - target[j])
		}
		o.Step(0.05)
	}
	for j := range w {
		if math.Abs(float64(w[j]-target[j])) > 1e-2 {
			t.Errorf("w[%d] = %v, want ≈ %v", j, w[j], target[j])
		}
	}
}

func TestAdamWZeroGrad(t *testing.T) {
	g := []float32{1, 2, 3}
	o, err := NewAdamW(DefaultAdamWConfig(), []Param{{Name: "w", Value: make([]float32, 3), Grad: g}})
	if err != nil {
		t.Fatal(err)
	}
	o.ZeroGrad()
	for j, x := range g {
		if x != 0 {
			t.Errorf("grad[%d] = %v after ZeroGrad", j, x)
		}
	}
}

// twoParams returns fresh parameters with the same starting values.
func twoParams() []Param {
	return []Param{
		{Name: "a", Value: []float32{1, -2, 3}, Grad: make([]float32, 3)},
		{Name: "b", Value: []float32{0.5, 0.25}, Grad: make([]float32, 2), NoDecay: true},
	}
}

func runSteps(o *AdamW, ps []Param, from, to int) {
	for step := from; step < to; step++ {
		for _, p := range ps {
			for j := range p.Value {
				p.Grad[j] = gradAt(step, j, p.Value[j])
			}
		}
		o.Step(0.01)
	}
}

func TestAdamWStateResumeIsBitExact(t *testing.T) {
	cfg := DefaultAdamWConfig()
	// Uninterrupted run of 10 steps.
	full := twoParams()
	of, err := NewAdamW(cfg, full)
	if err != nil {
		t.Fatal(err)
	}
	runSteps(of, full, 0, 10)

	// 4 steps, save, restore into a new optimizer over copied values, 6 more steps.
	first := twoParams()
	o1, err := NewAdamW(cfg, first)
	if err != nil {
		t.Fatal(err)
	}
	runSteps(o1, first, 0, 4)
	saved := o1.State()
	second := twoParams()
	for i := range second {
		copy(second[i].Value, first[i].Value)
	}
	runSteps(o1, first, 4, 5) // must not leak into the saved deep copy

	// Restore the state in reverse order to check matching by name.
	rev := AdamWState{Step: saved.Step, Moments: []Moments{saved.Moments[1], saved.Moments[0]}}
	o2, err := NewAdamW(cfg, second)
	if err != nil {
		t.Fatal(err)
	}
	if err := o2.SetState(rev); err != nil {
		t.Fatal(err)
	}
	runSteps(o2, second, 4, 10)
	for i := range full {
		for j := range full[i].Value {
			if full[i].Value[j] != second[i].Value[j] {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", full[i].Name, j, second[i].Value[j], full[i].Value[j])
			}
		}
	}
	if o2.Steps() != 10 {
		t.Errorf("Steps() = %d after resume, want 10", o2.Steps())
	}
}

func TestNewAdamWErrors(t *testing.T) {
	tests := []struct {
		name   string
		cfg    AdamWConfig
		params []Param
		want   []string
	}{
		{"bad betas", AdamWConfig{Beta1: 1, Beta2: -0.1, Eps: 1e-8}, nil, []string{"beta1 is 1", "beta2 is -0.1"}},
		{"bad eps and decay", AdamWConfig{Beta1: 0.9, Beta2: 0.9, Eps: 0, WeightDecay: -1}, nil, []string{"eps is 0", "weight_decay is -1"}},
		{"NaN", AdamWConfig{Beta1: math.NaN(), Beta2: 0.9, Eps: 1e-8}, nil, []string{"beta1 is NaN"}},
		{"no name", DefaultAdamWConfig(), []Param{{Value: []float32{1}, Grad: []float32{0}}}, []string{"parameter 0 has no name"}},
		{"duplicate", DefaultAdamWConfig(), []Param{
			{Name: "x", Value: []float32{1}, Grad: []float32{0}},
			{Name: "x", Value: []float32{1}, Grad: []float32{0}},
		}, []string{`"x" is listed twice`}},
		{"grad length", DefaultAdamWConfig(), []Param{{Name: "x", Value: []float32{1, 2}, Grad: []float32{0}}}, []string{`"x" has 2 values but 1 gradients`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewAdamW(tc.cfg, tc.params)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestAdamWSetStateErrors(t *testing.T) {
	good := func() AdamWState {
		o, _ := NewAdamW(DefaultAdamWConfig(), twoParams())
		return o.State()
	}
	tests := []struct {
		name  string
		state func() AdamWState
		want  string
	}{
		{"negative step", func() AdamWState { s := good(); s.Step = -1; return s }, "negative"},
		{"unknown name", func() AdamWState { s := good(); s.Moments[0].Name = "zz"; return s }, `"zz", which is not a parameter`},
		{"missing", func() AdamWState { s := good(); s.Moments = s.Moments[:1]; return s }, `no moments for parameter "b"`},
		{"twice", func() AdamWState { s := good(); s.Moments[1] = s.Moments[0]; return s }, `for "a" twice`},
		{"length", func() AdamWState { s := good(); s.Moments[1].V = nil; return s }, `lengths 2 and 0`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := twoParams()
			o, _ := NewAdamW(DefaultAdamWConfig(), ps)
			runSteps(o, ps, 0, 2)
			before := o.State()
			err := o.SetState(tc.state())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("SetState error = %v, want one containing %q", err, tc.want)
			}
			after := o.State()
			if after.Step != before.Step || after.Moments[0].M[0] != before.Moments[0].M[0] {
				t.Error("a failed SetState changed the state")
			}
		})
	}
}

// Step updates segments of the parameters side by side: on 3 threads the values and
// moments are the same bit for bit as on 1.
func TestAdamWThreadsBitIdentical(t *testing.T) {
	run := func(threads int) ([][]float32, AdamWState) {
		defer ops.SetThreads(ops.SetThreads(threads))
		sizes := []int{3*segmentSize + 17, 5, segmentSize, 1000}
		var ps []Param
		for i, n := range sizes {
			p := Param{Name: string(rune('a' + i)), Value: make([]float32, n), Grad: make([]float32, n), NoDecay: i == 1}
			for j := range p.Value {
				p.Value[j] = float32(j%13) / 13
			}
			ps = append(ps, p)
		}
		cfg := DefaultAdamWConfig()
		cfg.WeightDecay = 0.01
		o, err := NewAdamW(cfg, ps)
		if err != nil {
			t.Fatal(err)
		}
		for step := 1; step <= 3; step++ {
			for _, p := range ps {
				for j := range p.Grad {
					p.Grad[j] = gradAt(step, j, p.Value[j])
				}
			}
			o.Step(1e-2)
		}
		var vals [][]float32
		for _, p := range ps {
			vals = append(vals, p.Value)
		}
		return vals, o.State()
	}
	one, s1 := run(1)
	three, s3 := run(3)
	for i := range one {
		if !slices.Equal(one[i], three[i]) || !slices.Equal(s1.Moments[i].M, s3.Moments[i].M) || !slices.Equal(s1.Moments[i].V, s3.Moments[i].V) {
			t.Errorf("parameter %d: 3 threads differ from 1", i)
		}
	}
}
