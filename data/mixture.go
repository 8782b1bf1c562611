package data

import (
	"errors"
	"fmt"
	"math"
)

// Mixture kinds: how often each task is sampled (T5 section 3.5.2).
const (
	// MixProportional samples each task in proportion to its number of examples,
	// counting at most Cap examples of a task (T5's "examples-proportional mixing"
	// with the artificial limit K).
	MixProportional = "proportional"
	// MixTemperature raises the (capped) proportional rates to the power
	// 1/Temperature and renormalises them; Temperature 1 is proportional mixing and
	// a large Temperature approaches equal mixing.
	MixTemperature = "temperature"
	// MixEqual samples every task at the same rate.
	MixEqual = "equal"
)

// MixtureSpec chooses the sampling rates of the tasks of a multi-task mixture. It is
// plain data with yaml tags, for recipes.
type MixtureSpec struct {
	// Kind is MixProportional, MixTemperature or MixEqual.
	Kind string `yaml:"kind"`
	// Cap is T5's K: a task counts as having at most Cap examples. 0 means no cap.
	// Not used by MixEqual.
	Cap int `yaml:"cap,omitempty"`
	// Temperature is T5's T, at least 1, for MixTemperature only.
	Temperature float64 `yaml:"temperature,omitempty"`
}

// Validate checks the spec and says how to fix it.
func (m MixtureSpec) Validate() error {
	var errs []error
	switch m.Kind {
	case MixProportional, MixTemperature, MixEqual:
	case "":
		errs = append(errs, fmt.Errorf("mixture kind is empty: use %q, %q or %q", MixProportional, MixTemperature, MixEqual))
	default:
		errs = append(errs, fmt.Errorf("mixture kind %q is unknown: use %q, %q or %q", m.Kind, MixProportional, MixTemperature, MixEqual))
	}
	if m.Cap < 0 {
		errs = append(errs, fmt.Errorf("mixture cap is %d: use a positive number of examples, or 0 for no cap", m.Cap))
	}
	if m.Kind == MixEqual && m.Cap != 0 {
		errs = append(errs, errors.New("mixture cap is set for an equal mixture, which ignores it: remove it"))
	}
	if m.Kind == MixTemperature {
		if !(m.Temperature >= 1) || math.IsInf(m.Temperature, 0) {
			errs = append(errs, fmt.Errorf("mixture temperature is %v: use a finite value of at least 1 (T5 used 2, 4 and 8)", m.Temperature))
		}
	} else if m.Temperature != 0 {
		errs = append(errs, fmt.Errorf("mixture temperature is set for a %q mixture: use kind %q, or remove it", m.Kind, MixTemperature))
	}
	return errors.Join(errs...)
}

// Rates returns the sampling probability of each task given the number of training
// examples of each; they sum to 1. Every size must be positive.
func (m MixtureSpec) Rates(sizes []int) ([]float64, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if len(sizes) == 0 {
		return nil, errors.New("mixture has no tasks")
	}
	rates := make([]float64, len(sizes))
	for i, n := range sizes {
		if n <= 0 {
			return nil, fmt.Errorf("mixture task %d has %d examples: every task needs at least one", i, n)
		}
		r := float64(n)
		switch m.Kind {
		case MixEqual:
			r = 1
		case MixProportional, MixTemperature:
			if m.Cap > 0 && n > m.Cap {
				r = float64(m.Cap)
			}
			if m.Kind == MixTemperature && m.Temperature != 1 {
				r = math.Pow(r, 1/m.Temperature)
			}
		}
		rates[i] = r
	}
	return normalize(rates), nil
}

// normalize divides rates by their sum.
func normalize(rates []float64) []float64 {
	var sum float64
	for _, r := range rates {
		sum += r
	}
	out := make([]float64, len(rates))
	for i, r := range rates {
		out[i] = r / sum
	}
	return out
}
