package optim

import (
	"errors"
	"fmt"
	"math"

	"github.com/hypergrid-go/hypergrid/ops"
)

// AdafactorConfig holds Adafactor's hyperparameters (Shazeer & Stern 2018), with T5's
// defaults from DefaultAdafactorConfig.
type AdafactorConfig struct {
	// RelativeStep uses the step size min(1e-2, 1/sqrt(t)) instead of the learning rate
	// passed to Step.
	RelativeStep bool `yaml:"relative_step"`
	// ScaleParameter multiplies the step size by max(Eps2, RMS(parameter)).
	ScaleParameter bool `yaml:"scale_parameter"`
	// DecayRate sets the second-moment decay β2(t) = 1 - t^DecayRate (T5: -0.8).
	DecayRate float64 `yaml:"decay_rate"`
	// ClipThreshold clips each update to an RMS of at most this (T5: 1).
	ClipThreshold float64 `yaml:"clip_threshold"`
	// Eps1 regularises the squared gradients; Eps2 floors the parameter scale.
	Eps1 float64 `yaml:"eps1"`
	Eps2 float64 `yaml:"eps2"`
	// WeightDecay is decoupled weight decay (0 in T5).
	WeightDecay float64 `yaml:"weight_decay"`
}

// DefaultAdafactorConfig returns T5's Adafactor: factored second moments, no first
// moment, update clipping at 1, parameter-scaled steps, decay rate -0.8.
func DefaultAdafactorConfig() AdafactorConfig {
	return AdafactorConfig{RelativeStep: false, ScaleParameter: true, DecayRate: -0.8, ClipThreshold: 1, Eps1: 1e-30, Eps2: 1e-3}
}

// Validate reports every out-of-range setting.
func (c AdafactorConfig) Validate() []error {
	var errs []error
	if !(c.DecayRate < 0) {
		errs = append(errs, fmt.Errorf("decay_rate is %v; want a negative exponent (T5: -0.8)", c.DecayRate))
	}
	if !(c.ClipThreshold > 0) || !(c.Eps1 > 0) || !(c.Eps2 > 0) {
		errs = append(errs, fmt.Errorf("clip_threshold, eps1 and eps2 must be positive"))
	}
	if c.WeightDecay < 0 {
		errs = append(errs, fmt.Errorf("weight_decay is %v; want 0 or more", c.WeightDecay))
	}
	return errs
}

// Adafactor is the Adafactor optimizer. A matrix parameter (Rows and Cols set, both
// above 1) keeps a row and a column average of its squared gradients instead of a full
// second moment; a vector keeps the full one.
type Adafactor struct {
	cfg    AdafactorConfig
	params []Param
	state  AdafactorState
	u, col []float64 // scratch, reused every step
}

// AdafactorState is everything Adafactor carries from one step to the next.
type AdafactorState struct {
	// Step is the number of updates done so far.
	Step int64
	// Factors holds one entry per parameter, in the optimizer's parameter order.
	Factors []Factors
}

// Factors is Adafactor's second-moment state for one parameter: Row (Rows values) and
// Col (Cols values) for a factored matrix, V (one per value) otherwise.
type Factors struct {
	Name        string
	Row, Col, V []float32
}

// NewAdafactor returns an Adafactor optimizer over params.
func NewAdafactor(cfg AdafactorConfig, params []Param) (*Adafactor, error) {
	errs := cfg.Validate()
	seen := map[string]bool{}
	for i, p := range params {
		switch {
		case p.Name == "":
			errs = append(errs, fmt.Errorf("parameter %d has no name", i))
		case seen[p.Name]:
			errs = append(errs, fmt.Errorf("parameter %q is listed twice", p.Name))
		case len(p.Grad) != len(p.Value):
			errs = append(errs, fmt.Errorf("parameter %q has %d values but %d gradients", p.Name, len(p.Value), len(p.Grad)))
		case p.Rows*p.Cols != 0 && p.Rows*p.Cols != len(p.Value):
			errs = append(errs, fmt.Errorf("parameter %q: shape %d×%d does not hold its %d values", p.Name, p.Rows, p.Cols, len(p.Value)))
		}
		seen[p.Name] = true
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("optim: Adafactor: %w", errors.Join(errs...))
	}
	o := &Adafactor{cfg: cfg, params: append([]Param(nil), params...)}
	o.state.Factors = make([]Factors, len(params))
	for i, p := range params {
		f := Factors{Name: p.Name}
		if factored(p) {
			f.Row, f.Col = make([]float32, p.Rows), make([]float32, p.Cols)
		} else {
			f.V = make([]float32, len(p.Value))
		}
		o.state.Factors[i] = f
	}
	return o, nil
}

func factored(p Param) bool { return p.Rows > 1 && p.Cols > 1 }

// Steps returns the number of updates done so far.
func (o *Adafactor) Steps() int64 { return o.state.Step }

// StepScaled is Step from the gradients multiplied by gradScale: it scales them in
// place (ops.Scale), then steps.
func (o *Adafactor) StepScaled(lr, gradScale float32) {
	if gradScale != 1 {
		for _, p := range o.params {
			ops.Scale(gradScale, p.Grad)
		}
	}
	o.Step(lr)
}

// Step applies one update. lr is the step size unless the configuration uses relative
// steps; either way it is scaled by the parameter's RMS when ScaleParameter is set.
func (o *Adafactor) Step(lr float32) {
	o.state.Step++
	t := float64(o.state.Step)
	rho := float64(lr)
	if o.cfg.RelativeStep {
		rho = math.Min(1e-2, 1/math.Sqrt(t))
	}
	beta2 := 1 - math.Pow(t, o.cfg.DecayRate)
	for i, p := range o.params {
		f := &o.state.Factors[i]
		w, g := p.Value, p.Grad[:len(p.Value)]
		alpha := rho
		if o.cfg.ScaleParameter {
			alpha *= math.Max(o.cfg.Eps2, rms(w))
		}
		o.u = grow(o.u, len(w))
		u := o.u
		if factored(p) {
			rows, cols := p.Rows, p.Cols
			o.col = grow(o.col, cols)
			colSum := o.col
			clear(colSum)
			for r := 0; r < rows; r++ {
				var rs float64
				for c := 0; c < cols; c++ {
					g2 := float64(g[r*cols+c])*float64(g[r*cols+c]) + o.cfg.Eps1
					rs += g2
					colSum[c] += g2
				}
				f.Row[r] = float32(beta2*float64(f.Row[r]) + (1-beta2)*rs/float64(cols))
			}
			var rowMean float64
			for r := 0; r < rows; r++ {
				rowMean += float64(f.Row[r])
			}
			rowMean /= float64(rows)
			for c := 0; c < cols; c++ {
				f.Col[c] = float32(beta2*float64(f.Col[c]) + (1-beta2)*colSum[c]/float64(rows))
			}
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					v := float64(f.Row[r]) * float64(f.Col[c]) / rowMean
					u[r*cols+c] = float64(g[r*cols+c]) / math.Sqrt(v)
				}
			}
		} else {
			for j := range w {
				v := beta2*float64(f.V[j]) + (1-beta2)*(float64(g[j])*float64(g[j])+o.cfg.Eps1)
				f.V[j] = float32(v)
				u[j] = float64(g[j]) / math.Sqrt(v)
			}
		}
		// Update clipping: scale u down so that its RMS is at most the threshold.
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

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

func rms(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

// State returns a deep copy of the optimizer's state, for a checkpoint.
func (o *Adafactor) State() AdafactorState {
	s := AdafactorState{Step: o.state.Step, Factors: make([]Factors, len(o.state.Factors))}
	for i, f := range o.state.Factors {
		s.Factors[i] = Factors{Name: f.Name, Row: append([]float32(nil), f.Row...), Col: append([]float32(nil), f.Col...), V: append([]float32(nil), f.V...)}
	}
	return s
}

// SetState restores a state saved by State, matching parameters by name; it changes
// nothing and fails when a parameter is missing or a length differs.
func (o *Adafactor) SetState(s AdafactorState) error {
	if s.Step < 0 {
		return fmt.Errorf("optim: Adafactor state: step count %d is negative", s.Step)
	}
	byName := map[string]Factors{}
	for _, f := range s.Factors {
		byName[f.Name] = f
	}
	next := make([]Factors, len(o.params))
	for i, p := range o.params {
		f, ok := byName[p.Name]
		cur := o.state.Factors[i]
		if !ok || len(f.Row) != len(cur.Row) || len(f.Col) != len(cur.Col) || len(f.V) != len(cur.V) {
			return fmt.Errorf("optim: Adafactor state: parameter %q is missing or has another shape", p.Name)
		}
		next[i] = Factors{Name: p.Name, Row: append([]float32(nil), f.Row...), Col: append([]float32(nil), f.Col...), V: append([]float32(nil), f.V...)}
	}
	o.state = AdafactorState{Step: s.Step, Factors: next}
	return nil
}
