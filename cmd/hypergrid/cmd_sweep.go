package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/internal/sysmem"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/plots"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/sweep"
)

func init() {
	register(&command{
		name:    "sweep",
		summary: "train the cross product of recipe values (--grid) × seeds, resumably, and tabulate each task's dev score (mean ± std over seeds)",
		run:     runSweep,
	})
}

// The files a sweep writes into its folder besides the manifest and the runs' folders.
const (
	sweepTable = "sweep.md"
	sweepJSON  = "summary.json"
	sweepPlot  = "sweep.png"
	// runLog is each run's training output, in its folder.
	runLog = "train.log"
)

// sweepMemoryShare is the share of the machine's memory the concurrent runs of a sweep
// may plan to use together (by job.EstimateMemory).
const sweepMemoryShare = 0.8

// gridFlag collects --grid flags.
type gridFlag []sweep.Axis

func (g *gridFlag) String() string { return fmt.Sprint(*g) }

func (g *gridFlag) Set(v string) error {
	a, err := sweep.ParseAxis(v)
	if err != nil {
		return err
	}
	*g = append(*g, a)
	return nil
}

// sweepPlan is a validated sweep, ready to run.
type sweepPlan struct {
	recipe  string
	sets    []string
	steps   int
	data    string
	out     string
	axes    []sweep.Axis
	points  []sweep.Point
	params  map[string]int64 // by grid point (Point.Group)
	memory  int64            // the largest run's estimated training memory (0: unknown)
	threads int
	jobs    int
}

func runSweep(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sweep", "RECIPE --grid KEY=V1,V2,... [--grid ...] [--seeds N] [--jobs N] [--threads T] [--out DIR] [--steps N] [--data DIR] [--set KEY=VALUE]...", stderr)
	var grid gridFlag
	fs.Var(&grid, "grid", "a recipe key and the values to sweep, e.g. --grid model.ffn.composition=LG,GL,LL,GG (repeatable: the sweep runs the cross product)")
	seeds := fs.Int("seeds", 1, "runs per grid point, with train.seed = the recipe's seed, +1, +2, ...")
	jobs := fs.Int("jobs", 0, "runs at a time (default: what the cores and memory allow: cores / --threads, and the machine's memory over each run's estimate)")
	threads := fs.Int("threads", 0, "matrix-kernel goroutines per run (default: the cores shared among the concurrent runs)")
	outDir := fs.String("out", "", "the sweep's folder (default: runs/sweep-<date>-<time>); give a sweep's folder again to continue it")
	steps := fs.Int("steps", 0, "optimizer steps of every run (default: the recipe's train.steps)")
	dataDir := fs.String("data", "", "folder with the recipe's tasks in GLUE layout (default: the recipe's data.dir, else the embedded suite)")
	var sets setFlag
	fs.Var(&sets, "set", "override a recipe value in every run, e.g. --set train.lr=0.001 (repeatable)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) != 1:
		return usageError("sweep takes one recipe (a file, or a shipped one by name) and --grid flags")
	case len(grid) == 0:
		return usageError("sweep: give at least one --grid KEY=V1,V2,..., e.g. --grid model.ffn.composition=LG,GL")
	case *seeds < 1 || *seeds > sweep.MaxSeeds:
		return usageError("sweep: --seeds is %d; want 1 to %d", *seeds, sweep.MaxSeeds)
	case *jobs < 0:
		return usageError("sweep: --jobs is %d; want a positive number (leave it out to fit the machine)", *jobs)
	case *threads < 0:
		return usageError("sweep: --threads is %d; want a positive number (leave it out to share the cores)", *threads)
	case flagSet(fs, "steps") && *steps <= 0:
		return usageError("sweep: --steps is %d; want a positive number of steps (leave it out for the recipe's train.steps)", *steps)
	}
	plan, err := planSweep(rest[0], sets, grid, *seeds, *steps, *dataDir)
	if err != nil {
		return err
	}
	plan.out = *outDir
	if plan.out == "" {
		plan.out = filepath.Join(runsDir, "sweep-"+time.Now().Format("20060102-150405"))
	}
	m := &sweep.Manifest{Format: sweep.ManifestFormat, Recipe: plan.recipe, Sets: plan.sets, Grid: plan.axes,
		Seeds: seedList(plan.points), Steps: plan.steps, Data: plan.data, Runs: plan.points}
	resuming, err := openSweepDir(plan.out, m)
	if err != nil {
		return err
	}
	todo := 0
	for _, p := range plan.points {
		if _, err := sweep.LoadResult(filepath.Join(plan.out, p.Name)); err != nil {
			todo++
		}
	}
	plan.threads, plan.jobs = sweepConcurrency(*threads, *jobs, todo, plan.memory)
	verb := "sweep"
	if resuming {
		verb = "continuing sweep"
	}
	fmt.Fprintf(stdout, "%s of %d runs (%d grid points × %d seeds) in %s: %d to run, %d at a time, %d threads each\n",
		verb, len(plan.points), len(plan.points) / *seeds, *seeds, plan.out, todo, plan.jobs, plan.threads)

	ctx, stop := interruptContext(func() {
		fmt.Fprintf(stderr, "\nhypergrid: interrupted: stopping the runs under way at their next step (each saves a checkpoint)\n")
	})
	defer stop()
	failed := plan.run(ctx, stdout)

	results := map[string]*sweep.Result{}
	for _, p := range plan.points {
		if r, err := sweep.LoadResult(filepath.Join(plan.out, p.Name)); err == nil {
			results[p.Name] = r
		}
	}
	sum := sweep.Summarize(plan.axes, plan.points, results)
	plotted, err := writeSweepSummary(plan.out, sum)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%s\ntable: %s, %s", sum.Markdown(), filepath.Join(plan.out, sweepTable), filepath.Join(plan.out, sweepJSON))
	if plotted {
		fmt.Fprintf(stdout, "; plot: %s", filepath.Join(plan.out, sweepPlot))
	}
	fmt.Fprintln(stdout)
	if ctx.Err() != nil {
		fmt.Fprintf(stdout, "stopped with %d of %d runs finished; continue with the same command and --out %s\n", len(results), len(plan.points), plan.out)
		return fmt.Errorf("%w: sweep %s", errInterrupted, plan.out)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d runs failed: %s (each run's output is in its %s); run the sweep again to retry them",
			len(failed), len(plan.points), strings.Join(failed, "; "), runLog)
	}
	return nil
}

// planSweep loads the recipe at every grid point (with the --set flags, the point's
// values and its seed) and reports every point the recipe loader refuses, together,
// before anything runs; it records each point's parameter count and the largest
// training-memory estimate.
func planSweep(rec string, sets []string, grid []sweep.Axis, seeds, steps int, data string) (*sweepPlan, error) {
	base, err := loadRecipe(rec, sets)
	if err != nil {
		return nil, err
	}
	seedList := make([]uint64, seeds)
	for i := range seedList {
		seedList[i] = base.Train.Seed + uint64(i)
	}
	points, err := sweep.Points(grid, seedList)
	if err != nil {
		return nil, usageError("sweep: %v", err)
	}
	plan := &sweepPlan{recipe: rec, sets: sets, steps: steps, data: data, axes: grid, points: points, params: map[string]int64{}}
	var problems []string
	for _, p := range points {
		g := p.Group(grid)
		if _, done := plan.params[g]; done {
			continue
		}
		plan.params[g] = 0
		r, err := recipe.Load(rec, append(append(append([]string(nil), sets...), p.Sets...), "train.seed="+strconv.FormatUint(p.Seed, 10))...)
		if err != nil {
			var list recipe.ErrorList
			msg := err.Error()
			if errors.As(err, &list) {
				msg = joinErrors(list)
			}
			problems = append(problems, fmt.Sprintf("grid point %s:\n    %s", g, strings.ReplaceAll(msg, "\n", "\n    ")))
			continue
		}
		if steps > 0 {
			r.Train.Steps = steps
		}
		if err := job.CheckMemory(r, true, job.Auto); err != nil {
			problems = append(problems, fmt.Sprintf("grid point %s: %v", g, err))
			continue
		}
		e, ok, err := job.EstimateMemory(r, true)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("grid point %s: %v", g, err))
			continue
		case ok:
			plan.params[g] = e.Params
			plan.memory = max(plan.memory, e.Total)
		default: // a plugin layer that does not report its size: count by building
			m, err := r.Build(r.Train.Seed)
			if err != nil {
				problems = append(problems, fmt.Sprintf("grid point %s: %v", g, err))
				continue
			}
			plan.params[g] = int64(m.NumParams())
		}
	}
	if len(problems) > 0 {
		return nil, usageError("sweep: the grid does not suit recipe %s (nothing was run):\n  %s", rec, strings.Join(problems, "\n  "))
	}
	return plan, nil
}

func seedList(points []sweep.Point) []uint64 {
	var out []uint64
	for _, p := range points {
		if len(out) > 0 && p.Seed <= out[len(out)-1] {
			break
		}
		out = append(out, p.Seed)
	}
	return out
}

// openSweepDir makes the sweep's folder and writes its manifest, or checks that the
// folder's manifest asks the same sweep (resuming is then true). A folder that holds
// something else is refused.
func openSweepDir(dir string, m *sweep.Manifest) (resuming bool, err error) {
	old, err := sweep.ReadManifest(dir)
	if err == nil {
		if diff := old.Same(m); diff != "" {
			return false, usageError("%s holds another sweep (it has %s): give the same recipe, --grid, --seeds, --set, --steps and --data to continue it, or another --out", dir, diff)
		}
		return true, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if len(entries) > 0 {
		return false, usageError("%s is not empty and holds no sweep (%s): choose another --out", dir, sweep.ManifestFile)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("sweep folder: %w", err)
	}
	return false, sweep.WriteManifest(dir, m)
}

// sweepConcurrency picks the threads per run and the runs at a time: by default the
// cores shared among the runs (never more goroutines than cores in all), and no more
// concurrent runs than the machine's memory holds by the runs' estimate.
func sweepConcurrency(threads, jobs, todo int, memory int64) (int, int) {
	cores := runtime.NumCPU()
	want := max(1, todo)
	if jobs > 0 {
		want = min(want, jobs)
	}
	if threads == 0 {
		threads = max(1, cores/min(want, cores))
	}
	if jobs == 0 {
		jobs = max(1, min(want, cores/threads))
		if total, _, ok := sysmem.Total(); ok && memory > 0 {
			jobs = max(1, min(jobs, int(float64(total)*sweepMemoryShare/float64(memory))))
		}
	}
	return threads, jobs
}

// run trains the runs that have no result yet, plan.jobs at a time, each as a child
// process of this program ("hypergrid train": the same code path as a single run).
// It returns the failed runs; when ctx is cancelled it starts no more runs and
// interrupts those under way (each saves its checkpoint).
func (plan *sweepPlan) run(ctx context.Context, stdout io.Writer) (failed []string) {
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdout, format+"\n", args...)
	}
	slots := make(chan struct{}, plan.jobs)
	var wg sync.WaitGroup
	for i, p := range plan.points {
		dir := filepath.Join(plan.out, p.Name)
		if _, err := sweep.LoadResult(dir); err == nil {
			say("[%d/%d] %s: done already", i+1, len(plan.points), p.Name)
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			err := plan.runOne(ctx, i, p, say)
			if err != nil && ctx.Err() == nil {
				mu.Lock()
				failed = append(failed, fmt.Sprintf("%s: %v", p.Name, err))
				mu.Unlock()
				say("[%d/%d] %s: failed: %v", i+1, len(plan.points), p.Name, err)
			}
		}()
	}
	wg.Wait()
	return failed
}

// runOne trains (or resumes) one run and writes its result.
func (plan *sweepPlan) runOne(ctx context.Context, i int, p sweep.Point, say func(string, ...any)) error {
	dir := filepath.Join(plan.out, p.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	threads := strconv.Itoa(plan.threads)
	var args []string
	if _, err := checkpoint.Resolve(dir); err == nil {
		args = []string{"train", "--out", dir, "--resume", "--threads", threads}
		say("[%d/%d] %s: resuming", i+1, len(plan.points), p.Name)
	} else {
		args = []string{"train", plan.recipe, "--out", dir, "--force", "--threads", threads}
		for _, s := range plan.sets {
			args = append(args, "--set", s)
		}
		for _, s := range p.Sets {
			args = append(args, "--set", s)
		}
		args = append(args, "--set", "train.seed="+strconv.FormatUint(p.Seed, 10))
		if plan.steps > 0 {
			args = append(args, "--steps", strconv.Itoa(plan.steps))
		}
		if plan.data != "" {
			args = append(args, "--data", plan.data)
		}
		say("[%d/%d] %s: training", i+1, len(plan.points), p.Name)
	}
	logf, err := os.OpenFile(filepath.Join(dir, runLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n$ hypergrid %s\n", strings.Join(args, " "))
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find this program to start the run: %w", err)
	}
	child := exec.Command(exe, args...)
	// HYPERGRID_MAIN makes a test binary act as the command (see cmd_run_test.go).
	child.Env = append(os.Environ(), "HYPERGRID_MAIN=1")
	child.Stdout, child.Stderr = logf, logf
	configureChild(child)
	if err := child.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = interruptChild(child)
		err = <-done
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 130 {
			say("[%d/%d] %s: stopped (checkpoint saved)", i+1, len(plan.points), p.Name)
			return nil
		}
		return fmt.Errorf("%v (see %s)", err, filepath.Join(dir, runLog))
	}
	res, err := sweep.ReadRun(dir)
	if err != nil {
		return err
	}
	res.Sets, res.Seed, res.Params = p.Sets, p.Seed, plan.params[p.Group(plan.axes)]
	if err := sweep.WriteResult(dir, res); err != nil {
		return err
	}
	say("[%d/%d] %s: done at step %d, dev average %.2f", i+1, len(plan.points), p.Name, res.Step, res.Average)
	return nil
}

// writeSweepSummary writes the table (Markdown and JSON) and, when a run has finished,
// the plot of the average and each task's score per grid point (plotted says so).
func writeSweepSummary(dir string, sum *sweep.Summary) (plotted bool, err error) {
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, sweepTable), []byte(sum.Markdown())); err != nil {
		return false, err
	}
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return false, err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, sweepJSON), append(b, '\n')); err != nil {
		return false, err
	}
	var cats []string
	var series []plots.Series
	for _, task := range append(append([]string(nil), sum.Tasks...), "average") {
		s := plots.Series{Name: task}
		for _, r := range sum.Rows {
			st := r.Average
			if task != "average" {
				st = r.Tasks[task]
			}
			m := st.Mean
			if st.N == 0 {
				m = math.NaN()
			}
			s.Mean, s.Std = append(s.Mean, m), append(s.Std, st.Std)
		}
		series = append(series, s)
	}
	for _, r := range sum.Rows {
		cats = append(cats, r.Group)
	}
	err = plots.Options{}.Compare("Sweep: dev score per grid point (mean ± std over seeds)", "dev score (0-100)", cats, series, filepath.Join(dir, sweepPlot))
	if errors.Is(err, plots.ErrNoData) {
		return false, nil
	}
	return err == nil, err
}
