package plots

import (
	"errors"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/hypergrid-go/hypergrid/monitor"
)

// Bug: gates of 0.45-0.6 were drawn on a fixed 0-1 scale and looked uniform. The scale
// is now fitted to the values of all tasks together (one scale per report).
func TestGateScaleFitsTheValues(t *testing.T) {
	grid := func(v ...float32) []Grid { return []Grid{{Layer: "l", Rows: 1, Cols: len(v), Values: v}} }
	nan := float32(math.NaN())
	tests := []struct {
		name   string
		grids  map[string][]Grid
		o      Options
		lo, hi float64
	}{
		{"one task", map[string][]Grid{"a": grid(0.45, 0.5, 0.6)}, Options{}, 0.45, 0.6},
		{"shared by tasks", map[string][]Grid{"a": grid(0.45, 0.5), "b": grid(0.55, 0.7)}, Options{}, 0.45, 0.7},
		{"non-finite left out", map[string][]Grid{"a": grid(0.2, nan, 0.3)}, Options{}, 0.2, 0.3},
		{"all equal: widened", map[string][]Grid{"a": grid(0.5, 0.5)}, Options{}, 0.5 - MinGateSpan/2, 0.5 + MinGateSpan/2},
		{"nothing finite", map[string][]Grid{"a": grid(nan)}, Options{}, 0, 1},
		{"fixed", map[string][]Grid{"a": grid(0.45, 0.6)}, Options{GateMin: 0, GateMax: 1}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi, err := tt.o.GateScale(tt.grids)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(float64(float32(lo))-float64(float32(tt.lo))) > 1e-6 || math.Abs(float64(float32(hi))-float64(float32(tt.hi))) > 1e-6 {
				t.Errorf("scale [%v, %v], want [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
		})
	}
}

// Gates of 0.45-0.6 use both ends of the palette.
func TestNarrowGatesUseThePalette(t *testing.T) {
	g := gradientGrid("l0", 8, 8)
	for i, v := range g.Values {
		g.Values[i] = 0.45 + 0.15*v
	}
	paths, err := Gates(map[string][]Grid{"t": {g}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ends := map[string]color.NRGBA{"viridis 0": {0x44, 0x01, 0x54, 0xFF}, "viridis 1": {0xFD, 0xE7, 0x25, 0xFF}}
	barPx := int(math.Ceil(gateBarStrip * DefaultDPI / 72.0))
	titlePx := int(math.Ceil(gateTitleBand * DefaultDPI / 72.0))
	checkPNG(t, paths[0], DefaultPanelWidth+barPx, DefaultPanelHeight+titlePx, ends, 200)
}

func TestLossLogScale(t *testing.T) {
	dir := t.TempDir()
	recs := runRecords(300)
	recs = append(recs, monitor.Record{Kind: monitor.KindTrain, Step: 301, Loss: 0})
	path := filepath.Join(dir, "loss.png")
	if err := (Options{LogLoss: true}).Loss(recs, path); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, DefaultWidth, DefaultHeight, map[string]color.NRGBA{"smoothed line": seriesColor(0)}, 200)
	zero := []monitor.Record{{Kind: monitor.KindTrain, Step: 1, Loss: 0}}
	if err := (Options{LogLoss: true}).Loss(zero, path); !errors.Is(err, ErrNoData) {
		t.Errorf("a log-scale plot of a zero loss: %v, want ErrNoData", err)
	}
}

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sweep.png")
	cats := []string{"composition=LG rows=8", "composition=GL rows=8", "composition=LL rows=8"}
	series := []Series{
		{Name: "sst2", Mean: []float64{80, 82, math.NaN()}, Std: []float64{1, 0, 0}},
		{Name: "stsb", Mean: []float64{60, 55, 58}, Std: []float64{2, math.NaN(), 3}},
		{Name: "average", Mean: []float64{70, 68.5, 58}, Std: []float64{1.5, 0, 3}},
	}
	if err := (Options{}).Compare("Sweep", "dev score", cats, series, path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != DefaultWidth || b.Dy() != DefaultHeight {
		t.Errorf("size %v", b)
	}
	for name, c := range map[string]color.NRGBA{"sst2": seriesColor(0), "stsb": seriesColor(1)} {
		n := 0
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if near(color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA), c) {
					n++
				}
			}
		}
		if n < 200 {
			t.Errorf("%d pixels of %s's colour, want its dots and whiskers", n, name)
		}
	}

	errTests := []struct {
		name   string
		cats   []string
		series []Series
		want   error
	}{
		{"no categories", nil, series, ErrNoData},
		{"no series", cats, nil, ErrNoData},
		{"nothing finite", cats[:1], []Series{{Name: "a", Mean: []float64{math.NaN()}, Std: []float64{0}}}, ErrNoData},
		{"length mismatch", cats, []Series{{Name: "a", Mean: []float64{1}, Std: []float64{0}}}, nil},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			err := (Options{}).Compare("x", "y", tt.cats, tt.series, path)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}
