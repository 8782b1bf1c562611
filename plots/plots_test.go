package plots

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/monitor"
)

// outDir returns where a test writes its images: $HYPERGRID_PLOTS_OUT when set (to
// look at them), else a temporary directory.
func outDir(t *testing.T) string {
	if dir := os.Getenv("HYPERGRID_PLOTS_OUT"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// runRecords returns the log of a plausible multi-task run: a train record per step
// (noisy, decreasing loss) and an eval of three tasks every 100 steps, with metrics on
// the GLUE 0-100 scale as the trainer logs them.
func runRecords(steps int) []monitor.Record {
	var recs []monitor.Record
	for s := 1; s <= steps; s++ {
		noise := 0.35 * math.Sin(float64(s)*12.9898) * math.Cos(float64(s)*4.1414)
		loss := 0.9 + 3.5*math.Exp(-float64(s)/120) + noise*math.Exp(-float64(s)/600)
		recs = append(recs, monitor.Record{Kind: monitor.KindTrain, Step: s, Time: t0.Add(time.Duration(s) * time.Second),
			Loss: loss, LR: 1e-3, TokensPerS: 5000})
		if s%100 == 0 {
			x := 1 - math.Exp(-float64(s)/250)
			recs = append(recs,
				monitor.Record{Kind: monitor.KindEval, Step: s, Task: "mrpc", Metrics: map[string]float64{"accuracy": 60 + 25*x, "f1": 70 + 20*x}},
				monitor.Record{Kind: monitor.KindEval, Step: s, Task: "sst2", Metrics: map[string]float64{"accuracy": 55 + 37*x}},
				monitor.Record{Kind: monitor.KindEval, Step: s, Task: "stsb", Metrics: map[string]float64{"pearson": 10 + 75*x, "spearman": 8 + 77*x}},
			)
		}
	}
	return recs
}

// checkPNG decodes path and checks its size and that it holds drawn content: many
// colours, and at least min pixels of each wanted colour (within a small distance).
func checkPNG(t *testing.T, path string, w, h int, want map[string]color.NRGBA, minPixels int) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s is %d×%d, want %d×%d", path, b.Dx(), b.Dy(), w, h)
	}
	colors := map[color.NRGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			colors[color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)]++
		}
	}
	if len(colors) < 20 {
		t.Errorf("%s has only %d colours: blank?", path, len(colors))
	}
	white := colors[color.NRGBA{255, 255, 255, 255}]
	if white > w*h*98/100 {
		t.Errorf("%s is %d%% white: blank?", path, 100*white/(w*h))
	}
	for name, c := range want {
		n := 0
		for got, count := range colors {
			if near(got, c) {
				n += count
			}
		}
		if n < minPixels {
			t.Errorf("%s: %d pixels of %s (%v), want at least %d", path, n, name, c, minPixels)
		}
	}
	return img
}

// near reports whether two colours differ by at most 6 in every channel.
func near(a, b color.NRGBA) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= 6 && int(y)-int(x) <= 6 }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

func TestLoss(t *testing.T) {
	dir := outDir(t)
	path := filepath.Join(dir, "loss.png")
	recs := runRecords(1000)
	// A resumed run rewrote steps 500..520 (last wins) and a diverged step.
	for s := 500; s <= 520; s++ {
		recs = append(recs, monitor.Record{Kind: monitor.KindTrain, Step: s, Loss: 1.5})
	}
	recs = append(recs, monitor.Record{Kind: monitor.KindTrain, Step: 1001, Loss: math.NaN()})
	if err := Loss(recs, path); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, DefaultWidth, DefaultHeight, map[string]color.NRGBA{
		"smoothed line": seriesColor(0),
		"raw line":      faint(seriesColor(0), 0.35),
	}, 500)

	small := filepath.Join(dir, "loss_small.png")
	if err := (Options{Width: 400, Height: 300, DPI: 72, Smoothing: -1}).Loss(runRecords(1), small); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, small, 400, 300, map[string]color.NRGBA{"lone point": seriesColor(0)}, 10)
}

func TestMetrics(t *testing.T) {
	dir := outDir(t)
	path := filepath.Join(dir, "metrics.png")
	recs := runRecords(1000)
	// A task with no finite score is neither drawn nor averaged.
	recs = append(recs, monitor.Record{Kind: monitor.KindEval, Step: 1000, Task: "rte", Metrics: map[string]float64{"accuracy": math.Inf(1), "loss": 0.7}})
	if err := (Options{MetricNames: []string{"accuracy", "f1", "pearson", "spearman"}}).Metrics(recs, path); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, DefaultWidth, DefaultHeight, map[string]color.NRGBA{
		"mrpc": seriesColor(0),
		"sst2": seriesColor(1),
		"stsb": seriesColor(2),
	}, 300)
	checkPNG(t, path, DefaultWidth, DefaultHeight, map[string]color.NRGBA{"average": averageColor}, 2500)
}

func TestGlueAverage(t *testing.T) {
	byTask := map[string]map[int]map[string]float64{
		"a": {100: {"accuracy": 50}, 200: {"accuracy": 70}, 300: {"accuracy": 90}},
		"b": {100: {"f1": 70, "accuracy": 50}, 300: {"f1": math.NaN()}}, // NaN counts as 0 (package metrics' rule)
		"c": {100: {"loss": 3}, 200: {"loss": 2}},                       // no GLUE metric: not averaged
		"d": {100: {"accuracy": math.Inf(1)}},                           // no finite score: not averaged
	}
	got := glueAverage(byTask, []string{"a", "b", "c", "d"})
	want := []point{{100, 55}, {300, 45}}
	if len(got) != len(want) {
		t.Fatalf("glueAverage = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].step != want[i].step || math.Abs(got[i].value-want[i].value) > 1e-12 {
			t.Errorf("glueAverage = %v, want %v", got, want)
		}
	}
	if got := glueAverage(map[string]map[int]map[string]float64{"a": byTask["a"]}, []string{"a"}); got != nil {
		t.Errorf("glueAverage of one task = %v, want nil", got)
	}
}

// gradientGrid returns a rows×cols grid going from 0 at the top left to 1 at the
// bottom right.
func gradientGrid(layer string, rows, cols int) Grid {
	g := Grid{Layer: layer, Rows: rows, Cols: cols, Values: make([]float32, rows*cols)}
	for r := range rows {
		for c := range cols {
			g.Values[r*cols+c] = float32(r+c) / float32(max(rows+cols-2, 1))
		}
	}
	return g
}

func TestGates(t *testing.T) {
	dir := filepath.Join(outDir(t), "gates")
	layers := func(shift float32) []Grid {
		var gs []Grid
		for _, stack := range []string{"encoder", "decoder"} {
			for b := range 3 {
				g := gradientGrid(stack+".block."+string(rune('0'+b))+".ffn.wo", 8, 16)
				for i := range g.Values {
					g.Values[i] = min(max(g.Values[i]+shift*float32(b), 0), 1)
				}
				gs = append(gs, g)
			}
		}
		return gs
	}
	odd := []Grid{
		gradientGrid("row-only grid", 16, 1),
		gradientGrid("column-only grid", 1, 16),
		{Layer: "with a NaN", Rows: 2, Cols: 2, Values: []float32{0, float32(math.NaN()), 1, 0.5}},
		gradientGrid("a.very.long.layer.name.that.does.not.fit.in.the.panel.title.encoder.block.11.ffn.wo", 4, 4),
	}
	grids := map[string][]Grid{"mrpc": layers(0.1), "sst2": layers(-0.2), "STS-B/dev": odd}
	paths, err := Gates(grids, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "gates_STS-B_dev.png"), filepath.Join(dir, "gates_mrpc.png"), filepath.Join(dir, "gates_sst2.png")}
	if strings.Join(paths, ",") != strings.Join(want, ",") {
		t.Fatalf("paths = %v, want %v", paths, want)
	}
	ends := map[string]color.NRGBA{"viridis 0": {0x44, 0x01, 0x54, 0xFF}, "viridis 1": {0xFD, 0xE7, 0x25, 0xFF}}
	barPx := int(math.Ceil(gateBarStrip * DefaultDPI / 72.0))
	titlePx := int(math.Ceil(gateTitleBand * DefaultDPI / 72.0))
	// 6 layers: 3 columns × 2 rows; 4 layers: 2 × 2.
	checkPNG(t, paths[1], 3*DefaultPanelWidth+barPx, 2*DefaultPanelHeight+titlePx, ends, 200)
	checkPNG(t, paths[2], 3*DefaultPanelWidth+barPx, 2*DefaultPanelHeight+titlePx, ends, 200)
	odds := maps(ends)
	odds["NaN grey"] = color.NRGBA{nanColor.Y, nanColor.Y, nanColor.Y, 0xFF}
	checkPNG(t, paths[0], 2*DefaultPanelWidth+barPx, 2*DefaultPanelHeight+titlePx, odds, 200)

	// A fixed range and one panel per row.
	one := filepath.Join(outDir(t), "one")
	o := Options{Width: 300, Height: 240, DPI: 100, Columns: 1, GateMin: 0.25, GateMax: 0.75}
	paths, err = o.Gates(map[string][]Grid{"t": {gradientGrid("l0", 4, 4), gradientGrid("l1", 4, 4)}}, one)
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, paths[0], 300+int(math.Ceil(gateBarStrip*100/72.0)), 2*240+int(math.Ceil(gateTitleBand*100/72.0)), ends, 50)
}

func maps(m map[string]color.NRGBA) map[string]color.NRGBA {
	out := map[string]color.NRGBA{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "x.png")
	evalOnly := []monitor.Record{{Kind: monitor.KindEval, Step: 1, Task: "a", Metrics: map[string]float64{"accuracy": 1}}}
	trainOnly := []monitor.Record{{Kind: monitor.KindTrain, Step: 1, Loss: 1}}
	ok := Grid{Layer: "l", Rows: 1, Cols: 2, Values: []float32{0, 1}}
	tests := []struct {
		name   string
		run    func() error
		want   string
		noData bool
	}{
		{"loss without train records", func() error { return Loss(evalOnly, png) }, "none of the 1 records is a train record", true},
		{"loss all NaN", func() error {
			return Loss([]monitor.Record{{Kind: monitor.KindTrain, Step: 1, Loss: math.NaN()}}, png)
		}, "all 1 train losses are NaN", true},
		{"metrics without eval records", func() error { return Metrics(trainOnly, png) }, "no eval records", true},
		{"metrics filtered out", func() error { return (Options{MetricNames: []string{"f1"}}).Metrics(evalOnly, png) }, "with the metrics f1", true},
		{"metrics all NaN", func() error {
			return Metrics([]monitor.Record{{Kind: monitor.KindEval, Step: 1, Task: "a", Metrics: map[string]float64{"f1": math.Inf(1)}}}, png)
		}, "NaN or infinite", true},
		{"loss to a missing directory", func() error { return Loss(trainOnly, filepath.Join(dir, "no", "x.png")) }, "writing " + filepath.Join(dir, "no", "x.png"), false},
		{"gates without tasks", func() error { _, err := Gates(nil, dir); return err }, "no tasks", true},
		{"gates without layers", func() error { _, err := Gates(map[string][]Grid{"a": nil}, dir); return err }, `task "a": nothing to plot: no layers`, true},
		{"gates bad shape", func() error {
			_, err := Gates(map[string][]Grid{"a": {{Layer: "l", Rows: 0, Cols: 2}}}, dir)
			return err
		}, `task "a", layer "l": grid shape 0×2`, false},
		{"gates wrong count", func() error {
			_, err := Gates(map[string][]Grid{"a": {{Layer: "l", Rows: 2, Cols: 2, Values: []float32{1}}}}, dir)
			return err
		}, "1 values for a 2×2 grid, want 4", false},
		{"gates duplicate layer", func() error { _, err := Gates(map[string][]Grid{"a": {ok, ok}}, dir); return err }, `layer "l" appears twice`, false},
		{"gates empty task name", func() error { _, err := Gates(map[string][]Grid{"": {ok}}, dir); return err }, "empty name", false},
		{"gates file name clash", func() error { _, err := Gates(map[string][]Grid{"a/b": {ok}, "a_b": {ok}}, dir); return err }, "would both be written to gates_a_b.png", false},
		{"gates empty range", func() error {
			_, err := (Options{GateMin: 1, GateMax: 1}).Gates(map[string][]Grid{"a": {ok}}, dir)
			return err
		}, "range [1, 1] is empty", false},
	}
	for _, tt := range tests {
		err := tt.run()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want it to contain %q", tt.name, err, tt.want)
			continue
		}
		if got := errors.Is(err, ErrNoData); got != tt.noData {
			t.Errorf("%s: errors.Is(err, ErrNoData) = %v, want %v", tt.name, got, tt.noData)
		}
	}
	// Failed writes leave no file and no temporary file behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

func TestAtomicReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "loss.png")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (Options{Width: 200, Height: 150, DPI: 72}).Loss(runRecords(50), path); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 200, 150, nil, 0)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only loss.png", len(entries))
	}
}

func TestLastPerStep(t *testing.T) {
	got := lastPerStep([]point{{3, 1}, {1, 1}, {3, 2}, {2, 1}, {1, 5}})
	want := []point{{1, 5}, {2, 1}, {3, 2}}
	if len(got) != len(want) {
		t.Fatalf("lastPerStep = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("lastPerStep = %v, want %v", got, want)
		}
	}
}

func TestTicks(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{{0, "0"}, {500, "500"}, {9000, "9000"}, {10000, "10k"}, {25000, "25k"}, {12500, "12500"}, {2.5, "2.5"}}
	for _, tt := range tests {
		if got := formatStep(tt.v); got != tt.want {
			t.Errorf("formatStep(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	// Rows count from the top: the label "0" sits at the highest plot row.
	ticks := cellTicks{n: 4, reversed: true}.Ticks(0, 3)
	for _, tk := range ticks {
		if tk.Label == "0" && tk.Value != 3 {
			t.Errorf("row 0 ticked at %v, want 3", tk.Value)
		}
	}
	labels := 0
	for _, tk := range (cellTicks{n: 64}).Ticks(0, 63) {
		if tk.Label != "" {
			labels++
		}
	}
	if labels < 2 || labels > 8 {
		t.Errorf("64 cells: %d labels, want 2..8", labels)
	}
}

// TestFailedRenameLeavesNoTemp makes the final rename fail (the target is a directory)
// and checks that the temporary file is removed.
func TestFailedRenameLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "loss.png")
	if err := os.MkdirAll(filepath.Join(target, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := (Options{Width: 100, Height: 80, DPI: 72}).Loss(runRecords(5), target)
	if err == nil || !strings.Contains(err.Error(), "writing "+target) {
		t.Fatalf("error = %v, want a write error naming %s", err, target)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "loss.png" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only loss.png", names)
	}
}
