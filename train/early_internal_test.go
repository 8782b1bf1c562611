package train

import (
	"strings"
	"testing"
)

func TestEarlyStateObserve(t *testing.T) {
	ev := func(step int, avg float64) *EvalInfo { return &EvalInfo{Step: step, Average: avg, HasAverage: true} }
	tests := []struct {
		name     string
		es       EarlyStopping
		averages []float64
		stopAt   int // the step (10 per evaluation) it stops at; 0: never
	}{
		{"off", EarlyStopping{}, []float64{50, 40, 30, 20}, 0},
		{"improving", EarlyStopping{Patience: 1}, []float64{50, 51, 52, 53}, 0},
		{"flat stops after patience", EarlyStopping{Patience: 2}, []float64{50, 50, 50, 50}, 30},
		{"a new best resets the count", EarlyStopping{Patience: 2}, []float64{50, 49, 51, 50, 50}, 50},
		{"rises within min_delta do not count", EarlyStopping{Patience: 2, MinDelta: 0.5}, []float64{50, 50.4, 50.3, 51}, 30},
		{"patience 1 stops at the first miss", EarlyStopping{Patience: 1}, []float64{50, 40}, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := earlyState{Best: -1}
			got := 0
			for i, avg := range tt.averages {
				if e.observe(tt.es, ev(10*(i+1), avg)) {
					got = 10 * (i + 1)
					break
				}
			}
			if got != tt.stopAt {
				t.Errorf("stopped at step %d, want %d", got, tt.stopAt)
			}
			if e.Stopped != (tt.stopAt > 0) || e.StoppedAt != tt.stopAt {
				t.Errorf("state %+v", e)
			}
		})
	}
	// An evaluation without an average (no scored task) changes nothing.
	e := earlyState{Best: -1}
	if e.observe(EarlyStopping{Patience: 1}, &EvalInfo{Step: 1}) || e.Best != -1 {
		t.Errorf("an evaluation without an average was counted: %+v", e)
	}
}

func TestEvalSchedule(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []int // the steps before the last that are evaluated
	}{
		{"points", Config{Steps: 200, EvalPoints: 4}, []int{50, 100, 150}},
		{"points round up", Config{Steps: 100, EvalPoints: 3}, []int{34, 68}},
		{"at least MinEvalInterval apart", Config{Steps: 40, EvalPoints: 10}, []int{10, 20, 30}},
		{"a short run: the end only", Config{Steps: 5, EvalPoints: 10}, nil},
		{"every and points", Config{Steps: 120, EvalEvery: 50, EvalPoints: 2}, []int{50, 60, 100}},
		{"off", Config{Steps: 10}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for s := 1; s < tt.cfg.Steps; s++ {
				if tt.cfg.EvalDue(s) {
					got = append(got, s)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("evaluated at %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("evaluated at %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestEarlyStoppingValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"negative patience", func(c *Config) { c.EarlyStopping.Patience = -1 }, "early_stopping.patience"},
		{"negative min_delta", func(c *Config) { c.EarlyStopping.MinDelta = -0.1 }, "early_stopping.min_delta"},
		{"no evaluations to watch", func(c *Config) { c.EarlyStopping.Patience = 3; c.EvalPoints = 0; c.EvalEvery = 0 }, "needs evaluations during the run"},
		{"too many eval points", func(c *Config) { c.EvalPoints = MaxEvalPoints + 1 }, "eval_points"},
		{"fine", func(c *Config) { c.EarlyStopping = EarlyStopping{Patience: 3, MinDelta: 0.1} }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			errs := c.Validate()
			if tt.want == "" {
				if len(errs) != 0 {
					t.Errorf("errors %v, want none", errs)
				}
				return
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want) {
				t.Errorf("errors %v, want one naming %q", errs, tt.want)
			}
		})
	}
}
