package monitor

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hypergrid-go/hypergrid/metrics"
)

// Mode chooses how [Progress] shows itself.
type Mode int

const (
	// ModeAuto picks ModeTerminal when the writer is a terminal ([IsTerminal]) and
	// ModePlain otherwise.
	ModeAuto Mode = iota
	// ModeTerminal redraws one status line with carriage returns.
	ModeTerminal
	// ModePlain prints a log line every N steps or T seconds.
	ModePlain
)

// Default intervals of [Options].
const (
	DefaultInterval = 30 * time.Second       // plain mode: a line at least this often
	DefaultRedraw   = 100 * time.Millisecond // terminal mode: redraw at most this often
)

// rateWindow is the number of recent steps tokens/s and the ETA are measured over.
const rateWindow = 20

// maxBar is the widest progress bar (between the brackets), minBar the narrowest
// worth drawing.
const (
	maxBar = 30
	minBar = 8
	// barSlack is the room left beside a new bar for the text to grow (longer
	// durations, a longer loss) before the bar must shrink.
	barSlack = 4
)

// Options configures a [Progress]. The zero value of each field picks its default.
type Options struct {
	// Total is the number of steps of the run; 0 means unknown (no bar, no ETA).
	Total int
	// Start is the step the run starts from (a resumed run); rates count from here.
	Start int
	// Mode chooses terminal or plain output; ModeAuto detects it from the writer.
	Mode Mode
	// Width is the terminal width in columns; 0 takes [TerminalWidth].
	Width int
	// Every prints a plain line whenever the step crosses a multiple of Every. The
	// default is a round number near Total/20 (100 when Total is unknown).
	Every int
	// Interval prints a plain line when this much time passed since the last one
	// (default [DefaultInterval]; negative: never).
	Interval time.Duration
	// Redraw is the least time between two terminal redraws (default [DefaultRedraw]).
	Redraw time.Duration
	// Smoothing is the weight of the past in the shown loss's moving average, in
	// [0, 1) (default [DefaultSmoothing]; negative: no smoothing).
	Smoothing float64
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
}

// Update is what the trainer reports after each optimizer step.
type Update struct {
	// Step is the number of steps done, counting the one just finished.
	Step int
	// Loss is the step's training loss.
	Loss float64
	// Tokens is the number of tokens the step processed (for tokens/s).
	Tokens int
	// LR is the step's learning rate (0: not shown).
	LR float64
}

// sample is one point of the throughput window.
type sample struct {
	t      time.Time
	step   int
	tokens int64 // cumulative tokens since the start
}

// Progress shows a training run's progress on an io.Writer: a live status line on a
// terminal, periodic log lines elsewhere. Output errors do not stop training; the first
// one is kept for [Progress.Err]. A Progress is safe for concurrent use.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	opt      Options
	terminal bool
	start    time.Time
	ema      *EMA

	last      Update // the latest update
	hasUpdate bool
	tokens    int64 // tokens since the start
	window    []sample

	// plain mode
	printedStep int
	printed     bool // the latest update has been printed
	printedAny  bool // some update has been printed
	printedAt   time.Time

	// terminal mode
	drawnAt    time.Time
	lineLen    int // length of the status line now on screen; 0 when none
	barInner   int // width of the bar drawn last; 0 when none
	barDropped int // how many of dropForBar were dropped to fit that bar

	finished bool
	err      error
}

// NewProgress returns a Progress writing to w; the clock starts now.
func NewProgress(w io.Writer, opt Options) *Progress {
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Every <= 0 {
		opt.Every = defaultEvery(opt.Total)
	}
	if opt.Interval == 0 {
		opt.Interval = DefaultInterval
	}
	if opt.Redraw <= 0 {
		opt.Redraw = DefaultRedraw
	}
	switch {
	case opt.Smoothing == 0:
		opt.Smoothing = DefaultSmoothing
	case opt.Smoothing < 0:
		opt.Smoothing = 0
	}
	if opt.Width <= 0 {
		opt.Width = TerminalWidth()
	}
	opt.Width = max(opt.Width, minWidth)
	terminal := opt.Mode == ModeTerminal || (opt.Mode == ModeAuto && IsTerminal(w))
	now := opt.Clock()
	p := &Progress{
		w:           w,
		opt:         opt,
		terminal:    terminal,
		start:       now,
		ema:         NewEMA(opt.Smoothing),
		printedStep: opt.Start,
		printedAt:   now,
	}
	p.last.Step = opt.Start
	p.window = []sample{{t: now, step: opt.Start}}
	return p
}

// defaultEvery returns the largest of 1, 2, 5, 10, 20, 50, ... not above total/20.
func defaultEvery(total int) int {
	if total <= 0 {
		return 100
	}
	target := max(total/20, 1)
	best := 1
	for base := 1; base <= target; base *= 10 {
		for _, m := range []int{1, 2, 5} {
			if base*m <= target {
				best = base * m
			}
		}
	}
	return best
}

// Terminal reports whether p redraws a status line (rather than printing log lines).
func (p *Progress) Terminal() bool { return p.terminal }

// Update records a finished step and refreshes the display when it is due.
func (p *Progress) Update(u Update) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	now := p.opt.Clock()
	p.last = u
	p.hasUpdate = true
	p.ema.Add(u.Loss)
	p.tokens += int64(u.Tokens)
	p.window = append(p.window, sample{t: now, step: u.Step, tokens: p.tokens})
	if len(p.window) > rateWindow+1 {
		p.window = append(p.window[:0], p.window[len(p.window)-rateWindow-1:]...)
	}
	final := p.opt.Total > 0 && u.Step >= p.opt.Total
	if p.terminal {
		if p.lineLen == 0 || final || now.Sub(p.drawnAt) >= p.opt.Redraw {
			p.draw(now)
		}
		return
	}
	p.printed = false
	crossed := u.Step/p.opt.Every > p.printedStep/p.opt.Every
	late := p.opt.Interval > 0 && now.Sub(p.printedAt) >= p.opt.Interval
	if crossed || late || final || !p.printedAny {
		p.printPlain(now)
	}
}

// Logf prints a message on its own line (a newline is added), keeping the terminal
// status line below it.
func (p *Progress) Logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n") + "\n"
	p.above(msg)
}

// Eval prints the evaluation results at step as a table ([WriteEvalTable]). The time
// until the next update is not counted in tokens/s and the ETA.
func (p *Progress) Eval(step int, results []metrics.TaskResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.above(formatEvalTable(step, results))
	// Restart the throughput window so the evaluation's time does not count.
	p.window = append(p.window[:0], sample{t: p.opt.Clock(), step: p.last.Step, tokens: p.tokens})
}

// above writes text above the terminal status line, or as is in plain mode.
func (p *Progress) above(text string) {
	if !p.terminal || p.lineLen == 0 {
		p.write(text)
		return
	}
	p.write("\r" + strings.Repeat(" ", p.lineLen) + "\r" + text)
	p.lineLen = 0
	if !p.finished {
		p.draw(p.opt.Clock())
	}
}

// Finish shows the final state and a summary line. Later calls do nothing, and later
// updates are ignored.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	now := p.opt.Clock()
	if p.terminal {
		if p.hasUpdate {
			p.draw(now)
			p.write("\n")
		}
	} else if p.hasUpdate && !p.printed {
		p.printPlain(now)
	}
	p.finished = true
	p.lineLen = 0
	elapsed := now.Sub(p.start)
	var b strings.Builder
	fmt.Fprintf(&b, "done: %d steps in %s", p.last.Step-p.opt.Start, formatDuration(elapsed))
	if p.tokens > 0 && elapsed > 0 {
		fmt.Fprintf(&b, ", %s tok/s on average", formatRate(float64(p.tokens)/elapsed.Seconds()))
	}
	if p.hasUpdate {
		fmt.Fprintf(&b, ", final loss=%s", p.lossText())
	}
	b.WriteString("\n")
	p.write(b.String())
}

// Err returns the first error writing to the output, if any.
func (p *Progress) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// SmoothedLoss returns the moving average of the losses so far (NaN before any).
func (p *Progress) SmoothedLoss() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, _ := p.ema.Value()
	return v
}

// TokensPerSecond returns the throughput over the last steps (0 when unknown).
func (p *Progress) TokensPerSecond() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	tps, _, ok := p.rates()
	if !ok {
		return 0
	}
	return tps
}

// rates returns tokens/s and seconds/step over the window.
func (p *Progress) rates() (tokensPerS, secPerStep float64, ok bool) {
	if len(p.window) < 2 {
		return 0, 0, false
	}
	first, last := p.window[0], p.window[len(p.window)-1]
	dt := last.t.Sub(first.t).Seconds()
	ds := last.step - first.step
	if dt <= 0 || ds <= 0 {
		return 0, 0, false
	}
	return float64(last.tokens-first.tokens) / dt, dt / float64(ds), true
}

// lossText formats the loss shown: the smoothed loss, or the raw one when it is not
// finite (a diverged run must be visible at once).
func (p *Progress) lossText() string {
	if l := p.last.Loss; math.IsNaN(l) || math.IsInf(l, 0) {
		return fmt.Sprint(l)
	}
	v, ok := p.ema.Value()
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%#.4g", v)
}

// fields returns the parts of a status line: "key=value" texts and the ETA.
type fields struct {
	count, pct                   string
	loss, lr, rate, elapsed, eta string
	hasTotal                     bool
	done                         float64 // fraction done, in [0, 1]
}

func (p *Progress) fields(now time.Time) fields {
	f := fields{hasTotal: p.opt.Total > 0}
	step := p.last.Step
	if f.hasTotal {
		width := 0
		if p.terminal { // a fixed width keeps the terminal line steady
			width = len(strconv.Itoa(p.opt.Total))
		}
		f.count = fmt.Sprintf("%*d/%d", width, step, p.opt.Total)
		f.done = min(max(float64(step)/float64(p.opt.Total), 0), 1)
		f.pct = fmt.Sprintf("%3d%%", int(f.done*100))
	} else {
		f.count = fmt.Sprint(step)
	}
	f.loss = "loss=" + p.lossText()
	if p.last.LR != 0 {
		f.lr = fmt.Sprintf("lr=%.3g", p.last.LR)
	}
	tps, sps, ok := p.rates()
	if ok {
		f.rate = "tok/s=" + formatRate(tps)
	} else {
		f.rate = "tok/s=-"
	}
	f.elapsed = "elapsed=" + formatDuration(now.Sub(p.start))
	if f.hasTotal {
		switch left := p.opt.Total - step; {
		case left <= 0:
			f.eta = "eta=0s"
		case ok:
			f.eta = "eta=" + formatDuration(time.Duration(float64(left)*sps*float64(time.Second)))
		default:
			f.eta = "eta=-"
		}
	}
	return f
}

// printPlain prints the plain log line of the latest update.
func (p *Progress) printPlain(now time.Time) {
	f := p.fields(now)
	parts := []string{"step " + f.count, f.loss, f.lr, f.rate, f.elapsed, f.eta}
	p.write(joinNonEmpty(parts) + "\n")
	p.printed = true
	p.printedAny = true
	p.printedStep = p.last.Step
	p.printedAt = now
}

// draw redraws the terminal status line.
func (p *Progress) draw(now time.Time) {
	line := p.statusLine(p.fields(now))
	pad := ""
	if n := p.lineLen - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.write("\r" + line + pad)
	p.lineLen = len(line)
	p.drawnAt = now
}

// Indexes of the parts of a status line, and the order they are dropped in when the
// line is too long: lr and elapsed give way to the bar, tok/s and the ETA do not.
const (
	partHead = iota
	partLoss
	partLR
	partRate
	partElapsed
	partETA
)

var (
	dropForBar = []int{partLR, partElapsed}
	dropForFit = []int{partLR, partElapsed, partRate, partETA}
)

// statusLine lays out the terminal line in Width-1 columns (the last column is left
// free so the terminal does not wrap). A bar of at least minBar columns is drawn when
// it fits, if need be without lr and elapsed. Its width and the parts dropped for it
// stay the same from one redraw to the next while they fit, so the line does not
// jitter. Without a bar, parts are dropped in the order of dropForFit until the line
// fits, and what is left is cut.
func (p *Progress) statusLine(f fields) string {
	avail := p.opt.Width - 1
	head := f.count
	if f.hasTotal {
		head = f.pct + " " + f.count
	}
	parts := []string{head, f.loss, f.lr, f.rate, f.elapsed, f.eta}
	withBar := func(dropped int, inner int) (string, bool) {
		ps := slices.Clone(parts)
		for _, i := range dropForBar[:dropped] {
			ps[i] = ""
		}
		text := joinNonEmpty(ps)
		room := avail - len(text) - 3 // brackets and a space
		if inner == 0 {
			inner = min(maxBar, room-barSlack)
		}
		inner = min(inner, room)
		if inner < minBar {
			return "", false
		}
		p.barInner, p.barDropped = inner, dropped
		return bar(inner, f.done) + " " + text, true
	}
	if f.hasTotal {
		if p.barInner > 0 {
			if line, ok := withBar(p.barDropped, p.barInner); ok {
				return line
			}
		}
		for dropped := 0; dropped <= len(dropForBar); dropped++ {
			if line, ok := withBar(dropped, 0); ok {
				return line
			}
		}
	}
	p.barInner = 0
	text := joinNonEmpty(parts)
	for _, i := range dropForFit {
		if len(text) <= avail {
			break
		}
		parts[i] = ""
		text = joinNonEmpty(parts)
	}
	if len(text) > avail {
		text = text[:avail]
	}
	return text
}

// bar draws "[=====>    ]" with inner characters between the brackets.
func bar(inner int, done float64) string {
	filled := int(done * float64(inner))
	var b strings.Builder
	b.WriteByte('[')
	b.WriteString(strings.Repeat("=", filled))
	if filled < inner {
		if done > 0 {
			b.WriteByte('>')
			filled++
		}
		b.WriteString(strings.Repeat(" ", inner-filled))
	}
	b.WriteByte(']')
	return b.String()
}

// write writes s, keeping the first error.
func (p *Progress) write(s string) {
	if _, err := io.WriteString(p.w, s); err != nil && p.err == nil {
		p.err = err
	}
}

// joinNonEmpty joins the non-empty parts with single spaces.
func joinNonEmpty(parts []string) string {
	var kept []string
	for _, s := range parts {
		if s != "" {
			kept = append(kept, s)
		}
	}
	return strings.Join(kept, " ")
}

// formatDuration prints d rounded to seconds as "41s", "6m10s" or "2h05m09s".
func formatDuration(d time.Duration) string {
	s := int64(max(d, 0).Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm%02ds", s/3600, s/60%60, s%60)
}

// formatRate prints a rate: whole numbers from 100 up, 3 significant digits below.
func formatRate(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
