package monitor

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/internal/golden"
	"github.com/hypergrid-go/hypergrid/metrics"
)

// fakeClock is a settable clock for deterministic tests.
type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// checkGolden compares got with testdata/name ([golden.Check]).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

// visible makes carriage returns visible in golden files: each becomes `\r` and a
// line break, so every redraw of the status line sits on its own line.
func visible(s string) []byte {
	return []byte(strings.ReplaceAll(s, "\r", "\\r\n"))
}

// lossAt is a plausible decreasing loss curve.
func lossAt(step int) float64 { return 1 + 4*math.Exp(-float64(step)/12) }

// lrAt is a warm-up then inverse-square-root schedule.
func lrAt(step int) float64 {
	return 1e-2 * math.Min(float64(step)/10, math.Sqrt(10/float64(step)))
}

// train runs steps from+1..to, each taking dt and processing tokens tokens.
func train(p *Progress, c *fakeClock, from, to int, dt time.Duration, tokens int) {
	for s := from + 1; s <= to; s++ {
		c.advance(dt)
		p.Update(Update{Step: s, Loss: lossAt(s), Tokens: tokens, LR: lrAt(s)})
	}
}

// evalResults hold GLUE metrics on the 0-100 scale and one unscored value (a loss).
var evalResults = []metrics.TaskResult{
	{Task: "stsb", Metrics: map[string]float64{"pearson": 87.1, "spearman": 86.9}},
	{Task: "mrpc", Metrics: map[string]float64{"accuracy": 85, "f1": 88.9}},
	{Task: "sst2", Metrics: map[string]float64{"accuracy": 91.2, "loss": 0.2875}},
}

func TestProgressGolden(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		run  func(p *Progress, c *fakeClock)
	}{
		{
			name: "terminal_wide",
			opt:  Options{Mode: ModeTerminal, Width: 100, Total: 24},
			run: func(p *Progress, c *fakeClock) {
				train(p, c, 0, 12, 250*time.Millisecond, 512)
				c.advance(40 * time.Second) // evaluation time
				p.Eval(12, evalResults)
				train(p, c, 12, 18, 250*time.Millisecond, 512)
				p.Logf("saved checkpoint %s", "run/step-18")
				train(p, c, 18, 24, 250*time.Millisecond, 512)
				p.Finish()
			},
		},
		{
			name: "terminal_80",
			opt:  Options{Mode: ModeTerminal, Width: 80, Total: 3000},
			run: func(p *Progress, c *fakeClock) {
				train(p, c, 0, 8, 1700*time.Millisecond, 16384)
				p.Finish()
			},
		},
		{
			name: "terminal_narrow",
			opt:  Options{Mode: ModeTerminal, Width: 40, Total: 2000},
			run: func(p *Progress, c *fakeClock) {
				train(p, c, 0, 6, time.Second, 4096)
				p.Logf("a message longer than the terminal is printed whole on its own line")
				train(p, c, 6, 8, time.Second, 4096)
				p.Finish()
			},
		},
		{
			name: "terminal_redraw_limit",
			opt:  Options{Mode: ModeTerminal, Width: 90, Total: 20, Redraw: 100 * time.Millisecond},
			run: func(p *Progress, c *fakeClock) {
				train(p, c, 0, 20, 30*time.Millisecond, 256)
				p.Finish()
			},
		},
		{
			name: "terminal_unknown_total",
			opt:  Options{Mode: ModeTerminal, Width: 80},
			run: func(p *Progress, c *fakeClock) {
				train(p, c, 0, 5, time.Second, 1000)
				p.Finish()
			},
		},
		{
			name: "plain",
			opt:  Options{Mode: ModePlain, Total: 100, Every: 20, Interval: 30 * time.Second},
			run: func(p *Progress, c *fakeClock) {
				train(p, c, 0, 50, 2*time.Second, 2048)
				c.advance(time.Minute)
				p.Eval(50, evalResults)
				p.Logf("saved checkpoint run/step-50\n")
				train(p, c, 50, 100, 2*time.Second, 2048)
				p.Finish()
			},
		},
		{
			name: "plain_default_every",
			opt:  Options{Mode: ModePlain, Total: 2000, Interval: -1},
			run: func(p *Progress, c *fakeClock) {
				train(p, c, 0, 350, 500*time.Millisecond, 5120)
				p.Finish() // prints step 350: the last update was not printed yet
			},
		},
		{
			name: "plain_unknown_total",
			opt:  Options{Mode: ModePlain, Every: 10},
			run: func(p *Progress, c *fakeClock) {
				train(p, c, 0, 25, time.Second, 100)
				p.Finish()
			},
		},
		{
			name: "plain_resume_nan",
			opt:  Options{Mode: ModePlain, Total: 1010, Start: 1000, Every: 2, Smoothing: -1},
			run: func(p *Progress, c *fakeClock) {
				for s := 1001; s <= 1010; s++ {
					c.advance(3 * time.Second)
					loss := 2.5
					switch {
					case s == 1006:
						loss = math.NaN()
					case s > 1006:
						loss = math.Inf(1)
					}
					p.Update(Update{Step: s, Loss: loss, Tokens: 3000})
				}
				p.Finish()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c := newFakeClock()
			tt.opt.Clock = c.now
			p := NewProgress(&out, tt.opt)
			tt.run(p, c)
			if err := p.Err(); err != nil {
				t.Fatal(err)
			}
			if got := p.Terminal(); got != (tt.opt.Mode == ModeTerminal) {
				t.Errorf("Terminal() = %v, want %v", got, !got)
			}
			if p.Terminal() {
				checkStatusWidth(t, out.String(), tt.opt.Width)
			}
			checkGolden(t, "progress_"+tt.name+".golden", visible(out.String()))
		})
	}
}

// checkStatusWidth checks that every status line drawn (the text after a carriage
// return that is not ended by a newline, since messages and tables are printed whole)
// fits in width-1 columns.
func checkStatusWidth(t *testing.T, out string, width int) {
	t.Helper()
	segs := strings.Split(out, "\r")
	for _, line := range segs[1:] {
		if strings.Contains(line, "\n") {
			continue
		}
		if n := len([]rune(line)); n > width-1 {
			t.Errorf("status line of %d columns on a %d-column terminal: %q", n, width, line)
		}
	}
}

func TestProgressRates(t *testing.T) {
	c := newFakeClock()
	p := NewProgress(&bytes.Buffer{}, Options{Mode: ModePlain, Total: 100, Clock: c.now})
	if got := p.TokensPerSecond(); got != 0 {
		t.Errorf("TokensPerSecond before any step = %v, want 0", got)
	}
	if got := p.SmoothedLoss(); !math.IsNaN(got) {
		t.Errorf("SmoothedLoss before any step = %v, want NaN", got)
	}
	// 10 slow steps, then 30 fast ones: the window only sees the fast ones.
	train(p, c, 0, 10, 4*time.Second, 1000)
	train(p, c, 10, 40, time.Second, 1000)
	if got, want := p.TokensPerSecond(), 1000.0; got != want {
		t.Errorf("TokensPerSecond = %v, want %v", got, want)
	}
	// An evaluation pause does not lower the rate once steps resume.
	c.advance(time.Hour)
	p.Eval(40, nil)
	train(p, c, 40, 42, 500*time.Millisecond, 1000)
	if got, want := p.TokensPerSecond(), 2000.0; got != want {
		t.Errorf("TokensPerSecond after an eval = %v, want %v", got, want)
	}
	var losses []float64
	for s := 1; s <= 42; s++ {
		losses = append(losses, lossAt(s))
	}
	if got, want := p.SmoothedLoss(), Smooth(losses, DefaultSmoothing)[41]; math.Abs(got-want) > 1e-12 {
		t.Errorf("SmoothedLoss = %v, want %v", got, want)
	}
}

func TestProgressFinishTwiceAndUpdatesAfter(t *testing.T) {
	var out bytes.Buffer
	c := newFakeClock()
	p := NewProgress(&out, Options{Mode: ModePlain, Total: 10, Clock: c.now})
	train(p, c, 0, 2, time.Second, 10)
	p.Finish()
	n := out.Len()
	p.Finish()
	p.Update(Update{Step: 3, Loss: 1})
	if out.Len() != n {
		t.Errorf("output after Finish: %q", out.String()[n:])
	}
}

// failWriter fails every write.
type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestProgressKeepsFirstWriteError(t *testing.T) {
	want := os.ErrClosed
	p := NewProgress(failWriter{want}, Options{Mode: ModePlain, Total: 10})
	p.Update(Update{Step: 1, Loss: 1})
	p.Finish()
	if err := p.Err(); err != want {
		t.Errorf("Err() = %v, want %v", err, want)
	}
}

func TestDefaultEvery(t *testing.T) {
	tests := []struct{ total, want int }{
		{0, 100}, {1, 1}, {19, 1}, {40, 2}, {99, 2}, {100, 5}, {250, 10},
		{2000, 100}, {3999, 100}, {4000, 200}, {100000, 5000},
	}
	for _, tt := range tests {
		if got := defaultEvery(tt.total); got != tt.want {
			t.Errorf("defaultEvery(%d) = %d, want %d", tt.total, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{0, "0s"},
		{499 * time.Millisecond, "0s"},
		{41 * time.Second, "41s"},
		{59*time.Second + 600*time.Millisecond, "1m00s"},
		{6*time.Minute + 10*time.Second, "6m10s"},
		{2*time.Hour + 5*time.Minute + 9*time.Second, "2h05m09s"},
		{100 * time.Hour, "100h00m00s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestBar(t *testing.T) {
	tests := []struct {
		inner int
		done  float64
		want  string
	}{
		{8, 0, "[        ]"},
		{8, 0.01, "[>       ]"},
		{8, 0.5, "[====>   ]"},
		{8, 0.99, "[=======>]"},
		{8, 1, "[========]"},
	}
	for _, tt := range tests {
		if got := bar(tt.inner, tt.done); got != tt.want {
			t.Errorf("bar(%d, %v) = %q, want %q", tt.inner, tt.done, got, tt.want)
		}
	}
}

func TestEMA(t *testing.T) {
	e := NewEMA(0.5)
	if _, ok := e.Value(); ok {
		t.Error("Value ok before any value")
	}
	steps := []struct{ x, want float64 }{
		{2, 2},                   // bias corrected: 1 / 0.5
		{4, 2.5 / 0.75},          // (0.5·1 + 2) / (1 - 0.25)
		{math.NaN(), 2.5 / 0.75}, // skipped
		{math.Inf(1), 2.5 / 0.75},
	}
	for i, s := range steps {
		if got := e.Add(s.x); math.Abs(got-s.want) > 1e-12 {
			t.Errorf("Add #%d (%v) = %v, want %v", i, s.x, got, s.want)
		}
	}
	got := Smooth([]float64{1, math.NaN(), 1}, 0.9)
	if got[0] != 1 || !math.IsNaN(got[1]) || math.Abs(got[2]-1) > 1e-12 {
		t.Errorf("Smooth = %v, want [1 NaN 1]", got)
	}
	if got := Smooth([]float64{3, 5}, 0); got[0] != 3 || got[1] != 5 {
		t.Errorf("Smooth with beta 0 = %v, want the input", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewEMA(1) did not panic")
		}
	}()
	NewEMA(1)
}

// TestStatusLineFits lays out status lines for every width from the narrowest up and
// checks that each fits, and that the bar is shown whenever the terminal is wide.
func TestStatusLineFits(t *testing.T) {
	states := []struct {
		name   string
		total  int
		update Update
		dt     time.Duration
	}{
		{"start", 2000, Update{Step: 1, Loss: 10.37, Tokens: 512, LR: 1e-6}, time.Second},
		{"middle", 2000, Update{Step: 1234, Loss: 2.3141, Tokens: 65536, LR: 3.5e-4}, time.Minute},
		{"huge", 1 << 40, Update{Step: 1 << 39, Loss: -123456.75, Tokens: 1 << 30, LR: 12345}, 100 * time.Hour},
		{"nan", 100, Update{Step: 50, Loss: math.NaN(), Tokens: 1}, time.Millisecond},
		{"no-total", 0, Update{Step: 987654, Loss: 0.001234, Tokens: 100}, time.Second},
	}
	for _, st := range states {
		for width := minWidth; width <= 160; width++ {
			c := newFakeClock()
			p := NewProgress(&bytes.Buffer{}, Options{Mode: ModeTerminal, Width: width, Total: st.total, Clock: c.now})
			c.advance(st.dt)
			p.Update(st.update)
			line := p.statusLine(p.fields(c.now()))
			if len(line) > width-1 {
				t.Errorf("%s, width %d: %d columns: %q", st.name, width, len(line), line)
			}
			if st.total > 0 && width >= 100 && !strings.HasPrefix(line, "[") {
				t.Errorf("%s, width %d: no bar: %q", st.name, width, line)
			}
			if !strings.Contains(line, "loss=") && width >= 40 {
				t.Errorf("%s, width %d: no loss: %q", st.name, width, line)
			}
		}
	}
}

func TestTerminalDetection(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	t.Setenv("TERM", "xterm-256color")
	if IsTerminal(w) {
		t.Error("a pipe is a terminal")
	}
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a bytes.Buffer is a terminal")
	}
	if IsTerminal((*os.File)(nil)) {
		t.Error("a nil *os.File is a terminal")
	}
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if IsTerminal(file) {
		t.Error("a regular file is a terminal")
	}
	if NewProgress(file, Options{}).Terminal() {
		t.Error("ModeAuto picked terminal mode for a regular file")
	}
	// A character device stands in for a terminal (os.File.Stat cannot tell them apart).
	dev, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer dev.Close()
	if info, err := dev.Stat(); err != nil || info.Mode()&os.ModeCharDevice == 0 {
		t.Skipf("%s is not a character device here", os.DevNull)
	}
	if !IsTerminal(dev) {
		t.Errorf("character device with TERM=%s is not a terminal", os.Getenv("TERM"))
	}
	t.Setenv("TERM", "dumb")
	if IsTerminal(dev) {
		t.Error("TERM=dumb is a terminal")
	}
}

func TestTerminalWidth(t *testing.T) {
	tests := []struct {
		columns string
		want    int
	}{
		{"", DefaultWidth}, {"132", 132}, {" 100 ", 100}, {"abc", DefaultWidth},
		{"0", DefaultWidth}, {"-5", DefaultWidth}, {"10", minWidth},
	}
	for _, tt := range tests {
		t.Setenv("COLUMNS", tt.columns)
		if got := TerminalWidth(); got != tt.want {
			t.Errorf("COLUMNS=%q: TerminalWidth() = %d, want %d", tt.columns, got, tt.want)
		}
	}
}
