// Package gradcheck verifies the gradients of autograd computations against central
// finite differences. It is used by the tests of every differentiable component.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/hypergrid-go/hypergrid/autograd"
)

// Options tunes a check. The zero value uses the defaults.
type Options struct {
	// Step is the finite-difference step h (default 1e-2).
	Step float64
	// RelTol and AbsTol bound the allowed difference between the analytic gradient a
	// and the numeric one n: |a - n| <= AbsTol + RelTol·max(|a|, |n|) (defaults 2e-2
	// and 2e-3, suited to a float32 forward pass).
	RelTol, AbsTol float64
	// MaxPerParam limits how many values of each parameter are checked (a random
	// sample; default 24, negative: all).
	MaxPerParam int
	// Seed selects the sample.
	Seed uint64
}

func (o *Options) defaults() {
	if o.Step == 0 {
		o.Step = 1e-2
	}
	if o.RelTol == 0 {
		o.RelTol = 2e-2
	}
	if o.AbsTol == 0 {
		o.AbsTol = 2e-3
	}
	if o.MaxPerParam == 0 {
		o.MaxPerParam = 24
	}
}

// Mismatch is one value whose analytic and numeric gradients disagree.
type Mismatch struct {
	Param             string
	Index             int
	Analytic, Numeric float64
}

// String describes the mismatch: "name[index]: analytic a, numeric n".
func (m Mismatch) String() string {
	return fmt.Sprintf("%s[%d]: analytic %.6g, numeric %.6g", m.Param, m.Index, m.Analytic, m.Numeric)
}

// Loss builds a scalar loss on the tape from the parameters' current values. It must
// be deterministic (the same values give the same loss).
type Loss func(t *autograd.Tape) *autograd.Tensor

// Check runs loss once with Backward and compares the gradient of every checked
// parameter value with (loss(p+h) - loss(p-h)) / 2h, computed in inference mode. It
// returns an error listing the mismatches (at most 10), or nil.
func Check(loss Loss, params []*autograd.Param, o Options) error {
	o.defaults()
	tape := autograd.NewTape()
	autograd.ZeroGrads(params)
	l := loss(tape)
	if l.Len() != 1 {
		return fmt.Errorf("gradcheck: the loss has %d values; want a scalar", l.Len())
	}
	tape.Backward(l)
	analytic := make([][]float64, len(params))
	for i, p := range params {
		analytic[i] = make([]float64, len(p.Grad))
		for j, g := range p.Grad {
			analytic[i][j] = float64(g)
		}
	}
	tape.SetRecording(false)
	eval := func() float64 {
		tape.Reset()
		return float64(loss(tape).Data[0])
	}
	rng := rand.New(rand.NewPCG(o.Seed, 7))
	var bad []Mismatch
	checked := 0
	for i, p := range params {
		idx := make([]int, len(p.Data))
		for j := range idx {
			idx[j] = j
		}
		if o.MaxPerParam > 0 && len(idx) > o.MaxPerParam {
			rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
			idx = idx[:o.MaxPerParam]
		}
		for _, j := range idx {
			orig := p.Data[j]
			p.Data[j] = orig + float32(o.Step)
			up := eval()
			p.Data[j] = orig - float32(o.Step)
			down := eval()
			p.Data[j] = orig
			num := (up - down) / (2 * o.Step)
			a := analytic[i][j]
			checked++
			if math.Abs(a-num) > o.AbsTol+o.RelTol*math.Max(math.Abs(a), math.Abs(num)) || math.IsNaN(a) || math.IsNaN(num) {
				bad = append(bad, Mismatch{p.Name, j, a, num})
			}
		}
	}
	if checked == 0 {
		return fmt.Errorf("gradcheck: no parameter values to check")
	}
	if len(bad) == 0 {
		return nil
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "gradcheck: %d of %d gradients disagree:", len(bad), checked)
	for i, m := range bad {
		if i == 10 {
			sb.WriteString("\n  ...")
			break
		}
		sb.WriteString("\n  " + m.String())
	}
	return fmt.Errorf("%s", sb.String())
}

// Random returns a parameter named name of the given shape filled with N(0, std²)
// draws from seed: a convenient differentiable input for a check.
func Random(name string, seed uint64, std float64, shape ...int) *autograd.Param {
	p := autograd.NewParam(name, shape...)
	rng := rand.New(rand.NewPCG(seed, uint64(len(name))))
	for i := range p.Data {
		p.Data[i] = float32(rng.NormFloat64() * std)
	}
	return p
}

// Weights returns n fixed pseudo-random weights in [-1, 1] for
// autograd.Tape.WeightedSum: a loss that weighs every output differently.
func Weights(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 11))
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(rng.Float64()*2 - 1)
	}
	return w
}
