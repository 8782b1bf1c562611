package plots

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
)

// ErrNoData is wrapped by the errors of Loss, Metrics and Gates when their input holds
// nothing to draw (for example a log without eval records), so a caller can skip a
// plot that does not apply yet.
var ErrNoData = errors.New("nothing to plot")

// point is one (step, value) pair of a series.
type point struct {
	step  int
	value float64
}

// lastPerStep sorts points by step and keeps, for each step, the point that came last
// (the record written after a resume replaces the one from before it).
func lastPerStep(ps []point) []point {
	// A stable sort keeps equal steps in input order; the last of each run wins.
	slices.SortStableFunc(ps, func(a, b point) int { return cmp.Compare(a.step, b.step) })
	out := ps[:0]
	for i, p := range ps {
		if i+1 < len(ps) && ps[i+1].step == p.step {
			continue
		}
		out = append(out, p)
	}
	return out
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// stepTicks puts about 5 to 8 labelled ticks on a step axis, at whole multiples of
// 1, 2 or 5 (or 25) times a power of ten, labelled in thousands ("25k") from 10000
// on, with a minor tick between labels.
type stepTicks struct{}

// Ticks implements plot.Ticker.
func (stepTicks) Ticks(min, max float64) []plot.Tick {
	span := max - min
	if !(span > 0) || !finite(span) {
		return []plot.Tick{{Value: min, Label: formatStep(min)}}
	}
	raw := span / 8
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m == 2.5 && mag < 10 {
			continue // keep steps whole
		}
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	step = math.Max(step, 1)
	var ticks []plot.Tick
	for i := math.Floor(min / step); i*step <= max+step/2; i++ {
		if v := i * step; v >= min-step*1e-9 && v <= max+step*1e-9 {
			ticks = append(ticks, plot.Tick{Value: v, Label: formatStep(v)})
		}
		if v := (i + 0.5) * step; v >= min && v <= max && step >= 2 {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// formatStep prints a step axis value.
func formatStep(v float64) string {
	switch {
	case math.Abs(v) >= 10000 && math.Mod(v, 1000) == 0:
		return fmt.Sprintf("%gk", v/1000)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", v)
}
