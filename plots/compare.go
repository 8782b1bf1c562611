package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one named quantity compared across categories (a task's score across a
// sweep's grid points): a mean and a spread (a standard deviation; 0 or NaN draws no
// whisker) per category. A NaN mean leaves the category's point out.
type Series struct {
	Name      string
	Mean, Std []float64
}

// Compare draws series side by side over categories (a sweep's grid points, say) to
// the PNG file path: one column of points per category, each series a colour with its
// mean as a dot and mean ± std as a whisker; the series whose name is "average" is
// drawn black. It is an error when there is no category or series, when a series'
// length is not the categories', or when no mean is finite.
func (o Options) Compare(title, yLabel string, categories []string, series []Series, path string) error {
	o = o.withDefaults(false)
	if len(categories) == 0 || len(series) == 0 {
		return fmt.Errorf("plotting %s: %w: %d categories, %d series", path, ErrNoData, len(categories), len(series))
	}
	p := plot.New()
	styleAxes(p, title, "", yLabel)
	p.NominalX(categories...)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	if len(categories) > 4 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	width := 0.7 / float64(len(series)) // a category's points spread over 0.7 of its slot
	drawn := 0
	lo, hi := math.Inf(1), math.Inf(-1)
	for j, s := range series {
		if len(s.Mean) != len(categories) || len(s.Std) != len(categories) {
			return fmt.Errorf("plotting %s: series %q has %d means and %d spreads for %d categories", path, s.Name, len(s.Mean), len(s.Std), len(categories))
		}
		col := seriesColor(j)
		if s.Name == "average" {
			col = averageColor
		}
		var pts plotter.XYs
		var errs errorPoints
		for i := range categories {
			m := s.Mean[i]
			if !finite(m) {
				continue
			}
			x := float64(i) + (float64(j)-float64(len(series)-1)/2)*width
			pts = append(pts, plotter.XY{X: x, Y: m})
			lo, hi = math.Min(lo, m), math.Max(hi, m)
			if sd := s.Std[i]; finite(sd) && sd > 0 {
				errs.XYs = append(errs.XYs, plotter.XY{X: x, Y: m})
				errs.YErrors = append(errs.YErrors, struct{ Low, High float64 }{sd, sd})
				lo, hi = math.Min(lo, m-sd), math.Max(hi, m+sd)
			}
		}
		if len(pts) == 0 {
			continue
		}
		drawn++
		sc, err := dots(pts, col, 4)
		if err != nil {
			return fmt.Errorf("plotting %s: %w", path, err)
		}
		p.Add(sc)
		p.Legend.Add(s.Name, sc)
		if len(errs.XYs) > 0 {
			eb, err := plotter.NewYErrorBars(errs)
			if err != nil {
				return fmt.Errorf("plotting %s: %w", path, err)
			}
			eb.LineStyle.Color = col
			eb.LineStyle.Width = vg.Points(1.5)
			eb.CapWidth = vg.Points(8)
			p.Add(eb)
		}
	}
	if drawn == 0 {
		return fmt.Errorf("plotting %s: %w: no finite value", path, ErrNoData)
	}
	p.X.Min, p.X.Max = -0.6, float64(len(categories))-0.4
	pad := math.Max((hi-lo)*0.08, 0.5) // room for the dots and the legend
	p.Y.Min, p.Y.Max = lo-pad, hi+2*pad
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	c := o.newCanvas(o.Width, o.Height)
	p.Draw(draw.New(c))
	return writePNG(path, c)
}

// errorPoints are points with vertical error bars, for plotter.NewYErrorBars.
type errorPoints struct {
	plotter.XYs
	plotter.YErrors
}

// dots returns a scatter of round dots of colour col and radius points.
func dots(xys plotter.XYs, col color.Color, radius float64) (*plotter.Scatter, error) {
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyle.Color = col
	sc.GlyphStyle.Radius = vg.Points(radius)
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	return sc, nil
}
