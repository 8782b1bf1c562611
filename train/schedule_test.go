package train

import (
	"math"
	"testing"
)

func TestSchedule(t *testing.T) {
	c := Config{LR: 1, Warmup: 100, Steps: 1000}
	for _, tc := range []struct {
		schedule string
		step     int
		want     float64
	}{
		{"constant", 0, 1}, {"constant", 999, 1},
		{"linear_warmup", 49, 0.5}, {"linear_warmup", 500, 1},
		{"inverse_sqrt", 49, 0.5}, {"inverse_sqrt", 99, 1}, {"inverse_sqrt", 399, 0.5},
		{"linear_decay", 99, 1}, {"linear_decay", 549, 0.5}, {"linear_decay", 999, 0},
	} {
		c.Schedule = tc.schedule
		if got := schedule(c, tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s at step %d = %v, want %v", tc.schedule, tc.step, got, tc.want)
		}
	}
}
