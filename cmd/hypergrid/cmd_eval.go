package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/metrics"
	"github.com/hypergrid-go/hypergrid/monitor"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/train"
)

func init() {
	register(&command{
		name:    "eval",
		summary: "evaluate a checkpoint on the dev split of each of its tasks (GLUE metrics), with the data it was trained on",
		run:     runEval,
	})
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "CKPT [--data DIR] [--json] [--threads T]", stderr)
	dataDir := fs.String("data", "", "folder with the tasks in GLUE layout (default: the folder the run was trained on, else the recipe's data.dir, else the embedded suite)")
	asJSON := fs.Bool("json", false, "print the metrics as one JSON object")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix kernels")
	allowNonFinite := fs.Bool("allow-non-finite", false, "load NaN or infinite weights instead of refusing them (debugging)")
	memLimit := memoryLimitFlag(fs)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	limit, err := parseMemoryLimit(*memLimit)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("eval takes one checkpoint (a run's output folder or its checkpoint folder)")
	}
	if *threads <= 0 {
		return usageError("eval: --threads is %d; want a positive number", *threads)
	}
	defer ops.SetThreads(ops.SetThreads(*threads))
	tr, err := job.Open(rest[0], job.OpenOptions{AllowNonFinite: *allowNonFinite, MemoryLimit: limit})
	if err != nil {
		return err
	}
	pred, err := tr.Predictor()
	if err != nil {
		return err
	}
	dc := tr.DataConfig(*dataDir)
	tasks, err := train.ReadTasks(dc, train.SplitDev)
	if err != nil {
		return err
	}
	var results []metrics.TaskResult
	for _, t := range tasks {
		if t.Def.IsSpanCorruption() {
			continue // no dev split, no metric
		}
		r, err := pred.Evaluate(t.Def.Name, t.Dev, tr.Recipe.Train.EvalLimit)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	avg, _ := metrics.Average(results)
	step := tr.Checkpoint.Step
	if *asJSON {
		out := map[string]any{"checkpoint": tr.Dir, "step": step, "average": avg, "tasks": map[string]map[string]float64{}}
		if len(results) == 0 {
			out["average"] = nil // no task is scored (span corruption only)
		}
		for _, t := range results {
			out["tasks"].(map[string]map[string]float64)[t.Task] = t.Metrics
		}
		return json.NewEncoder(stdout).Encode(out)
	}
	if len(results) == 0 {
		fmt.Fprintf(stdout, "checkpoint %s, step %d: no task to evaluate (span corruption has no dev metric)\n", tr.Dir, step)
		return nil
	}
	if err := monitor.WriteEvalTable(stdout, step, results); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checkpoint %s, step %d: GLUE-style average %.2f\n", tr.Dir, step, avg)
	return nil
}
