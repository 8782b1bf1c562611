package optim

import (
	"fmt"
	"math"
	"testing"
)

func TestScheduleLR(t *testing.T) {
	for _, tc := range []struct {
		kind string
		step int
		want float64
	}{
		{"constant", 0, 1}, {"constant", 999, 1},
		{"linear_warmup", 0, 0.01}, {"linear_warmup", 49, 0.5}, {"linear_warmup", 500, 1},
		{"inverse_sqrt", 49, 0.5}, {"inverse_sqrt", 99, 1}, {"inverse_sqrt", 399, 0.5},
		{"linear_decay", 99, 1}, {"linear_decay", 549, 0.5}, {"linear_decay", 999, 0}, {"linear_decay", 1500, 0},
	} {
		s := Schedule{Kind: tc.kind, Peak: 1, Warmup: 100, Steps: 1000}
		if got := s.LR(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s at step %d = %v, want %v", tc.kind, tc.step, got, tc.want)
		}
	}
	if got := (Schedule{Kind: "inverse_sqrt", Peak: 2}).LR(3); got != 1 {
		t.Errorf("inverse_sqrt without warm-up at step 3 = %v, want 2/sqrt(4) = 1", got)
	}
}

// Schedule gives each step's learning rate: here T5's inverse square root after a linear
// warm-up.
func ExampleSchedule() {
	s := Schedule{Kind: "inverse_sqrt", Peak: 1e-3, Warmup: 100}
	for _, step := range []int{0, 49, 99, 399, 9999} {
		fmt.Printf("step %d: %.3g\n", step+1, s.LR(step))
	}
	// Output:
	// step 1: 1e-05
	// step 50: 0.0005
	// step 100: 0.001
	// step 400: 0.0005
	// step 10000: 0.0001
}
