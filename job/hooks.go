package job

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/monitor"
	"github.com/hypergrid-go/hypergrid/plots"
	"github.com/hypergrid-go/hypergrid/train"
)

// LogFile is the JSONL metrics log in a run's output folder.
const LogFile = "metrics.jsonl"

// Outputs of a run, for Attach.
type Output struct {
	// Dir is the run's output folder ("" writes no files: only the progress).
	Dir string
	// W receives the progress display and the evaluation tables (nil: discarded).
	W io.Writer
	// Best keeps the checkpoint with the best GLUE-style dev average in Dir/best.
	Best bool
	// LogLoss draws loss.png with a log-scale loss axis.
	LogLoss bool
}

// Monitor is what Attach wired to a trainer; Close it when the run ends.
type Monitor struct {
	Progress *monitor.Progress
	log      *monitor.Log
	out      Output
	tr       *train.Trainer
	best     float64
}

// Attach wires the standard hooks of a run to tr: the progress line (or log lines),
// the evaluation tables, and when out.Dir is set the JSONL metrics log (cut back to the
// trainer's step when resuming, so no step appears twice), the best checkpoint, the
// loss and metric plots (at every checkpoint and at the end) and the gate heat maps
// (at the periodic checkpoints and at the end). On ranks other than 0 of a distributed run it writes nothing.
func Attach(tr *train.Trainer, out Output) (*Monitor, error) {
	if tr.Rank() != 0 {
		out = Output{} // in a distributed run rank 0 alone writes files and progress
	}
	w := out.W
	if w == nil {
		w = io.Discard
	}
	m := &Monitor{out: out, tr: tr, best: -1,
		Progress: monitor.NewProgress(w, monitor.Options{Total: tr.Config().Steps, Start: tr.Step()})}
	if out.Dir != "" {
		path := filepath.Join(out.Dir, LogFile)
		if err := truncateLog(path, tr.Step()); err != nil {
			return nil, err
		}
		log, err := monitor.OpenLog(path)
		if err != nil {
			return nil, err
		}
		m.log = log
		if out.Best {
			m.best = bestSoFar(out.Dir)
		}
	}
	tr.OnStep(m.step)
	tr.OnEval(m.eval)
	tr.OnCheckpoint(func(c *train.CheckpointInfo) error {
		m.plots()
		// The gate maps need a pass over the dev examples: redrawn at the periodic
		// checkpoints of a long run, not when Ctrl-C is waiting, nor at the end (drawn
		// then by m.end).
		if c.Reason == "every" || c.Reason == "interval" {
			return m.gates(false)
		}
		return nil
	})
	tr.OnEnd(m.end)
	return m, nil
}

func (m *Monitor) step(s *train.StepInfo) error {
	if s.Skipped {
		m.Progress.Logf("step %d: loss or gradient is not finite (%v); step skipped (%d in a row)", s.Step, s.Loss, s.BadInARow)
		return nil
	}
	m.Progress.Update(monitor.Update{Step: s.Step, Loss: s.Loss, Tokens: s.Tokens, LR: s.LR})
	if m.log != nil {
		tps := 0.0
		if s.Duration > 0 {
			tps = float64(s.Tokens) / s.Duration.Seconds()
		}
		return m.log.Train(s.Step, time.Now(), s.Loss, s.LR, tps)
	}
	return nil
}

func (m *Monitor) eval(e *train.EvalInfo) error {
	m.Progress.Eval(e.Step, e.Results)
	if m.log != nil {
		if err := m.log.Eval(e.Step, time.Now(), e.Results); err != nil {
			return err
		}
	}
	if !m.out.Best || m.out.Dir == "" || !e.HasAverage || e.Average <= m.best {
		return nil
	}
	m.best = e.Average
	dir := filepath.Join(m.out.Dir, checkpoint.BestDir)
	if err := m.tr.SaveCheckpoint(dir, map[string]any{StateDevAverage: e.Average}); err != nil {
		return err
	}
	m.Progress.Logf("new best dev average %.2f at step %d: saved %s", e.Average, e.Step, dir)
	return nil
}

func (m *Monitor) end(res *train.Result) error {
	m.Progress.Finish()
	if res.EarlyStopped {
		w := m.out.W
		if w == nil {
			w = io.Discard
		}
		fmt.Fprintf(w, "early stopping: the dev average did not improve for train.early_stopping.patience evaluations; stopped at step %d\n", res.Steps)
	}
	if m.out.Dir == "" {
		return nil
	}
	m.plots()
	return m.gates(true)
}

// gates writes each task's mean gate maps (gates.json and the heat maps), and with
// report says which files it wrote.
func (m *Monitor) gates(report bool) error {
	if m.out.Dir == "" {
		return nil
	}
	grids, err := m.tr.MeanGates()
	if err != nil {
		return err
	}
	if len(grids) == 0 {
		return nil
	}
	pg := map[string][]plots.Grid{}
	for task, gs := range grids {
		for _, g := range gs {
			pg[task] = append(pg[task], plots.Grid{Layer: g.Layer, Rows: g.Rows, Cols: g.Cols, Values: g.Values})
		}
	}
	w := m.out.W
	if w == nil {
		w = io.Discard
	}
	if err := WriteGates(m.out.Dir, pg); err != nil {
		fmt.Fprintf(w, "gate values skipped: %v\n", err)
	}
	files, err := plots.Gates(pg, m.out.Dir)
	switch {
	case err != nil:
		fmt.Fprintf(w, "gate heat maps skipped: %v\n", err)
	case report:
		fmt.Fprintf(w, "gate heat maps: %s\n", strings.Join(files, ", "))
	}
	return nil
}

// plots renders the loss and metric plots from the log; a plot that cannot be drawn
// is reported and skipped (the run's results stand).
func (m *Monitor) plots() {
	if m.out.Dir == "" {
		return
	}
	w := m.out.W
	if w == nil {
		w = io.Discard
	}
	recs, err := monitor.ReadFile(filepath.Join(m.out.Dir, LogFile))
	if err != nil {
		m.Progress.Logf("plots skipped: %v", err)
		return
	}
	for _, p := range []struct {
		name string
		f    func([]monitor.Record, string) error
	}{{"loss.png", plots.Options{LogLoss: m.out.LogLoss}.Loss}, {"metrics.png", plots.Metrics}} {
		if err := p.f(recs, filepath.Join(m.out.Dir, p.name)); err != nil && !errors.Is(err, plots.ErrNoData) {
			m.Progress.Logf("plot %s skipped: %v", p.name, err)
		}
	}
}

// Close ends the progress display and closes the log.
func (m *Monitor) Close() error {
	m.Progress.Finish()
	if m.log != nil {
		return m.log.Close()
	}
	return nil
}

// bestSoFar reads the average recorded with the best checkpoint of a run (-1: none).
func bestSoFar(outDir string) float64 {
	c, err := checkpoint.Load(filepath.Join(outDir, checkpoint.BestDir))
	if err != nil {
		return -1
	}
	var avg float64
	if c.GetState(StateDevAverage, &avg) != nil {
		return -1
	}
	return avg
}

// truncateLog drops the records after step from the log at path (a resumed run
// writes them again), atomically; a missing log is fine.
func truncateLog(path string, step int) error {
	recs, err := monitor.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("the run's metrics log: %w", err)
	}
	keep := recs[:0]
	for _, r := range recs {
		if r.Step <= step {
			keep = append(keep, r)
		}
	}
	if len(keep) == len(recs) {
		return nil
	}
	var b []byte
	for _, r := range keep {
		b = r.AppendJSON(b)
		b = append(b, '\n')
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
