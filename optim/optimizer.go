package optim

import (
	"fmt"
	"slices"
	"strings"
)

// Optimizer is an optimizer as a training loop uses it: one update per step, and its
// state as named vectors that a checkpoint can store and give back.
type Optimizer interface {
	// Name is the optimizer's kind ("adamw", "adafactor").
	Name() string
	// Step applies one update with learning rate lr to the parameters' values, from
	// their gradients.
	Step(lr float32)
	// StepScaled is Step from the gradients multiplied by gradScale (a clipping
	// scale): the same update, bit for bit, as scaling them with ops.Scale first. The
	// gradients themselves may or may not be scaled afterwards.
	StepScaled(lr, gradScale float32)
	// Steps returns the number of updates applied.
	Steps() int64
	// Export returns the optimizer's state: vectors named "<parameter>.<part>" (they
	// share memory with the optimizer: copy or write them before the next Step), and
	// the step count.
	Export() ([]Vector, int64)
	// Import restores a state returned by Export (of an optimizer of the same kind over
	// the same parameters); a missing, extra or mis-sized vector is an error naming it.
	Import(state []Vector, steps int64) error
}

// Vector is one named piece of an optimizer's state.
type Vector struct {
	Name string
	Data []float32
}

// Kinds are the optimizers New makes.
var Kinds = []string{"adamw", "adafactor"}

// Options are the settings New passes on; the rest are each optimizer's defaults.
type Options struct {
	// WeightDecay is the decoupled weight decay.
	WeightDecay float64
	// RelativeStep makes Adafactor use its own step size (adafactor only).
	RelativeStep bool
}

// New returns the optimizer of the given kind (one of Kinds) over params.
func New(kind string, opts Options, params []Param) (Optimizer, error) {
	switch kind {
	case "adamw":
		if opts.RelativeStep {
			return nil, fmt.Errorf("relative_step applies to the adafactor optimizer only")
		}
		cfg := DefaultAdamWConfig()
		cfg.WeightDecay = opts.WeightDecay
		return NewAdamW(cfg, params)
	case "adafactor":
		cfg := DefaultAdafactorConfig()
		cfg.RelativeStep, cfg.WeightDecay = opts.RelativeStep, opts.WeightDecay
		return NewAdafactor(cfg, params)
	}
	return nil, fmt.Errorf("unknown optimizer %q; want one of %s", kind, strings.Join(Kinds, ", "))
}

// Name implements Optimizer.
func (o *AdamW) Name() string { return "adamw" }

// Export implements Optimizer: the moments as "<parameter>.m" and "<parameter>.v".
func (o *AdamW) Export() ([]Vector, int64) {
	st := o.State()
	var out []Vector
	for _, m := range st.Moments {
		out = appendVec(out, m.Name+".m", m.M)
		out = appendVec(out, m.Name+".v", m.V)
	}
	return out, st.Step
}

// Import implements Optimizer.
func (o *AdamW) Import(state []Vector, steps int64) error {
	names, parts, err := groupParts(state, "AdamW moment", "m", "v")
	if err != nil {
		return err
	}
	st := AdamWState{Step: steps}
	for _, n := range names {
		st.Moments = append(st.Moments, Moments{Name: n, M: parts[n]["m"], V: parts[n]["v"]})
	}
	return o.SetState(st)
}

// Name implements Optimizer.
func (o *Adafactor) Name() string { return "adafactor" }

// Export implements Optimizer: the factors as "<parameter>.row", ".col" and ".v".
func (o *Adafactor) Export() ([]Vector, int64) {
	st := o.State()
	var out []Vector
	for _, f := range st.Factors {
		out = appendVec(out, f.Name+".row", f.Row)
		out = appendVec(out, f.Name+".col", f.Col)
		out = appendVec(out, f.Name+".v", f.V)
	}
	return out, st.Step
}

// Import implements Optimizer.
func (o *Adafactor) Import(state []Vector, steps int64) error {
	names, parts, err := groupParts(state, "Adafactor factor", "row", "col", "v")
	if err != nil {
		return err
	}
	st := AdafactorState{Step: steps}
	for _, n := range names {
		st.Factors = append(st.Factors, Factors{Name: n, Row: parts[n]["row"], Col: parts[n]["col"], V: parts[n]["v"]})
	}
	return o.SetState(st)
}

func appendVec(out []Vector, name string, d []float32) []Vector {
	if d == nil {
		return out
	}
	return append(out, Vector{Name: name, Data: d})
}

// groupParts splits vectors named "<parameter>.<kind>" by parameter, keeping the order
// in which parameters first appear; a kind not in kinds is an error naming what.
func groupParts(vs []Vector, what string, kinds ...string) ([]string, map[string]map[string][]float32, error) {
	var names []string
	parts := map[string]map[string][]float32{}
	for _, v := range vs {
		i := strings.LastIndexByte(v.Name, '.')
		if i < 0 || !slices.Contains(kinds, v.Name[i+1:]) {
			return nil, nil, fmt.Errorf("optimizer tensor %q is not an %s (.%s)", v.Name, what, strings.Join(kinds, ", ."))
		}
		name := v.Name[:i]
		if parts[name] == nil {
			parts[name] = map[string][]float32{}
			names = append(names, name)
		}
		parts[name][v.Name[i+1:]] = v.Data
	}
	return names, parts, nil
}

var (
	_ Optimizer = (*AdamW)(nil)
	_ Optimizer = (*Adafactor)(nil)
)
