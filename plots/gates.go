package plots

import (
	"fmt"
	"image"
	"image/color"
	imgdraw "image/draw"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Grid is one layer's mean HyperGrid gate for one task: Rows×Cols values (row-major),
// one per block of the gated weight, usually in [0, 1]. Row i gates the i-th block of
// d_ff rows, column j the j-th block of d_model columns; a row-only grid has Cols = 1
// and a column-only grid Rows = 1.
type Grid struct {
	Layer      string    // the layer's name, e.g. "encoder.block.0.ffn.wo"
	Rows, Cols int       // the grid's shape
	Values     []float32 // Rows*Cols gate values, row by row
}

// Gates draws the gate heat maps with the default [Options]; see [Options.Gates].
func Gates(grids map[string][]Grid, dir string) ([]string, error) {
	return Options{}.Gates(grids, dir)
}

// nanColor fills cells whose value is NaN or infinite.
var nanColor = color.Gray{Y: 0xB0}

// Gates writes one PNG per task to dir (created if needed), named
// gates_<task>.png with characters other than letters, digits, '.', '-' and '_'
// replaced by '_', and returns their paths in task order. Each image has a title
// naming the task, one panel per layer (in the order given, titled with the layer's
// name; row 0 at the top) and a colour bar. All images share one colour scale,
// fitted to the values of all tasks unless fixed (see Options.GateMin) and named on
// the colour bar; non-finite values are drawn grey. It is an error when a grid's
// shape does not match its values, when a task has no grids or two grids for one
// layer, or when two task names map to the same file name.
func (o Options) Gates(grids map[string][]Grid, dir string) ([]string, error) {
	o = o.withDefaults(true)
	if len(grids) == 0 {
		return nil, fmt.Errorf("plotting gates to %s: %w: no tasks", dir, ErrNoData)
	}
	lo, hi, err := o.gateRange(grids)
	if err != nil {
		return nil, fmt.Errorf("plotting gates to %s: %w", dir, err)
	}
	tasks := sortedKeys(grids)
	files := map[string]string{}
	paths := make([]string, len(tasks))
	for i, task := range tasks {
		name := "gates_" + sanitize(task) + ".png"
		if other, dup := files[name]; dup {
			return nil, fmt.Errorf("plotting gates to %s: tasks %q and %q would both be written to %s; rename one", dir, other, task, name)
		}
		files[name] = task
		paths[i] = filepath.Join(dir, name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plotting gates: %w", err)
	}
	for i, task := range tasks {
		if err := o.gateImage(task, grids[task], lo, hi, paths[i]); err != nil {
			return paths[:i], err
		}
	}
	return paths, nil
}

// gateRange checks every grid and returns the colour scale's range.
func (o Options) gateRange(grids map[string][]Grid) (lo, hi float64, err error) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, task := range sortedKeys(grids) {
		if task == "" {
			return 0, 0, fmt.Errorf("a task has an empty name")
		}
		if len(grids[task]) == 0 {
			return 0, 0, fmt.Errorf("task %q: %w: no layers", task, ErrNoData)
		}
		seen := map[string]bool{}
		for _, g := range grids[task] {
			switch {
			case g.Rows < 1 || g.Cols < 1:
				return 0, 0, fmt.Errorf("task %q, layer %q: grid shape %d×%d, want at least 1×1", task, g.Layer, g.Rows, g.Cols)
			case len(g.Values) != g.Rows*g.Cols:
				return 0, 0, fmt.Errorf("task %q, layer %q: %d values for a %d×%d grid, want %d", task, g.Layer, len(g.Values), g.Rows, g.Cols, g.Rows*g.Cols)
			case seen[g.Layer]:
				return 0, 0, fmt.Errorf("task %q: layer %q appears twice", task, g.Layer)
			}
			seen[g.Layer] = true
			for _, v := range g.Values {
				if f := float64(v); finite(f) {
					lo, hi = math.Min(lo, f), math.Max(hi, f)
				}
			}
		}
	}
	if o.GateMin != 0 || o.GateMax != 0 {
		if !(o.GateMin < o.GateMax) {
			return 0, 0, fmt.Errorf("gate colour range [%g, %g] is empty; set GateMin below GateMax", o.GateMin, o.GateMax)
		}
		return o.GateMin, o.GateMax, nil
	}
	lo, hi = fitRange(lo, hi)
	return lo, hi, nil
}

// MinGateSpan is the narrowest colour scale Gates fits to the values: gates that all
// but agree are drawn on a scale this wide around their middle, not stretched over
// float rounding.
const MinGateSpan = 0.01

// fitRange returns the colour scale fitted to the finite values' range [lo, hi]: the
// range itself, widened to MinGateSpan around its middle when narrower, and [0, 1]
// when there is no finite value (lo > hi).
func fitRange(lo, hi float64) (float64, float64) {
	if lo > hi {
		return 0, 1
	}
	if hi-lo < MinGateSpan {
		mid := (lo + hi) / 2
		lo, hi = mid-MinGateSpan/2, mid+MinGateSpan/2
	}
	return lo, hi
}

// GateScale returns the colour scale Gates uses for grids (the range of their values,
// or o.GateMin and o.GateMax when set), after checking every grid as Gates does: a
// report shows it next to the images.
func (o Options) GateScale(grids map[string][]Grid) (lo, hi float64, err error) {
	return o.gateRange(grids)
}

// sanitize keeps letters, digits, '.', '-' and '_' of a task name for a file name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// Layout of a gates image, in points.
const (
	gateTitleBand = 36 // height of the band holding the image title
	gateBarStrip  = 84 // width of the strip holding the colour bar
	gatePad       = 6
)

// gateImage draws one task's image to path.
func (o Options) gateImage(task string, grids []Grid, lo, hi float64, path string) error {
	cols := o.Columns
	if cols <= 0 {
		cols = min(4, int(math.Ceil(math.Sqrt(float64(len(grids))))))
	}
	cols = min(cols, len(grids))
	rows := (len(grids) + cols - 1) / cols
	titlePx := int(math.Ceil(gateTitleBand * float64(o.DPI) / 72))
	barPx := int(math.Ceil(gateBarStrip * float64(o.DPI) / 72))
	c := o.newCanvas(cols*o.Width+barPx, rows*o.Height+titlePx)
	dc := draw.New(c)

	// The title, centred over the panels.
	title := plot.New().Title.TextStyle
	title.Font.Size = vg.Points(15)
	title.YAlign = draw.YCenter
	panelsRight := dc.Max.X - vg.Points(gateBarStrip)
	dc.FillText(title, vg.Point{X: (dc.Min.X + panelsRight) / 2, Y: dc.Max.Y - vg.Points(gateTitleBand)/2},
		fitText(title, "HyperGrid gates — task "+task, panelsRight-dc.Min.X))

	cmap := viridis(lo, hi)
	pal := cmap.Palette(256)
	plots := make([][]*plot.Plot, rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, cols)
	}
	panelW := o.length(o.Width)
	for i, g := range grids {
		r, col := i/cols, i%cols
		last := i+cols >= len(grids) // nothing below this panel
		plots[r][col] = gatePanel(g, pal, lo, hi, panelW, col == 0, last)
	}
	area := draw.Crop(dc, 0, -vg.Points(gateBarStrip), 0, -vg.Points(gateTitleBand))
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(10), PadY: vg.Points(10),
		PadTop: vg.Points(2), PadBottom: vg.Points(gatePad), PadLeft: vg.Points(gatePad), PadRight: vg.Points(gatePad)}
	canvases := plot.Align(plots, tiles, area)
	for r := range plots {
		for col, p := range plots[r] {
			if p != nil {
				p.Draw(canvases[r][col])
			}
		}
	}

	// The colour bar, as tall as the panel area.
	bar := plot.New()
	bar.HideX()
	bar.Y.Padding = 0
	bar.Y.Label.Text = fmt.Sprintf("mean gate (%s to %s, all tasks)", trimFloat(lo), trimFloat(hi))
	bar.Y.Label.TextStyle.Font.Size = vg.Points(11)
	bar.Y.Tick.Label.Font.Size = vg.Points(9)
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Vertical: true})
	strip := draw.Crop(dc, dc.Size().X-vg.Points(gateBarStrip), 0, 0, -vg.Points(gateTitleBand))
	bar.Draw(draw.Crop(strip, vg.Points(gatePad), -vg.Points(18), vg.Points(40), -vg.Points(24)))
	return writePNG(path, c)
}

// trimFloat writes v with at most 3 decimals, without trailing zeros.
func trimFloat(v float64) string {
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// gatePanel returns the plot of one layer's grid.
func gatePanel(g Grid, pal palette.Palette, lo, hi float64, width vg.Length, left, bottom bool) *plot.Plot {
	p := plot.New()
	p.Title.TextStyle.Font.Size = vg.Points(10)
	p.Title.Padding = vg.Points(4)
	p.Title.Text = fitText(p.Title.TextStyle, g.Layer, width-vg.Points(40))
	p.X.Tick.Label.Font.Size = vg.Points(8)
	p.Y.Tick.Label.Font.Size = vg.Points(8)
	p.X.Label.TextStyle.Font.Size = vg.Points(9)
	p.Y.Label.TextStyle.Font.Size = vg.Points(9)
	if bottom {
		p.X.Label.Text = "column block"
	}
	if left {
		p.Y.Label.Text = "row block"
	}
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Tick.Marker = cellTicks{n: g.Cols}
	p.Y.Tick.Marker = cellTicks{n: g.Rows, reversed: true}

	p.Add(plotter.NewImage(rasterize(g, pal, lo, hi, int(width.Dots(72))),
		-0.5, -0.5, float64(g.Cols)-0.5, float64(g.Rows)-0.5))
	return p
}

// maxRaster bounds the side of the image a grid is rasterized to.
const maxRaster = 2048

// rasterize draws g as an image, grid row 0 at the top, each cell a square block of
// pixels so that the image is about target pixels along its longer side: scaled to the
// panel, the cells keep sharp edges. Values are clamped to [lo, hi] and mapped to the
// palette; non-finite values are grey.
func rasterize(g Grid, pal palette.Palette, lo, hi float64, target int) *image.NRGBA {
	colors := pal.Colors()
	k := max(1, (target+max(g.Rows, g.Cols)-1)/max(g.Rows, g.Cols))
	k = max(1, min(k, maxRaster/max(g.Rows, g.Cols)))
	img := image.NewNRGBA(image.Rect(0, 0, g.Cols*k, g.Rows*k))
	for r := range g.Rows {
		for c := range g.Cols {
			var col color.Color = nanColor
			if v := float64(g.Values[r*g.Cols+c]); finite(v) {
				f := (math.Min(math.Max(v, lo), hi) - lo) / (hi - lo)
				col = colors[int(math.Round(f*float64(len(colors)-1)))]
			}
			imgdraw.Draw(img, image.Rect(c*k, r*k, (c+1)*k, (r+1)*k), image.NewUniform(col), image.Point{}, imgdraw.Src)
		}
	}
	return img
}

// cellTicks labels the cells 0..n-1 of a heat map axis, at most about 6 labels;
// reversed counts from the top (the plot's row y is cell n-1-y).
type cellTicks struct {
	n        int
	reversed bool
}

// Ticks implements plot.Ticker.
func (t cellTicks) Ticks(min, max float64) []plot.Tick {
	step := 1
	for _, s := range []int{1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, 128, 256, 512, 1024} {
		step = s
		if t.n/s < 6 {
			break
		}
	}
	var ticks []plot.Tick
	for cell := 0; cell < t.n; cell++ {
		pos := float64(cell)
		if t.reversed {
			pos = float64(t.n - 1 - cell)
		}
		label := ""
		if cell%step == 0 {
			label = fmt.Sprint(cell)
		}
		if label != "" || t.n <= 64 {
			ticks = append(ticks, plot.Tick{Value: pos, Label: label})
		}
	}
	return ticks
}

// fitText shortens s from the left with an ellipsis until it fits in width.
func fitText(sty text.Style, s string, width vg.Length) string {
	if sty.Width(s) <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 1 {
		r = r[1:]
		if t := "…" + string(r); sty.Width(t) <= width {
			return t
		}
	}
	return string(r)
}
