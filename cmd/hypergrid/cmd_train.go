package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/dist"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/recipes"
	"github.com/hypergrid-go/hypergrid/train"
)

// defaultRecipe is what "hypergrid train" trains without a recipe argument.
const defaultRecipe = "default"

// runsDir is the folder that holds the runs made without --out, and runs/latest.
const runsDir = "runs"

func init() {
	register(&command{
		name:    "train",
		summary: "train a multi-task model from a recipe (default: a HyperGrid T5 on the embedded suite) and print per-task dev metrics",
		run:     runTrain,
	})
}

// errInterrupted ends a run stopped by SIGINT or SIGTERM after its checkpoint was
// written: exit status 130, as a shell reports a command ended by Ctrl-C.
var errInterrupted = errors.New("interrupted")

// interruptContext returns a context cancelled by the first SIGINT or SIGTERM, after
// notice (when not nil) is called. After that signal the default handling is back, so
// a second Ctrl-C ends the program at once. stop releases the signals.
func interruptContext(notice func()) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-ch:
			signal.Stop(ch)
			if notice != nil {
				notice()
			}
			cancel()
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel()
		})
	}
}

// flagSet reports whether the flag called name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// trainOn is "hypergrid train" on one rank of comm's job (see runTrain).
func trainOn(comm dist.Comm, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", "[RECIPE] [--data DIR] [--out DIR] [--steps N] [--resume] [--force] [--threads T] [--set KEY=VALUE]... | --from RUN --add-task NAME [--task-file FILE] [--out DIR] [--steps N] [--set KEY=VALUE]...", stderr)
	dataDir := fs.String("data", "", "folder with the recipe's tasks in GLUE layout (default: the recipe's data.dir, else the embedded suite)")
	outDir := fs.String("out", "", "the run's output folder (default: a new folder runs/<date>-<time>, linked as runs/latest)")
	steps := fs.Int("steps", 0, "optimizer steps (default: the recipe's train.steps; with --resume, the run's)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix kernels (divided among the model replicas of train.replicas)")
	resume := fs.Bool("resume", false, "continue the run in --out (default runs/latest) from its checkpoint, exactly where it stopped, with its recipe, data and steps")
	force := fs.Bool("force", false, "start a new run in an --out that holds one, deleting its checkpoints, log and plots")
	var sets setFlag
	fs.Var(&sets, "set", "override a recipe value, e.g. --set train.lr=0.001 (repeatable)")
	logLoss := fs.Bool("log-loss", false, "draw loss.png with a log-scale loss axis")
	memLimit := memoryLimitFlag(fs)
	addTask := addTaskFlagsOf(fs)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	limit, err := parseMemoryLimit(*memLimit)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usageError("train takes at most one recipe (a file, or a shipped one: %s)", strings.Join(recipes.Names(), ", "))
	}
	if flagSet(fs, "steps") && *steps <= 0 {
		return usageError("train: --steps is %d; want a positive number of steps (leave it out for the recipe's train.steps)", *steps)
	}
	if *threads <= 0 {
		return usageError("train: --threads is %d; want a positive number", *threads)
	}
	if *resume && *force {
		return usageError("train: --resume continues the run in --out and --force deletes it: give one of them")
	}
	defer ops.SetThreads(ops.SetThreads(*threads))
	addTaskSettings := trainSettings{dataDir: *dataDir, outDir: *outDir, steps: *steps, force: *force, sets: sets, limit: limit, logLoss: *logLoss}
	if addTask.wanted() {
		if *resume || comm.Size() > 1 {
			return usageError("train --add-task starts a new run on one process: leave out --resume (to continue an add-task run, give --out RUN --resume alone) and MPI")
		}
		return addTask.run(addTaskSettings, rest, stdout, stderr)
	}
	if comm.Rank() != 0 {
		stdout = io.Discard // rank 0 reports the run
	}

	var (
		r     *recipe.Recipe
		name  string
		out   string
		ckpt  *checkpoint.Checkpoint
		cdir  string
		opts  job.Options
		notes []string
	)
	if *resume {
		out = *outDir
		if out == "" {
			out = filepath.Join(runsDir, job.LatestLink)
		}
		ckpt, cdir, err = loadResolvedRanked(comm, out)
		if errors.Is(err, checkpoint.ErrNoCheckpoint) {
			start := "hypergrid train [RECIPE]"
			if *outDir != "" {
				start += " --out " + out
			}
			return fmt.Errorf("nothing to resume in %s (%w); start a run with: %s", out, err, start)
		}
		if err != nil {
			return fmt.Errorf("cannot resume %s: %w", out, err)
		}
		if filepath.Base(cdir) != checkpoint.CheckpointDir {
			return usageError("train --resume takes a run's output folder (it holds %s/), not a checkpoint folder: use --out %s", checkpoint.CheckpointDir, filepath.Dir(cdir))
		}
		info, snap, err := job.Stored(ckpt)
		if err != nil {
			return fmt.Errorf("checkpoint %s: %w", cdir, err)
		}
		if info.AddTask != "" {
			if len(rest) > 0 || comm.Size() > 1 {
				return usageError("train --resume: %s is a run that adds task %s; it resumes with its own recipe, on one process", out, info.AddTask)
			}
			return resumeAddTask(out, ckpt, cdir, info, snap, addTaskSettings, stdout, stderr)
		}
		if change := job.RanksChange(info, comm.Size()); change != "" {
			notes = append(notes, change)
		}
		if len(rest) == 1 {
			name = rest[0]
			if r, err = loadRecipe(name, sets); err != nil {
				return err
			}
			notes = append(notes, fmt.Sprintf("recipe %s (given; the run's own was %s)", name, snap.Main))
		} else {
			name = snap.Main
			if r, err = snap.Load(sets...); err != nil {
				return recipeError(fmt.Errorf("the run's stored recipe: %w", err))
			}
			note := fmt.Sprintf("recipe %s (stored in the checkpoint", snap.Main)
			if len(snap.Sets) > 0 {
				note += "; --set " + strings.Join(snap.Sets, " --set ")
			}
			if len(sets) > 0 {
				note += "; now also --set " + strings.Join(sets, " --set ")
			}
			notes = append(notes, note+")")
		}
		opts = job.Options{DataDir: info.DataDir, Steps: info.Steps, Resume: ckpt, ResumeDir: cdir}
		if *dataDir != "" {
			opts.DataDir = *dataDir
			notes = append(notes, "data "+*dataDir+" (given)")
		} else if info.DataDir != "" {
			notes = append(notes, "data "+info.DataDir+" (the run's)")
		}
		if flagSet(fs, "steps") {
			opts.Steps = *steps
			notes = append(notes, fmt.Sprintf("%d steps (given; the run's were %d)", *steps, info.Steps))
		}
	} else {
		name = defaultRecipe
		if len(rest) == 1 {
			name = rest[0]
		}
		if r, err = loadRecipe(name, sets); err != nil {
			return err
		}
		out = *outDir
		if comm.Rank() == 0 { // rank 0 makes or checks the folder and tells the others
			if out, err = outputDir(out, *force, stderr); err != nil {
				return err
			}
		}
		if out, err = dist.BroadcastString(comm, out, 0, maxOutPath); err != nil {
			return err
		}
		opts = job.Options{DataDir: *dataDir, Steps: *steps}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	opts.CheckpointDir = filepath.Join(out, checkpoint.CheckpointDir)
	opts.MemoryLimit = limit
	opts.Comm = comm
	s, err := job.Prepare(r, opts)
	if err != nil {
		var list recipe.ErrorList
		if errors.As(err, &list) {
			return recipeError(err)
		}
		return err
	}
	if s.Init != nil {
		fmt.Fprintf(stdout, "starting from %s: %d parameters from the checkpoint, %d new\n", s.Init.Dir, len(s.Init.Loaded), len(s.Init.Fresh))
		for _, w := range s.Init.Warnings() {
			fmt.Fprintf(stderr, "hypergrid: warning: %s\n", w)
		}
	}
	if *resume {
		fmt.Fprintf(stdout, "resuming %s at step %d of %d: %s\n", out, s.Trainer.Step(), s.Recipe.Train.Steps, strings.Join(notes, ", "))
	} else {
		fmt.Fprintf(stdout, "training %s (%s, %d tasks: %s) for %d steps; output in %s\n", name, r.Model.Arch,
			len(r.Data.Tasks), strings.Join(r.Data.TaskNames(), ", "), r.Train.Steps, out)
	}
	if c, t := s.Recipe.Train, ops.Threads(); c.Reps() > 1 {
		fmt.Fprintf(stdout, "%d model replicas, side by side, %d kernel thread(s) each (train.replicas)\n", c.Reps(), train.ThreadsPerReplica(t, c.Reps()))
	} else if t > 1 && comm.Size() == 1 && replicasFit(c, t) {
		fmt.Fprintf(stdout, "%d kernel threads split each product; --set train.replicas=%d runs %d model replicas side by side instead, usually faster (the numbers then differ to float rounding)\n", t, t, t)
	}
	if comm.Size() > 1 {
		c := s.Recipe.Train
		fmt.Fprintf(stdout, "data parallel over %d ranks: global batch %d, micro-batches of up to %d examples per rank (train.grad_accum %d)\n",
			comm.Size(), c.BatchSize, c.MicroBatch(comm.Size()), c.Accum())
	}
	if comm.Rank() == 0 { // rank 0 writes the run's files
		if err := checkpoint.WriteFileAtomic(filepath.Join(out, train.TokenizerFile), s.Tokenizer.Marshal()); err != nil {
			return err
		}
	}
	mon, err := job.Attach(s.Trainer, job.Output{Dir: out, W: stdout, Best: true, LogLoss: *logLoss})
	if err != nil {
		return err
	}
	ctx, stop := interruptContext(func() {
		fmt.Fprintf(stderr, "\nhypergrid: interrupted: finishing the step and saving a checkpoint (Ctrl-C again to quit at once)\n")
	})
	defer stop()
	res, err := s.Trainer.Run(ctx)
	if cerr := mon.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, train.ErrInterrupted) {
		fmt.Fprintf(stdout, "stopped at step %d of %d; checkpoint in %s\ncontinue with: hypergrid train --out %s --resume\n",
			s.Trainer.Step(), s.Recipe.Train.Steps, opts.CheckpointDir, out)
		return fmt.Errorf("%w at step %d", errInterrupted, s.Trainer.Step())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "done: %d steps", res.Steps)
	if res.Skipped > 0 {
		fmt.Fprintf(stdout, " (%d skipped: non-finite loss)", res.Skipped)
	}
	if len(res.Eval) == 0 {
		// Span-corruption tasks are trained, not evaluated: no score to average.
		fmt.Fprintf(stdout, "; no task is evaluated (span corruption has no dev metric)\n")
	} else {
		fmt.Fprintf(stdout, "; GLUE-style average %.1f\n", res.Average)
	}
	if rs := s.Trainer.ReduceStats(); rs.Steps > 0 && comm.Size() > 1 {
		fmt.Fprintf(stdout, "allreduce over %d ranks: %.1f MiB of gradients per step, %.1f ms per step on average\n",
			comm.Size(), float64(rs.Bytes)/float64(rs.Steps)/(1<<20), float64(rs.Time.Microseconds())/1000/float64(rs.Steps))
	}
	for _, t := range res.Eval {
		fmt.Fprintf(stdout, "task %s", t.Task)
		for _, m := range sortedKeys(t.Metrics) {
			fmt.Fprintf(stdout, " %s=%.2f", m, t.Metrics[m])
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "output in %s\n", out)
	return nil
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// outputDir returns the folder a new run writes to: out after checking that it holds
// no run (unless force), or a new runs/<date>-<time> when out is empty.
func outputDir(out string, force bool, stderr io.Writer) (string, error) {
	if out == "" {
		out, warn, err := job.NewDir(runsDir, time.Now())
		if err != nil {
			return "", err
		}
		if warn != nil {
			fmt.Fprintf(stderr, "hypergrid: warning: %v\n", warn)
		}
		return out, nil
	}
	if err := job.CheckOut(out, force); err != nil {
		if errors.Is(err, job.ErrOutExists) {
			return "", usageError("%v", err)
		}
		return "", err
	}
	return out, nil
}

// replicasFit reports whether training section c stays valid with train.replicas set
// to replicas (every part of a micro-batch gets an example).
func replicasFit(c train.Config, replicas int) bool {
	c.Replicas = replicas
	return len(c.Validate()) == 0
}
