package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/hypergrid-go/hypergrid/monitor"
)

// Options sets the size and the choices of the plots. The zero value of every field
// picks its default.
type Options struct {
	// Width and Height are the size in pixels of a Loss or Metrics image (default
	// 1500×900) and of one layer's panel in a Gates image (default 480×400).
	Width, Height int
	// DPI is the resolution: how many pixels a 72-point inch of text and lines takes
	// (default 150).
	DPI int
	// Smoothing is the weight of the past in the loss's moving average, in [0, 1)
	// (default monitor.DefaultSmoothing; negative: no smoothing line).
	Smoothing float64
	// MetricNames, when not empty, limits Metrics to the metrics named (an eval loss,
	// say, does not share a scale with accuracies).
	MetricNames []string
	// GateMin and GateMax fix the colour scale of Gates; when both are zero it is
	// fitted to the values: [smallest, largest] over all tasks (at least MinGateSpan
	// wide), so gates of 0.45-0.6 use the whole palette and every task's image uses
	// the same colours for the same gate. The colour bar names the range.
	GateMin, GateMax float64
	// LogLoss draws the loss plot's y axis on a log scale (losses that are not
	// positive are then left out and counted in the title).
	LogLoss bool
	// Columns is the number of layer panels per row in a Gates image (default: up to
	// 4, as square as the layer count allows).
	Columns int
}

// Defaults of Options.
const (
	DefaultWidth       = 1500
	DefaultHeight      = 900
	DefaultPanelWidth  = 480
	DefaultPanelHeight = 400
	DefaultDPI         = 150
)

// withDefaults returns o with its zero fields set; panel says which size defaults
// apply.
func (o Options) withDefaults(panel bool) Options {
	if o.Width <= 0 {
		o.Width = DefaultWidth
		if panel {
			o.Width = DefaultPanelWidth
		}
	}
	if o.Height <= 0 {
		o.Height = DefaultHeight
		if panel {
			o.Height = DefaultPanelHeight
		}
	}
	if o.DPI <= 0 {
		o.DPI = DefaultDPI
	}
	if o.Smoothing == 0 {
		o.Smoothing = monitor.DefaultSmoothing
	}
	return o
}

// length converts pixels to a vg.Length at the options' DPI.
func (o Options) length(px int) vg.Length {
	return vg.Length(float64(px) * 72 / float64(o.DPI))
}

// newCanvas returns a white canvas of w×h pixels.
func (o Options) newCanvas(w, h int) *vgimg.Canvas {
	return vgimg.NewWith(vgimg.UseWH(o.length(w), o.length(h)), vgimg.UseDPI(o.DPI))
}

// Colours: a colour-blind-safe qualitative set (Okabe and Ito) for series, black kept
// for the GLUE-style average.
var seriesColors = []color.NRGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x88, 0x88, 0x88, 0xFF}, // grey
	{0xB8, 0xA2, 0x00, 0xFF}, // dark yellow
}

// seriesColor returns the i-th series colour, cycling.
func seriesColor(i int) color.NRGBA { return seriesColors[i%len(seriesColors)] }

// faint returns c blended towards white, for raw data drawn behind a smoothed line.
func faint(c color.NRGBA, keep float64) color.NRGBA {
	mix := func(v uint8) uint8 { return uint8(math.Round(float64(v)*keep + 255*(1-keep))) }
	return color.NRGBA{mix(c.R), mix(c.G), mix(c.B), 0xFF}
}

// gridColor is the colour of the background grid lines.
var gridColor = color.Gray{Y: 0xDD}

// viridisStops are control colours of the viridis colour map at equal steps from 0
// to 1; their lightness rises steadily, which moreland.NewLuminance needs.
var viridisStops = []color.Color{
	color.NRGBA{0x44, 0x01, 0x54, 0xFF},
	color.NRGBA{0x48, 0x28, 0x78, 0xFF},
	color.NRGBA{0x3E, 0x4A, 0x89, 0xFF},
	color.NRGBA{0x31, 0x68, 0x8E, 0xFF},
	color.NRGBA{0x26, 0x82, 0x8E, 0xFF},
	color.NRGBA{0x1F, 0x9E, 0x89, 0xFF},
	color.NRGBA{0x35, 0xB7, 0x79, 0xFF},
	color.NRGBA{0x6D, 0xCD, 0x59, 0xFF},
	color.NRGBA{0xB4, 0xDE, 0x2C, 0xFF},
	color.NRGBA{0xFD, 0xE7, 0x25, 0xFF},
}

// viridis returns a viridis-like colour map over [min, max].
func viridis(min, max float64) palette.ColorMap {
	cm, err := moreland.NewLuminance(viridisStops)
	if err != nil { // the stops are fixed; this is a bug
		panic(err)
	}
	cm.SetMin(min)
	cm.SetMax(max)
	return cm
}

// styleAxes sets fonts and adds light grid lines to p.
func styleAxes(p *plot.Plot, title, xLabel, yLabel string) {
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Label.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.TextStyle.Font.Size = vg.Points(11)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Y.Tick.Label.Font.Size = vg.Points(9)
	p.X.Tick.Marker = stepTicks{}
	g := plotter.NewGrid()
	g.Vertical.Color = gridColor
	g.Horizontal.Color = gridColor
	p.Add(g)
}
