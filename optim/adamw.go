package optim

import (
	"errors"
	"fmt"
	"math"

	"github.com/hypergrid-go/hypergrid/ops"
)

// Param is one named parameter: its values and the gradient of the loss with respect to
// them. Value and Grad have the same length. The optimizer updates Value in place and
// only reads Grad.
type Param struct {
	// Name identifies the parameter across runs, e.g. "encoder.block.0.ffn.wo". It keys
	// the optimizer's state in a checkpoint.
	Name string
	// Value is the parameter, flattened.
	Value []float32
	// Grad is the gradient, laid out as Value.
	Grad []float32
	// NoDecay excludes the parameter from weight decay (norm gains, biases, ...).
	NoDecay bool
	// Rows and Cols give a matrix parameter's shape (Rows·Cols = len(Value)); Adafactor
	// factors the second moments of matrices. Zero means a vector.
	Rows, Cols int
}

// AdamWConfig holds AdamW's hyperparameters. The learning rate is not one of them: it is
// passed to each Step so that a schedule can drive it.
type AdamWConfig struct {
	// Beta1 is the decay rate of the first-moment (mean) estimate, in [0, 1).
	Beta1 float64 `yaml:"beta1"`
	// Beta2 is the decay rate of the second-moment (uncentred variance) estimate, in [0, 1).
	Beta2 float64 `yaml:"beta2"`
	// Eps is added to the square root of the second moment to avoid division by zero; > 0.
	Eps float64 `yaml:"eps"`
	// WeightDecay is the decoupled weight decay λ: each step multiplies a parameter by
	// (1 - lr·λ) before the Adam update (Loshchilov & Hutter). 0 disables it.
	WeightDecay float64 `yaml:"weight_decay"`
}

// DefaultAdamWConfig returns the usual AdamW settings: β1 = 0.9, β2 = 0.999, ε = 1e-8 and
// a weight decay of 0.01.
func DefaultAdamWConfig() AdamWConfig {
	return AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
}

// Validate reports every setting that is out of range.
func (c AdamWConfig) Validate() []error {
	var errs []error
	if !(c.Beta1 >= 0 && c.Beta1 < 1) {
		errs = append(errs, fmt.Errorf("beta1 is %v, want a value in [0, 1)", c.Beta1))
	}
	if !(c.Beta2 >= 0 && c.Beta2 < 1) {
		errs = append(errs, fmt.Errorf("beta2 is %v, want a value in [0, 1)", c.Beta2))
	}
	if !(c.Eps > 0) || math.IsInf(c.Eps, 1) {
		errs = append(errs, fmt.Errorf("eps is %v, want a finite value > 0", c.Eps))
	}
	if !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 1) {
		errs = append(errs, fmt.Errorf("weight_decay is %v, want a finite value >= 0", c.WeightDecay))
	}
	return errs
}

// AdamW is the Adam optimizer with bias correction and decoupled weight decay
// (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019). For each
// parameter θ with gradient g, step t (counted from 1) and learning rate lr:
//
//	θ ← θ·(1 - lr·λ)                       (skipped when λ = 0 or the Param has NoDecay)
//	m ← β1·m + (1-β1)·g
//	v ← β2·v + (1-β2)·g²
//	θ ← θ - lr · (m / (1-β1ᵗ)) / (sqrt(v / (1-β2ᵗ)) + ε)
type AdamW struct {
	cfg    AdamWConfig
	params []Param
	state  AdamWState
	segs   []segment // the parameters cut into segments for Step
}

// segmentSize is the most values of one segment of Step's parallel update.
const segmentSize = 1 << 15

// segment is values [lo, hi) of parameter param.
type segment struct{ param, lo, hi int }

// segments cuts the parameters into segments of at most segmentSize values.
func segments(params []Param) []segment {
	var out []segment
	for i, p := range params {
		for lo := 0; lo < len(p.Value); lo += segmentSize {
			out = append(out, segment{i, lo, min(lo+segmentSize, len(p.Value))})
		}
	}
	return out
}

// AdamWState is everything AdamW carries from one step to the next. Restoring it with
// SetState into an optimizer over the same parameters continues the run bit for bit.
type AdamWState struct {
	// Step is the number of updates done so far.
	Step int64
	// Moments holds one entry per parameter, in the optimizer's parameter order.
	Moments []Moments
}

// Moments is AdamW's state for one parameter.
type Moments struct {
	// Name is the parameter's name.
	Name string
	// M is the first-moment estimate, laid out as the parameter.
	M []float32
	// V is the second-moment estimate, laid out as the parameter.
	V []float32
}

// NewAdamW returns an AdamW optimizer over params with zero moments. It fails when the
// configuration is out of range, a name is empty or repeated, or a gradient's length
// differs from its value's. The optimizer keeps the slices (not copies): it reads the
// gradients and updates the values the caller's model uses.
func NewAdamW(cfg AdamWConfig, params []Param) (*AdamW, error) {
	errs := cfg.Validate()
	seen := make(map[string]bool, len(params))
	for i, p := range params {
		switch {
		case p.Name == "":
			errs = append(errs, fmt.Errorf("parameter %d has no name", i))
		case seen[p.Name]:
			errs = append(errs, fmt.Errorf("parameter %q is listed twice", p.Name))
		case len(p.Grad) != len(p.Value):
			errs = append(errs, fmt.Errorf("parameter %q has %d values but %d gradients", p.Name, len(p.Value), len(p.Grad)))
		}
		seen[p.Name] = true
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("optim: AdamW: %w", errors.Join(errs...))
	}
	o := &AdamW{cfg: cfg, params: append([]Param(nil), params...)}
	o.state.Moments = make([]Moments, len(params))
	for i, p := range params {
		o.state.Moments[i] = Moments{Name: p.Name, M: make([]float32, len(p.Value)), V: make([]float32, len(p.Value))}
	}
	return o, nil
}

// Config returns the optimizer's hyperparameters.
func (o *AdamW) Config() AdamWConfig { return o.cfg }

// Steps returns the number of updates done so far.
func (o *AdamW) Steps() int64 { return o.state.Step }

// Step applies one update with learning rate lr to every parameter, from the gradients
// currently in their Grad slices. It does not clear the gradients (see ZeroGrad).
func (o *AdamW) Step(lr float32) { o.StepScaled(lr, 1) }

// StepScaled is Step from the gradients multiplied by gradScale, as the update kernel
// reads them (ops.AdamWUpdate): a clipping scale costs no pass of its own, and the
// gradients are left as they are.
func (o *AdamW) StepScaled(lr, gradScale float32) {
	o.state.Step++
	t := float64(o.state.Step)
	b1, b2 := o.cfg.Beta1, o.cfg.Beta2
	// Bias corrections, folded into the step size and epsilon:
	//   lr·m̂/(sqrt(v̂)+ε) = (lr/c1)·m / (sqrt(v)/sqrt(c2) + ε)
	c1 := 1 - math.Pow(b1, t)
	sc2 := math.Sqrt(1 - math.Pow(b2, t))
	stepSize := float32(float64(lr) / c1)
	invSC2 := float32(1 / sc2)
	eps := float32(o.cfg.Eps)
	fb1, fb2 := float32(b1), float32(b2)
	gb1, gb2 := float32(1-b1), float32(1-b2)
	// The parameters' values are independent: segments of them update side by side,
	// each value exactly as on one goroutine.
	if o.segs == nil {
		o.segs = segments(o.params)
	}
	ops.ParallelFor(len(o.segs), 8*segmentSize, func(_, lo, hi int) {
		for _, sg := range o.segs[lo:hi] {
			p, mom := o.params[sg.param], &o.state.Moments[sg.param]
			decay := float32(1)
			if o.cfg.WeightDecay != 0 && !p.NoDecay {
				decay = float32(1 - float64(lr)*o.cfg.WeightDecay)
			}
			// m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²; w = w·decay − stepSize·m/(√v/√c2 + ε),
			// each operation rounded on its own, the same bits on every kernel.
			ops.AdamWUpdate(p.Value[sg.lo:sg.hi], p.Grad[sg.lo:sg.hi], mom.M[sg.lo:sg.hi], mom.V[sg.lo:sg.hi],
				fb1, gb1, fb2, gb2, decay, stepSize, invSC2, eps, gradScale)
		}
	})
}

// ZeroGrad sets every parameter's gradient to zero.
func (o *AdamW) ZeroGrad() {
	for _, p := range o.params {
		clear(p.Grad)
	}
}

// State returns a deep copy of the optimizer's state, for a checkpoint.
func (o *AdamW) State() AdamWState {
	s := AdamWState{Step: o.state.Step, Moments: make([]Moments, len(o.state.Moments))}
	for i, m := range o.state.Moments {
		s.Moments[i] = Moments{Name: m.Name, M: append([]float32(nil), m.M...), V: append([]float32(nil), m.V...)}
	}
	return s
}

// SetState restores a state saved by State. Moments are matched to parameters by name,
// in any order; it fails, changing nothing, when a parameter has no moments, a name is
// unknown or repeated, a length differs, or the step count is negative.
func (o *AdamW) SetState(s AdamWState) error {
	if s.Step < 0 {
		return fmt.Errorf("optim: AdamW state: step count %d is negative", s.Step)
	}
	index := make(map[string]int, len(o.params))
	for i, p := range o.params {
		index[p.Name] = i
	}
	moments := make([]Moments, len(o.params))
	found := make([]bool, len(o.params))
	var errs []error
	for _, m := range s.Moments {
		i, ok := index[m.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("state has moments for %q, which is not a parameter of this model", m.Name))
			continue
		case found[i]:
			errs = append(errs, fmt.Errorf("state has moments for %q twice", m.Name))
			continue
		case len(m.M) != len(o.params[i].Value) || len(m.V) != len(o.params[i].Value):
			errs = append(errs, fmt.Errorf("state moments for %q have lengths %d and %d, the parameter has %d values",
				m.Name, len(m.M), len(m.V), len(o.params[i].Value)))
			continue
		}
		found[i] = true
		moments[i] = Moments{Name: m.Name, M: append(make([]float32, 0, len(m.M)), m.M...), V: append(make([]float32, 0, len(m.V)), m.V...)}
	}
	for i, ok := range found {
		if !ok {
			errs = append(errs, fmt.Errorf("state has no moments for parameter %q", o.params[i].Name))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("optim: AdamW state: %w", errors.Join(errs...))
	}
	o.state = AdamWState{Step: s.Step, Moments: moments}
	return nil
}
