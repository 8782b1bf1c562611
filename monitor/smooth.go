package monitor

import "math"

// DefaultSmoothing is the weight of the past in the loss's moving average.
const DefaultSmoothing = 0.9

// EMA is an exponential moving average with bias correction: after values x1..xn it
// is Σ β^(n-i)(1-β)xi / (1-β^n), so early values are not pulled towards zero.
// Non-finite values are skipped. The zero EMA is not usable; call [NewEMA].
type EMA struct {
	beta float64
	m    float64 // the uncorrected average
	pow  float64 // β^n
	n    int
}

// NewEMA returns an EMA with weight beta on the past; beta must be in [0, 1)
// (0: no smoothing). It panics otherwise.
func NewEMA(beta float64) *EMA {
	if !(beta >= 0 && beta < 1) {
		panic("monitor: EMA weight must be in [0, 1)")
	}
	return &EMA{beta: beta, pow: 1}
}

// Add adds x (skipped when NaN or infinite) and returns the new average.
func (e *EMA) Add(x float64) float64 {
	if !math.IsNaN(x) && !math.IsInf(x, 0) {
		e.m = e.beta*e.m + (1-e.beta)*x
		e.pow *= e.beta
		e.n++
	}
	v, _ := e.Value()
	return v
}

// Value returns the average; ok is false (and the value NaN) before any finite value.
func (e *EMA) Value() (v float64, ok bool) {
	if e.n == 0 {
		return math.NaN(), false
	}
	return e.m / (1 - e.pow), true
}

// Smooth returns the bias-corrected moving average of xs with weight beta (see [EMA]);
// a non-finite x gives NaN at its place and does not enter the average.
func Smooth(xs []float64, beta float64) []float64 {
	e := NewEMA(beta)
	out := make([]float64, len(xs))
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			out[i] = math.NaN()
			continue
		}
		out[i] = e.Add(x)
	}
	return out
}
