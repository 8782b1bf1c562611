package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/internal/fileio"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/metrics"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/train"
)

// addTaskFlags are train's flags for adding a task to a trained model.
type addTaskFlags struct {
	from, task, taskFile *string
}

// addTaskFlagsOf adds --from, --add-task and --task-file to fs.
func addTaskFlagsOf(fs *flag.FlagSet) addTaskFlags {
	return addTaskFlags{
		from:     fs.String("from", "", "with --add-task: the trained run (or checkpoint folder) to add a task to"),
		task:     fs.String("add-task", "", "add this task to the model of --from, training only its own parameters (task embedding rows, head); a registered task, or one defined in --task-file"),
		taskFile: fs.String("task-file", "", "with --add-task: a YAML file with a tasks: list that defines the task (the keys of a data.tasks definition; dir relative to the file)"),
	}
}

// wanted reports whether any of the flags was given.
func (a addTaskFlags) wanted() bool { return *a.from != "" || *a.task != "" || *a.taskFile != "" }

// trainSettings are the train flags an add-task run uses.
type trainSettings struct {
	dataDir, outDir string
	steps           int
	force           bool
	sets            []string
	limit           job.MemoryLimit
	logLoss         bool
}

// runAddTask is "train --from RUN --add-task NEW": it adds NEW to the model of RUN in a
// new run, training only NEW's own parameters, and shows every task's dev metrics
// before and after: the old tasks' are the same to the bit.
func (a addTaskFlags) run(ts trainSettings, rest []string, stdout, stderr io.Writer) error {
	switch {
	case *a.from == "" || *a.task == "":
		return usageError("train: adding a task needs both --from RUN and --add-task NAME")
	case len(rest) > 0:
		return usageError("train --add-task takes no recipe: the run's own recipe (stored in --from) is used, with --set overrides (train.steps, train.lr, ...); define the task in --task-file")
	}
	ref, err := a.taskRef()
	if err != nil {
		return err
	}
	old, err := job.Open(*a.from, job.OpenOptions{MemoryLimit: ts.limit})
	if err != nil {
		return err
	}
	r, err := job.AddTaskRecipe(old, ref, ts.sets)
	if err != nil {
		var list recipe.ErrorList
		if errors.As(err, &list) {
			return recipeError(err)
		}
		return err
	}
	if err := job.CheckAddTask(r, ref.Name); err != nil {
		return fmt.Errorf("cannot add task %s to %s: %w", ref.Name, old.Dir, err)
	}
	out, err := outputDir(ts.outDir, ts.force, stderr)
	if err != nil {
		return err
	}
	dataDir := ts.dataDir
	if dataDir == "" {
		dataDir = old.Info.DataDir
	}
	// The old tasks' dev metrics before: the trained model, its data.
	before, err := evalWith(old, old.DataConfig(ts.dataDir), nil, nil)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	opts := job.Options{DataDir: dataDir, Steps: ts.steps, CheckpointDir: filepath.Join(out, checkpoint.CheckpointDir), MemoryLimit: ts.limit}
	s, trained, err := job.PrepareAddTask(r, ref.Name, old, opts)
	if err != nil {
		return fmt.Errorf("cannot add task %s to %s: %w", ref.Name, old.Dir, err)
	}
	n := 0
	var names []string
	for _, sl := range trained {
		n += sl.Hi - sl.Lo
		names = append(names, sl.Name())
	}
	fmt.Fprintf(stdout, "adding task %s to %s (tasks: %s) for %d steps; output in %s\n", ref.Name, old.Dir,
		strings.Join(old.Recipe.Data.TaskNames(), ", "), s.Recipe.Train.Steps, out)
	fmt.Fprintf(stdout, "training only task %s's own %d values (%s); every other parameter is frozen\n", ref.Name, n, strings.Join(names, ", "))
	if err := trainAddTask(s, out, ts.logLoss, stdout, stderr); err != nil {
		return err
	}
	return reportAddTask(s, old, before, ts.dataDir, stdout)
}

// taskRef returns the task to add: the definition named --add-task in --task-file, or
// the registered task of that name.
func (a addTaskFlags) taskRef() (train.TaskRef, error) {
	name := *a.task
	if *a.taskFile == "" {
		if _, ok := data.Lookup(name); !ok {
			return train.TaskRef{}, usageError("train --add-task: %q is not a registered task (known: %s); define it in a --task-file", name, strings.Join(data.TaskNames(), ", "))
		}
		return train.TaskByName(name), nil
	}
	src, err := fileio.ReadRegular(*a.taskFile, "task file", recipe.MaxFileBytes)
	if err != nil {
		return train.TaskRef{}, usageError("train --task-file: %v", err)
	}
	defs, err := data.DecodeTaskDefs(src, *a.taskFile)
	if err != nil {
		return train.TaskRef{}, usageError("%v", err)
	}
	i := slices.IndexFunc(defs, func(d data.TaskDef) bool { return d.Name == name })
	if i < 0 {
		var have []string
		for _, d := range defs {
			have = append(have, d.Name)
		}
		return train.TaskRef{}, usageError("train --add-task: %s defines no task %q (it defines %s)", *a.taskFile, name, strings.Join(have, ", "))
	}
	def := defs[i]
	if _, ok := data.Lookup(name); ok {
		return train.TaskRef{}, usageError("train --add-task: %q is the name of a registered task; give the task in %s another name", name, *a.taskFile)
	}
	if !filepath.IsAbs(def.Dir) {
		base, err := filepath.Abs(filepath.Dir(*a.taskFile))
		if err != nil {
			return train.TaskRef{}, err
		}
		def.Dir = filepath.Join(base, filepath.FromSlash(def.Dir))
	}
	return train.TaskRef{TaskDef: def}, nil
}

// trainAddTask runs the add-task run s into out, with the standard hooks.
func trainAddTask(s *job.Setup, out string, logLoss bool, stdout, stderr io.Writer) error {
	if err := checkpoint.WriteFileAtomic(filepath.Join(out, train.TokenizerFile), s.Tokenizer.Marshal()); err != nil {
		return err
	}
	mon, err := job.Attach(s.Trainer, job.Output{Dir: out, W: stdout, Best: true, LogLoss: logLoss})
	if err != nil {
		return err
	}
	ctx, stop := interruptContext(func() {
		fmt.Fprintf(stderr, "\nhypergrid: interrupted: finishing the step and saving a checkpoint (Ctrl-C again to quit at once)\n")
	})
	defer stop()
	_, err = s.Trainer.Run(ctx)
	if cerr := mon.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, train.ErrInterrupted) {
		fmt.Fprintf(stdout, "stopped at step %d of %d\ncontinue with: hypergrid train --out %s --resume\n", s.Trainer.Step(), s.Recipe.Train.Steps, out)
		return fmt.Errorf("%w at step %d", errInterrupted, s.Trainer.Step())
	}
	return err
}

// evalWith evaluates the dev splits of dc's tasks (or those in only) with pred (tr's
// own predictor when nil).
func evalWith(tr *job.Trained, dc train.DataConfig, only []string, pred *infer.Predictor) ([]metrics.TaskResult, error) {
	if only != nil {
		dc.Tasks = slices.DeleteFunc(slices.Clone(dc.Tasks), func(t train.TaskRef) bool { return !slices.Contains(only, t.Name) })
	}
	if pred == nil {
		var err error
		if pred, err = tr.Predictor(); err != nil {
			return nil, err
		}
	}
	tasks, err := train.ReadTasks(dc, train.SplitDev)
	if err != nil {
		return nil, err
	}
	var out []metrics.TaskResult
	for _, t := range tasks {
		res, err := pred.Evaluate(t.Def.Name, t.Dev, tr.Recipe.Train.EvalLimit)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

// reportAddTask evaluates every task of the new model and prints it next to the old
// model's metrics. An old task whose metrics differ is an error: adding a task
// promises to leave them as they were.
func reportAddTask(s *job.Setup, old *job.Trained, before []metrics.TaskResult, dataDir string, stdout io.Writer) error {
	defs, err := s.Recipe.Data.Defs()
	if err != nil {
		return err
	}
	enc := infer.Encoder{Tok: s.Tokenizer, MaxInputLen: s.Recipe.Train.MaxInputLen, MaxTargetLen: s.Recipe.Train.MaxTargetLen}
	pred, err := infer.NewPredictor(s.Model, enc, s.Recipe.Train.BatchSize, defs)
	if err != nil {
		return err
	}
	now := &job.Trained{Dir: old.Dir, Recipe: s.Recipe, Info: s.Info, Tokenizer: s.Tokenizer, Model: s.Model}
	after, err := evalWith(now, now.DataConfig(dataDir), nil, pred)
	if err != nil {
		return err
	}
	byTask := map[string]metrics.TaskResult{}
	for _, r := range before {
		byTask[r.Task] = r
	}
	fmt.Fprintf(stdout, "%-14s %10s %10s  %s\n", "task", "before", "after", "")
	var changed []string
	for _, r := range after {
		score, _ := metrics.TaskScore(r)
		b, ok := byTask[r.Task]
		if !ok {
			fmt.Fprintf(stdout, "%-14s %10s %10.2f  new task\n", r.Task, "-", score)
			continue
		}
		note := "unchanged (every metric equal)"
		for m, v := range b.Metrics {
			if r.Metrics[m] != v {
				note = "CHANGED"
				changed = append(changed, r.Task)
				break
			}
		}
		was, _ := metrics.TaskScore(b)
		fmt.Fprintf(stdout, "%-14s %10.2f %10.2f  %s\n", r.Task, was, score, note)
	}
	if avg, ok := metrics.Average(after); ok {
		fmt.Fprintf(stdout, "GLUE-style average of the %d tasks: %.2f\n", len(after), avg)
	}
	if len(changed) > 0 {
		return fmt.Errorf("adding task %s changed the dev metrics of %s: this is a bug, please report it", s.Info.AddTask, strings.Join(changed, ", "))
	}
	return nil
}

// resumeAddTask continues an add-task run (its checkpoint ckpt, in cdir, of the run
// folder out) where it stopped: only the new task's parameters train, as before.
func resumeAddTask(out string, ckpt *checkpoint.Checkpoint, cdir string, info job.Info, snap *recipe.Snapshot, ts trainSettings, stdout, stderr io.Writer) error {
	r, err := snap.Load(ts.sets...)
	if err != nil {
		return recipeError(fmt.Errorf("the run's stored recipe: %w", err))
	}
	opts := job.Options{DataDir: info.DataDir, Steps: info.Steps, Resume: ckpt, ResumeDir: cdir,
		CheckpointDir: filepath.Join(out, checkpoint.CheckpointDir), MemoryLimit: ts.limit}
	if ts.dataDir != "" {
		opts.DataDir = ts.dataDir
	}
	if ts.steps > 0 {
		opts.Steps = ts.steps
	}
	s, _, err := job.PrepareAddTask(r, info.AddTask, nil, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "resuming %s at step %d of %d: adding task %s, training only its own parameters\n", out, s.Trainer.Step(), s.Recipe.Train.Steps, info.AddTask)
	return trainAddTask(s, out, ts.logLoss, stdout, stderr)
}
