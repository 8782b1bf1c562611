package optim

import "math"

// ScheduleKinds are the learning-rate schedules Schedule.Kind accepts.
var ScheduleKinds = []string{"constant", "linear_warmup", "inverse_sqrt", "linear_decay"}

// Schedule gives the learning rate of each optimizer step.
//
//   - constant: Peak at every step.
//   - linear_warmup: rises linearly to Peak over Warmup steps, then stays there.
//   - inverse_sqrt: rises linearly to Peak over Warmup steps, then decays as
//     Peak·sqrt(Warmup/t) (T5's schedule).
//   - linear_decay: rises linearly to Peak over Warmup steps, then falls linearly to 0
//     at step Steps.
type Schedule struct {
	// Kind is one of ScheduleKinds; an unknown kind behaves as constant.
	Kind string
	// Peak is the largest learning rate.
	Peak float64
	// Warmup is the number of warm-up steps (0 counts as 1).
	Warmup int
	// Steps is the length of the run (linear_decay reaches 0 there).
	Steps int
}

// LR returns the learning rate of step (0-based).
func (s Schedule) LR(step int) float64 {
	t := float64(step + 1)
	w := float64(max(s.Warmup, 1))
	switch s.Kind {
	case "linear_warmup":
		return s.Peak * min(1, t/w)
	case "inverse_sqrt":
		return s.Peak * min(t/w, math.Sqrt(w/t))
	case "linear_decay":
		if t <= w {
			return s.Peak * t / w
		}
		return s.Peak * max(0, (float64(s.Steps)-t)/(float64(s.Steps)-w))
	}
	return s.Peak
}
