package plots

import (
	"cmp"
	"fmt"
	"image/color"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/hypergrid-go/hypergrid/metrics"
	"github.com/hypergrid-go/hypergrid/monitor"
)

// Metrics draws each task's dev metrics over steps from the eval records to the PNG
// file path, with the default [Options].
func Metrics(records []monitor.Record, path string) error {
	return Options{}.Metrics(records, path)
}

// Line styles that tell a task's metrics apart (the colour tells the tasks apart).
var (
	metricDashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(6), vg.Points(2), vg.Points(2), vg.Points(2)}}
	metricGlyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.RingGlyph{}, draw.CrossGlyph{}}
)

// Metrics draws each task's dev metrics over steps from the eval records to the PNG
// file path: one line per task and metric (colour by task, dash and marker by metric),
// and, when two or more tasks have a finite GLUE score ([metrics.TaskScore]) somewhere,
// a thick near-black line with their GLUE-style average ([metrics.Average]) at the
// steps where all of them have a finite score. Package metrics sets the rules: which
// metrics count, and that an undefined (NaN) value counts as 0.
// The legend sits to the right of the plot. o.MetricNames limits the metrics drawn.
// Non-finite values are left out. It is an error when there is nothing to draw.
func (o Options) Metrics(records []monitor.Record, path string) error {
	o = o.withDefaults(false)
	fail := func(err error) error { return fmt.Errorf("plotting metrics to %s: %w", path, err) }

	// byTask[task][step] holds the metrics of the last eval record for that step.
	byTask := map[string]map[int]map[string]float64{}
	for _, r := range records {
		if r.Kind != monitor.KindEval {
			continue
		}
		if byTask[r.Task] == nil {
			byTask[r.Task] = map[int]map[string]float64{}
		}
		byTask[r.Task][r.Step] = r.Metrics
	}
	tasks := sortedKeys(byTask)
	metricSet := map[string]bool{}
	for _, task := range tasks {
		for _, ms := range byTask[task] {
			for name := range ms {
				if len(o.MetricNames) == 0 || slices.Contains(o.MetricNames, name) {
					metricSet[name] = true
				}
			}
		}
	}
	if len(metricSet) == 0 {
		what := "eval records"
		if len(o.MetricNames) > 0 {
			what = "eval records with the metrics " + strings.Join(o.MetricNames, ", ")
		}
		return fail(fmt.Errorf("%w: no %s among the %d records", ErrNoData, what, len(records)))
	}
	metricNames := sortedKeys(metricSet)

	p := plot.New()
	styleAxes(p, "Dev metrics", "step", "metric value")
	legend := plot.NewLegend()
	legend.TextStyle.Font.Size = vg.Points(10)
	legend.ThumbnailWidth = vg.Points(30)
	legend.Left = true
	legend.Top = true
	drawn, colorIdx := 0, 0
	for _, task := range tasks {
		taskDrawn := false
		for mi, name := range metricNames {
			var pts []point
			for step, ms := range byTask[task] {
				if v, ok := ms[name]; ok && finite(v) {
					pts = append(pts, point{step, v})
				}
			}
			if len(pts) == 0 {
				continue
			}
			line, marks, err := newLinePoints(lastPerStep(pts))
			if err != nil {
				return fail(err)
			}
			line.Color = seriesColor(colorIdx)
			line.Width = vg.Points(1.5)
			line.Dashes = metricDashes[mi%len(metricDashes)]
			marks.GlyphStyle.Color = seriesColor(colorIdx)
			marks.GlyphStyle.Shape = metricGlyphs[mi%len(metricGlyphs)]
			marks.GlyphStyle.Radius = vg.Points(2.5)
			p.Add(line, marks)
			legend.Add(task+" "+name, line, marks)
			drawn++
			taskDrawn = true
		}
		if taskDrawn { // colours go to the tasks drawn, in order
			colorIdx++
		}
	}
	if drawn == 0 {
		return fail(fmt.Errorf("%w: every metric value is NaN or infinite", ErrNoData))
	}
	if avg := glueAverage(byTask, tasks); len(avg) > 0 {
		line, marks, err := newLinePoints(avg)
		if err != nil {
			return fail(err)
		}
		line.Color = averageColor
		line.Width = vg.Points(2.5)
		marks.GlyphStyle.Color = averageColor
		marks.GlyphStyle.Shape = draw.CircleGlyph{}
		marks.GlyphStyle.Radius = vg.Points(3)
		p.Add(line, marks)
		legend.Add("GLUE-style average", line, marks)
	}

	c := o.newCanvas(o.Width, o.Height)
	dc := draw.New(c)
	pad := vg.Points(8)
	lw := legend.Rectangle(dc).Size().X + 2*pad
	legend.YOffs = -(p.Title.TextStyle.FontExtents().Height + 2*p.Title.Padding)
	legend.Draw(draw.Crop(dc, dc.Size().X-lw+pad, -pad, 0, 0))
	p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
	return writePNG(path, c)
}

// averageColor draws the GLUE-style average: near black, set apart from the series.
var averageColor = color.NRGBA{0x33, 0x33, 0x33, 0xFF}

// glueAverage returns, for each step at which every task with a finite GLUE score
// somewhere has one, the mean of their scores; nil when fewer than two tasks have one.
func glueAverage(byTask map[string]map[int]map[string]float64, tasks []string) []point {
	var scored []string
	for _, task := range tasks {
		for _, ms := range byTask[task] {
			if score, ok := metrics.TaskScore(metrics.TaskResult{Task: task, Metrics: ms}); ok && finite(score) {
				scored = append(scored, task)
				break
			}
		}
	}
	if len(scored) < 2 {
		return nil
	}
	var avg []point
	for step, ms := range byTask[scored[0]] {
		results := []metrics.TaskResult{{Task: scored[0], Metrics: ms}}
		for _, task := range scored[1:] {
			other, ok := byTask[task][step]
			if !ok {
				break
			}
			results = append(results, metrics.TaskResult{Task: task, Metrics: other})
		}
		if len(results) < len(scored) {
			continue
		}
		complete := true
		for _, r := range results {
			s, ok := metrics.TaskScore(r)
			complete = complete && ok && finite(s)
		}
		if !complete {
			continue
		}
		v, _ := metrics.Average(results)
		avg = append(avg, point{step, v})
	}
	slices.SortFunc(avg, func(a, b point) int { return cmp.Compare(a.step, b.step) })
	return avg
}

// newLinePoints returns a line with markers through the points.
func newLinePoints(pts []point) (*plotter.Line, *plotter.Scatter, error) {
	xys := make(plotter.XYs, len(pts))
	for i, p := range pts {
		xys[i] = plotter.XY{X: float64(p.step), Y: p.value}
	}
	line, marks, err := plotter.NewLinePoints(xys)
	if err != nil {
		return nil, nil, err
	}
	return line, marks, nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
