package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hypergrid-go/hypergrid/checkpoint"

	"gonum.org/v1/gonum/stat"

	"github.com/hypergrid-go/hypergrid/internal/fileio"
	"github.com/hypergrid-go/hypergrid/metrics"
	"github.com/hypergrid-go/hypergrid/monitor"
)

// ResultFile is written into a run's folder when the run has finished: the sweep
// skips a run that has one.
const ResultFile = "result.json"

// maxResult bounds a result file read.
const maxResult = 4 << 20

// Result is a finished run's outcome, read from its metrics log.
type Result struct {
	// Run is the run's folder name; Sets and Seed its grid point.
	Run  string   `json:"run"`
	Sets []string `json:"sets"`
	Seed uint64   `json:"seed"`
	// Step is the step of the last evaluation (the run's end, or where early stopping
	// stopped it).
	Step int `json:"step"`
	// Tasks holds each task's dev metrics (0-100) at Step, in the log's order.
	Tasks []metrics.TaskResult `json:"tasks"`
	// Scores holds each task's score (metrics.TaskScore), by task; Average is the
	// GLUE-style average (metrics.Average).
	Scores  map[string]float64 `json:"scores"`
	Average float64            `json:"average"`
	// Params is the model's parameter count.
	Params int64 `json:"params"`
	// TokensPerS is the median training throughput of the run's logged steps.
	TokensPerS float64 `json:"tokens_per_s"`
}

// ReadRun reads the result of the run whose output folder is dir from its metrics log:
// the evaluation records of the last evaluated step, and the median tokens/s of its
// train records. It is an error when the log has no evaluation.
func ReadRun(dir string) (*Result, error) {
	recs, err := monitor.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return nil, err
	}
	res := &Result{Run: filepath.Base(dir), Scores: map[string]float64{}, Step: -1}
	var tps []float64
	for _, r := range recs {
		switch r.Kind {
		case monitor.KindEval:
			if r.Step > res.Step {
				res.Step, res.Tasks = r.Step, nil
			}
			if r.Step == res.Step {
				// A task evaluated twice at one step (a resumed run): the last counts.
				res.Tasks = slices.DeleteFunc(res.Tasks, func(t metrics.TaskResult) bool { return t.Task == r.Task })
				res.Tasks = append(res.Tasks, metrics.TaskResult{Task: r.Task, Metrics: r.Metrics})
			}
		case monitor.KindTrain:
			if r.TokensPerS > 0 && !math.IsInf(r.TokensPerS, 0) {
				tps = append(tps, r.TokensPerS)
			}
		}
	}
	if res.Step < 0 {
		return nil, fmt.Errorf("run %s: its metrics log has no evaluation: the run did not finish", dir)
	}
	for _, t := range res.Tasks {
		if s, ok := metrics.TaskScore(t); ok {
			res.Scores[t.Task] = s
		}
	}
	res.Average, _ = metrics.Average(res.Tasks)
	if len(tps) > 0 {
		sort.Float64s(tps)
		res.TokensPerS = stat.Quantile(0.5, stat.Empirical, tps, nil)
	}
	return res, nil
}

// WriteResult writes r to dir/ResultFile atomically: the mark of a finished run.
func WriteResult(dir string, r *Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, ResultFile), append(b, '\n'))
}

// LoadResult reads dir/ResultFile; an error wrapping os.ErrNotExist means the run has
// not finished.
func LoadResult(dir string) (*Result, error) {
	path := filepath.Join(dir, ResultFile)
	b, err := fileio.ReadRegular(path, "run result", maxResult)
	if err != nil {
		return nil, err
	}
	var r Result
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %v; delete it and run the sweep again to redo the run's result", path, err)
	}
	return &r, nil
}

// Stat is a mean and sample standard deviation over N values (Std is 0 when N < 2).
type Stat struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	N    int     `json:"n"`
}

// NewStat summarises xs with gonum/stat.
func NewStat(xs []float64) Stat {
	s := Stat{N: len(xs)}
	switch len(xs) {
	case 0:
		return s
	case 1:
		s.Mean = xs[0]
	default:
		s.Mean, s.Std = stat.MeanStdDev(xs, nil)
	}
	return s
}

// String writes "61.20 ± 1.31" (or "61.20" for one value, "—" for none).
func (s Stat) String() string { return s.Format(2) }

// Format writes s with prec decimals.
func (s Stat) Format(prec int) string {
	switch {
	case s.N == 0:
		return "—"
	case s.N == 1:
		return fmt.Sprintf("%.*f", prec, s.Mean)
	}
	return fmt.Sprintf("%.*f ± %.*f", prec, s.Mean, prec, s.Std)
}

// Row is one grid point of a sweep's table, over its seeds.
type Row struct {
	// Group names the grid point ("composition=LG rows=8"); Sets its --set overrides.
	Group string   `json:"group"`
	Sets  []string `json:"sets"`
	// Runs are the finished runs averaged (one per seed).
	Runs []string `json:"runs"`
	// Tasks maps each task to its score over the seeds; Average is the GLUE-style
	// average's.
	Tasks   map[string]Stat `json:"tasks"`
	Average Stat            `json:"average"`
	// Params is the model's parameter count (the same for every seed).
	Params int64 `json:"params"`
	// TokensPerS is the training throughput over the seeds.
	TokensPerS Stat `json:"tokens_per_s"`
}

// Summary is a sweep's table.
type Summary struct {
	// Tasks are the table's task columns, in the runs' order.
	Tasks []string `json:"tasks"`
	// Rows holds one row per grid point, in the sweep's order.
	Rows []Row `json:"rows"`
	// Missing lists the runs without a result (failed or not run yet).
	Missing []string `json:"missing,omitempty"`
}

// Summarize groups the results of the sweep's runs (points, in order; results by run
// name, nil for a run without one) by grid point and averages them over the seeds.
func Summarize(axes []Axis, points []Point, results map[string]*Result) *Summary {
	s := &Summary{}
	byGroup := map[string]int{}
	scores := map[string]map[string][]float64{}
	var avgs, tps map[string][]float64 = map[string][]float64{}, map[string][]float64{}
	for _, p := range points {
		g := p.Group(axes)
		i, ok := byGroup[g]
		if !ok {
			i = len(s.Rows)
			byGroup[g] = i
			s.Rows = append(s.Rows, Row{Group: g, Sets: p.Sets, Tasks: map[string]Stat{}})
			scores[g] = map[string][]float64{}
		}
		r := results[p.Name]
		if r == nil {
			s.Missing = append(s.Missing, p.Name)
			continue
		}
		row := &s.Rows[i]
		row.Runs = append(row.Runs, p.Name)
		row.Params = r.Params
		for _, t := range r.Tasks {
			if !slices.Contains(s.Tasks, t.Task) {
				s.Tasks = append(s.Tasks, t.Task)
			}
			if v, ok := r.Scores[t.Task]; ok {
				scores[g][t.Task] = append(scores[g][t.Task], v)
			}
		}
		avgs[g] = append(avgs[g], r.Average)
		if r.TokensPerS > 0 {
			tps[g] = append(tps[g], r.TokensPerS)
		}
	}
	for i := range s.Rows {
		row := &s.Rows[i]
		for task, xs := range scores[row.Group] {
			row.Tasks[task] = NewStat(xs)
		}
		row.Average = NewStat(avgs[row.Group])
		row.TokensPerS = NewStat(tps[row.Group])
	}
	return s
}

// Markdown writes the table: a row per grid point, a column per task's score, the
// average, the parameter count, tokens/s and the number of seeds; each cell is the mean
// ± the standard deviation over the seeds.
func (s *Summary) Markdown() string {
	var b strings.Builder
	b.WriteString("| grid point |")
	for _, t := range s.Tasks {
		b.WriteString(" " + t + " |")
	}
	b.WriteString(" average | params | tokens/s | seeds |\n|---|")
	for range s.Tasks {
		b.WriteString("---:|")
	}
	b.WriteString("---:|---:|---:|---:|\n")
	for _, r := range s.Rows {
		fmt.Fprintf(&b, "| %s |", r.Group)
		for _, t := range s.Tasks {
			fmt.Fprintf(&b, " %s |", r.Tasks[t])
		}
		params := "—"
		if r.Params > 0 {
			params = fmt.Sprint(r.Params)
		}
		fmt.Fprintf(&b, " %s | %s | %s | %d |\n", r.Average, params, r.TokensPerS.Format(0), len(r.Runs))
	}
	b.WriteString("\nTask scores are GLUE-style dev scores (0-100, the mean of a task's metrics) at each run's last evaluation; mean ± sample standard deviation over seeds.\n")
	if len(s.Missing) > 0 {
		fmt.Fprintf(&b, "\nRuns without a result (failed or not run yet): %s\n", strings.Join(s.Missing, ", "))
	}
	return b.String()
}
