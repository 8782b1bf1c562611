package train

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/hypergrid-go/hypergrid/checkpoint"
)

// EarlyStopping is train.early_stopping: stop the run when the GLUE-style dev average
// has not improved by more than MinDelta for Patience evaluations in a row.
type EarlyStopping struct {
	// Patience is the number of evaluations in a row without improvement after which
	// the run stops (0: never stop early).
	Patience int `yaml:"patience"`
	// MinDelta is the least rise of the dev average (0-100 scale) that counts as an
	// improvement.
	MinDelta float64 `yaml:"min_delta"`
}

// Bounds of the evaluation schedule's settings.
const (
	// DefaultEvalPoints is train.eval_points' default: a metrics curve of a few
	// points at a few evaluations' cost.
	DefaultEvalPoints = 5
	// MaxEvalPoints bounds train.eval_points.
	MaxEvalPoints = 1 << 20
	// MaxPatience bounds train.early_stopping.patience.
	MaxPatience = 1 << 20
	// MinEvalInterval is the fewest steps between the evaluations of
	// train.eval_points: a run of a few steps is evaluated at its end only.
	MinEvalInterval = 10
)

// StateEarlyStopping is the checkpoint state section with the early-stopping counters,
// so that a resumed run stops where the uninterrupted one would.
const StateEarlyStopping = "early_stopping"

// EvalInterval returns the step interval of the evaluations that train.eval_points
// spreads over the run: steps / eval_points rounded up, at least MinEvalInterval
// (0: none).
func (c *Config) EvalInterval() int {
	if c.EvalPoints <= 0 || c.Steps <= 0 {
		return 0
	}
	return max(MinEvalInterval, (c.Steps+c.EvalPoints-1)/c.EvalPoints)
}

// EvalDue reports whether the run evaluates after step (1-based) before its end:
// at every multiple of train.eval_every and of EvalInterval.
func (c *Config) EvalDue(step int) bool {
	if c.EvalEvery > 0 && step%c.EvalEvery == 0 {
		return true
	}
	iv := c.EvalInterval()
	return iv > 0 && step%iv == 0
}

func (c *Config) earlyStoppingErrors() []error {
	var errs []error
	es := c.EarlyStopping
	if es.Patience < 0 || es.Patience > MaxPatience {
		errs = append(errs, ferr("early_stopping.patience", "is %d; want 0 (no early stopping) or a number of evaluations up to %d", es.Patience, MaxPatience))
	}
	if !(es.MinDelta >= 0) || es.MinDelta > 100 || math.IsInf(es.MinDelta, 0) {
		errs = append(errs, ferr("early_stopping.min_delta", "is %v; want 0 or a small rise of the dev average (0-100 scale), such as 0.1", es.MinDelta))
	}
	if es.Patience > 0 && c.EvalEvery <= 0 && c.EvalPoints <= 0 {
		errs = append(errs, ferr("early_stopping.patience", "needs evaluations during the run: set train.eval_every or train.eval_points"))
	}
	return errs
}

// earlyState is early stopping's record of the evaluations so far.
type earlyState struct {
	// Best is the best dev average seen (-1: none yet); Since counts the evaluations
	// since it; Stopped is set once the run stopped early, at step StoppedAt.
	Best      float64 `json:"best"`
	Since     int     `json:"since"`
	Stopped   bool    `json:"stopped"`
	StoppedAt int     `json:"stopped_at,omitempty"`
}

// observe records an evaluation at step and reports whether the run must stop.
func (e *earlyState) observe(es EarlyStopping, ev *EvalInfo) bool {
	if es.Patience <= 0 || !ev.HasAverage || e.Stopped {
		return false
	}
	if e.Best < 0 || ev.Average > e.Best+es.MinDelta {
		e.Best, e.Since = ev.Average, 0
		return false
	}
	e.Since++
	if e.Since >= es.Patience {
		e.Stopped, e.StoppedAt = true, ev.Step
	}
	return e.Stopped
}

// EarlyStopped reports whether the run stopped early (also after Restore of a run that
// did), and at which step.
func (t *Trainer) EarlyStopped() (bool, int) { return t.early.Stopped, t.early.StoppedAt }

// restoreEarly reads the early-stopping counters of checkpoint c (none: a fresh start).
func (t *Trainer) restoreEarly(c *checkpoint.Checkpoint, where string) error {
	t.early = earlyState{Best: -1}
	b, ok := c.State[StateEarlyStopping]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(b, &t.early); err != nil {
		return fmt.Errorf("checkpoint %s: early-stopping state: %w", where, err)
	}
	return nil
}
