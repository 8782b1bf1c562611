package plots

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/hypergrid-go/hypergrid/monitor"
)

// Loss draws the training loss of the train records over steps to the PNG file path,
// with the default [Options].
func Loss(records []monitor.Record, path string) error {
	return Options{}.Loss(records, path)
}

// Loss draws the training loss of the train records over steps to the PNG file path:
// the raw losses as a faint line and their moving average (weight o.Smoothing) as a
// solid one (o.LogLoss: on a log-scale y axis). Non-finite losses are left out and
// counted in the title. It is an error
// when there is no finite loss to draw.
func (o Options) Loss(records []monitor.Record, path string) error {
	o = o.withDefaults(false)
	var pts []point
	for _, r := range records {
		if r.Kind == monitor.KindTrain {
			pts = append(pts, point{r.Step, r.Loss})
		}
	}
	if len(pts) == 0 {
		return fmt.Errorf("plotting the loss to %s: %w: none of the %d records is a train record", path, ErrNoData, len(records))
	}
	pts = lastPerStep(pts)
	raw := make(plotter.XYs, 0, len(pts))
	values := make([]float64, 0, len(pts))
	for _, p := range pts {
		if finite(p.value) && (!o.LogLoss || p.value > 0) {
			raw = append(raw, plotter.XY{X: float64(p.step), Y: p.value})
			values = append(values, p.value)
		}
	}
	skipped := len(pts) - len(raw)
	if len(raw) == 0 {
		what := "NaN or infinite"
		if o.LogLoss {
			what += " or not positive (log scale)"
		}
		return fmt.Errorf("plotting the loss to %s: %w: all %d train losses are %s", path, ErrNoData, len(pts), what)
	}

	p := plot.New()
	title := "Training loss"
	if skipped > 0 {
		what := "non-finite"
		if o.LogLoss {
			what = "non-finite or non-positive"
		}
		title += fmt.Sprintf(" (%d %s %s not shown)", skipped, what, plural(skipped, "value", "values"))
	}
	ylabel := "loss"
	if o.LogLoss {
		ylabel = "loss (log scale)"
	}
	styleAxes(p, title, "step", ylabel)
	if o.LogLoss {
		p.Y.Scale = plot.LogScale{}
	}
	base := seriesColor(0)

	rawLine, err := plotter.NewLine(raw)
	if err != nil {
		return fmt.Errorf("plotting the loss to %s: %w", path, err)
	}
	rawLine.Color = faint(base, 0.35)
	rawLine.Width = vg.Points(0.8)
	p.Add(rawLine)
	p.Legend.Add("loss per step", rawLine)

	if o.Smoothing > 0 && len(raw) > 1 {
		smoothed := monitor.Smooth(values, o.Smoothing)
		sm := make(plotter.XYs, len(raw))
		for i := range raw {
			sm[i] = plotter.XY{X: raw[i].X, Y: smoothed[i]}
		}
		smLine, err := plotter.NewLine(sm)
		if err != nil {
			return fmt.Errorf("plotting the loss to %s: %w", path, err)
		}
		smLine.Color = base
		smLine.Width = vg.Points(2)
		p.Add(smLine)
		p.Legend.Add(fmt.Sprintf("moving average (weight %g)", o.Smoothing), smLine)
	}
	if len(raw) == 1 { // a lone point: show it, a line of one point is invisible
		sc, err := dots(raw, base, 3)
		if err != nil {
			return fmt.Errorf("plotting the loss to %s: %w", path, err)
		}
		p.Add(sc)
	}
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.ThumbnailWidth = vg.Points(24)

	c := o.newCanvas(o.Width, o.Height)
	p.Draw(draw.New(c))
	return writePNG(path, c)
}

// plural returns one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
