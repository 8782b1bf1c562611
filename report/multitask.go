// Package report compares finished runs: one multi-task model against per-task models
// (Multitask), task by task, with the seed noise taken into account.
package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/hypergrid-go/hypergrid/sweep"
)

// NoiseSEs is the rule for negative transfer: the multi-task model's mean score on a
// task is below the per-task models' by more than NoiseSEs standard errors of the
// difference of the means (Welch: sqrt(s_m²/n_m + s_s²/n_s), the sample variances over
// seeds; a side with one seed takes the other side's variance).
const NoiseSEs = 2

// Verdicts of a task's comparison.
const (
	// VerdictNegative: the multi-task model is worse beyond the seed noise.
	VerdictNegative = "negative transfer"
	// VerdictWithinNoise: worse, but within the seed noise.
	VerdictWithinNoise = "worse, within noise"
	// VerdictUnknownNoise: worse, with one seed on each side (no noise estimate).
	VerdictUnknownNoise = "worse (1 seed each: noise unknown)"
	// VerdictNotWorse: the multi-task model is as good or better.
	VerdictNotWorse = "no loss"
)

// Side is one configuration's runs (one per seed): the multi-task model's, or the
// per-task model of one task.
type Side struct {
	// Runs are the run folders, one per seed.
	Runs []string `json:"runs"`
	// Results are their results (sweep.ReadRun), in Runs' order.
	Results []*sweep.Result `json:"-"`
	// Params is the model's parameter count.
	Params int64 `json:"params"`
}

// scores returns the side's scores of task, one per run that evaluated it.
func (s *Side) scores(task string) []float64 {
	var out []float64
	for _, r := range s.Results {
		if v, ok := r.Scores[task]; ok {
			out = append(out, v)
		}
	}
	return out
}

// tasks returns the tasks the side's runs were evaluated on, in order.
func (s *Side) tasks() []string {
	var out []string
	for _, r := range s.Results {
		for _, t := range r.Tasks {
			if !slices.Contains(out, t.Task) {
				out = append(out, t.Task)
			}
		}
	}
	return out
}

// TaskRow is one task of a multi-task report.
type TaskRow struct {
	Task string `json:"task"`
	// Multi and Single are the task's scores (0-100) over the seeds.
	Multi  sweep.Stat `json:"multi"`
	Single sweep.Stat `json:"single"`
	// Diff is Multi.Mean - Single.Mean; Noise the standard error of that difference
	// (0 when unknown).
	Diff  float64 `json:"diff"`
	Noise float64 `json:"noise"`
	// SingleRuns are the per-task runs and SingleParams their model's parameters.
	SingleRuns   []string `json:"single_runs"`
	SingleParams int64    `json:"single_params"`
	// Verdict is one of the Verdict constants; Negative is set for VerdictNegative.
	Verdict  string `json:"verdict"`
	Negative bool   `json:"negative_transfer"`
}

// Multitask is the report of one multi-task model against per-task models.
type Multitask struct {
	// Multi is the multi-task model's side.
	Multi Side `json:"multi"`
	// Tasks holds a row per task of the multi-task model that a per-task run covers.
	Tasks []TaskRow `json:"tasks"`
	// Uncovered lists the multi-task model's tasks with no per-task run.
	Uncovered []string `json:"uncovered,omitempty"`
	// MultiAverage and SingleAverage are the means of Tasks' multi-task and per-task
	// scores.
	MultiAverage  float64 `json:"multi_average"`
	SingleAverage float64 `json:"single_average"`
	// SingleModels is the number of distinct per-task models and SingleParams their
	// parameters together.
	SingleModels int   `json:"single_models"`
	SingleParams int64 `json:"single_params"`
	// Rule says how the verdicts were reached.
	Rule string `json:"rule"`
}

// Compare builds the report of multi against singles (each per-task configuration
// with its seeds). Each single side's tasks are matched to the multi-task model's;
// a task that two single sides cover, or a single side that covers none of the
// multi-task model's tasks, is an error.
func Compare(multi Side, singles []Side) (*Multitask, error) {
	rep := &Multitask{Multi: multi, Rule: fmt.Sprintf("negative transfer: the multi-task mean is below the per-task mean by more than %d standard errors of the difference (Welch, sample std over seeds; a side with one seed takes the other's variance)", NoiseSEs)}
	mtasks := multi.tasks()
	covered := map[string]int{}
	for i, s := range singles {
		n := 0
		for _, task := range s.tasks() {
			if !slices.Contains(mtasks, task) {
				continue
			}
			if j, dup := covered[task]; dup {
				return nil, fmt.Errorf("task %s is covered by two per-task runs (%s and %s): give one per task", task, strings.Join(singles[j].Runs, ","), strings.Join(s.Runs, ","))
			}
			covered[task] = i
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("per-task run %s was evaluated on %v, none of the multi-task model's tasks (%v)", strings.Join(s.Runs, ","), s.tasks(), mtasks)
		}
	}
	seen := map[int]bool{}
	var msum, ssum float64
	for _, task := range mtasks {
		i, ok := covered[task]
		if !ok {
			rep.Uncovered = append(rep.Uncovered, task)
			continue
		}
		s := singles[i]
		if !seen[i] {
			seen[i] = true
			rep.SingleModels++
			rep.SingleParams += s.Params
		}
		row := compareTask(task, multi.scores(task), s.scores(task))
		row.SingleRuns, row.SingleParams = s.Runs, s.Params
		rep.Tasks = append(rep.Tasks, row)
		msum += row.Multi.Mean
		ssum += row.Single.Mean
	}
	if n := len(rep.Tasks); n > 0 {
		rep.MultiAverage, rep.SingleAverage = msum/float64(n), ssum/float64(n)
	}
	return rep, nil
}

// compareTask compares one task's scores over seeds.
func compareTask(task string, m, s []float64) TaskRow {
	row := TaskRow{Task: task, Multi: sweep.NewStat(m), Single: sweep.NewStat(s)}
	row.Diff = row.Multi.Mean - row.Single.Mean
	vm, vs := row.Multi.Std*row.Multi.Std, row.Single.Std*row.Single.Std
	if row.Multi.N < 2 {
		vm = vs
	}
	if row.Single.N < 2 {
		vs = vm
	}
	if row.Multi.N > 0 && row.Single.N > 0 {
		row.Noise = math.Sqrt(vm/float64(row.Multi.N) + vs/float64(row.Single.N))
	}
	switch {
	case !(row.Diff < 0):
		row.Verdict = VerdictNotWorse
	case row.Multi.N < 2 && row.Single.N < 2:
		row.Verdict = VerdictUnknownNoise
	case -row.Diff > NoiseSEs*row.Noise:
		row.Verdict, row.Negative = VerdictNegative, true
	default:
		row.Verdict = VerdictWithinNoise
	}
	return row
}

// Markdown writes the report: a row per task, the averages, the parameters (one
// model against N) and the rule.
func (r *Multitask) Markdown() string {
	var b strings.Builder
	b.WriteString("| task | multi-task | per-task | difference | noise (1 SE) | per-task params | verdict |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, t := range r.Tasks {
		verdict := t.Verdict
		if t.Negative {
			verdict = "**" + verdict + "**"
		}
		noise := "—"
		if t.Noise > 0 {
			noise = fmt.Sprintf("%.2f", t.Noise)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %+.2f | %s | %d | %s |\n", t.Task, t.Multi, t.Single, t.Diff, noise, t.SingleParams, verdict)
	}
	if len(r.Tasks) > 0 {
		fmt.Fprintf(&b, "| average | %.2f | %.2f | %+.2f | | | |\n", r.MultiAverage, r.SingleAverage, r.MultiAverage-r.SingleAverage)
	}
	ratio := 0.0
	if r.Multi.Params > 0 {
		ratio = float64(r.SingleParams) / float64(r.Multi.Params)
	}
	fmt.Fprintf(&b, "\nParameters: 1 multi-task model, %d; %d per-task models, %d together (%.2f×).\n", r.Multi.Params, r.SingleModels, r.SingleParams, ratio)
	fmt.Fprintf(&b, "Scores are GLUE-style dev scores (0-100) at each run's last evaluation, mean ± std over %d multi-task seed(s). Rule: %s.\n", len(r.Multi.Runs), r.Rule)
	if len(r.Uncovered) > 0 {
		fmt.Fprintf(&b, "Tasks without a per-task run: %s.\n", strings.Join(r.Uncovered, ", "))
	}
	return b.String()
}
