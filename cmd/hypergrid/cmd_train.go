package main

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"

	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/recipes"
	"github.com/hypergrid-go/hypergrid/train"
)

// defaultRecipe is what "hypergrid train" trains without a recipe argument.
const defaultRecipe = "default"

func init() {
	register(&command{
		name:    "train",
		summary: "train a multi-task model from a recipe (default: a HyperGrid T5 on the embedded suite) and print per-task dev metrics",
		run:     runTrain,
	})
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", "[RECIPE] [--data DIR] [--out DIR] [--steps N] [--resume] [--threads T] [--set KEY=VALUE]...", stderr)
	dataDir := fs.String("data", "", "folder with the recipe's tasks in GLUE layout (default: the recipe's data.dir, else the embedded suite)")
	outDir := fs.String("out", "runs/latest", "folder for the tokenizer, the JSONL metrics log and the plots")
	steps := fs.Int("steps", 0, "optimizer steps (default: the recipe's train.steps)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix kernels")
	resume := fs.Bool("resume", false, "continue the run in --out from its checkpoint, exactly where it stopped")
	var sets setFlag
	fs.Var(&sets, "set", "override a recipe value, e.g. --set train.lr=0.001 (repeatable)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usageError("train takes at most one recipe (a file, or a shipped one: %s)", strings.Join(recipes.Names(), ", "))
	}
	name := defaultRecipe
	if len(rest) == 1 {
		name = rest[0]
	}
	if *steps < 0 || *threads <= 0 {
		return usageError("train: --steps must not be negative and --threads must be positive")
	}
	r, err := loadRecipe(name, sets)
	if err != nil {
		return recipeError(err)
	}
	total := r.Train.Steps
	if *steps > 0 {
		total = *steps
	}
	fmt.Fprintf(stdout, "training %s (%s, %d tasks: %s) for %d steps; output in %s\n", name, r.Model.Arch,
		len(r.Data.Tasks), strings.Join(r.Data.Tasks, ", "), total, *outDir)
	src, err := sourceOf(name, r, sets)
	if err != nil {
		return err
	}
	res, err := train.Run(r.Train, r.Data, r.Tokenizer, train.Options{
		DataDir: *dataDir, OutDir: *outDir, Steps: *steps, Threads: *threads, Out: stdout,
		Resume: *resume, Recipe: src,
		Build: func(vocab int) (*model.Model, error) { return r.Build(r.Train.Seed) },
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "done: %d steps", res.Steps)
	if res.Skipped > 0 {
		fmt.Fprintf(stdout, " (%d skipped: non-finite loss)", res.Skipped)
	}
	fmt.Fprintf(stdout, "; GLUE-style average %.1f\n", res.Average)
	for _, t := range res.Eval {
		fmt.Fprintf(stdout, "task %s", t.Task)
		for _, m := range sortedKeys(t.Metrics) {
			fmt.Fprintf(stdout, " %s=%.2f", m, t.Metrics[m])
		}
		fmt.Fprintln(stdout)
	}
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
