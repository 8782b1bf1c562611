package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/train"
)

func init() {
	register(&command{
		name:    "eval",
		summary: "evaluate a checkpoint on the dev split of each of its recipe's tasks (GLUE metrics)",
		run:     runEval,
	})
}

// checkpointDir accepts a checkpoint folder or a run's output folder holding one.
func checkpointDir(arg string) string {
	if _, err := os.Stat(filepath.Join(arg, checkpoint.ManifestFile)); err == nil {
		return arg
	}
	if inner := filepath.Join(arg, train.CheckpointDir); dirExists(inner) {
		return inner
	}
	return arg // Load reports what is wrong with it
}

func dirExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "CKPT [--data DIR] [--json] [--threads T]", stderr)
	dataDir := fs.String("data", "", "folder with the tasks in GLUE layout (default: the recipe's data.dir, else the embedded suite)")
	asJSON := fs.Bool("json", false, "print the metrics as one JSON object")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix kernels")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("eval takes one checkpoint (a run's output folder or its checkpoint folder)")
	}
	defer ops.SetThreads(ops.SetThreads(*threads))
	tc, err := loadTrained(rest[0])
	if err != nil {
		return err
	}
	c, dir, r, tok, m := tc.ckpt, tc.dir, tc.recipe, tc.tok, tc.model
	var table io.Writer = stdout
	if *asJSON {
		table = nil
	}
	res, avg, err := train.Evaluate(m, tok, r.Train, r.Data, *dataDir, table)
	if err != nil {
		return err
	}
	if *asJSON {
		out := map[string]any{"checkpoint": dir, "step": c.Step, "average": avg, "tasks": map[string]map[string]float64{}}
		for _, t := range res {
			out["tasks"].(map[string]map[string]float64)[t.Task] = t.Metrics
		}
		enc := json.NewEncoder(stdout)
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "checkpoint %s, step %d: GLUE-style average %.2f\n", dir, c.Step, avg)
	return nil
}
