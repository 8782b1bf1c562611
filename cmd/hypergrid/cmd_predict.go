package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/ops"
)

func init() {
	register(&command{
		name:    "predict",
		summary: "answer a task with a checkpoint: texts from the arguments, or JSONL field values on stdin -> JSONL on stdout",
		run:     func(args []string, stdout, stderr io.Writer) error { return runPredict(args, os.Stdin, stdout, stderr) },
	})
}

func runPredict(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("predict", "CKPT --task T [TEXT...] | CKPT --glue-submit DIR [--data DIR] [--task T]", stderr)
	task := fs.String("task", "", "the task to answer (one of the tasks the checkpoint was trained on)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix kernels")
	memLimit := memoryLimitFlag(fs)
	glueDir := fs.String("glue-submit", "", "write GLUE submission files (SST-2.tsv, MNLI-m.tsv, ...) of the checkpoint's GLUE tasks' test splits into this folder")
	dataDir := fs.String("data", "", "with --glue-submit: the GLUE folder holding the test files (default: the data the run was trained on)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	limit, err := parseMemoryLimit(*memLimit)
	if err != nil {
		return err
	}
	if *glueDir != "" {
		if len(rest) != 1 {
			return usageError("predict --glue-submit takes a checkpoint and no texts: it answers the GLUE tasks' test splits")
		}
	} else {
		if *dataDir != "" {
			return usageError("predict: --data goes with --glue-submit (texts to answer come from the arguments or stdin)")
		}
		if len(rest) < 1 || *task == "" {
			return usageError("predict needs a checkpoint and --task; texts come from the arguments or, as JSONL objects of input fields, from stdin")
		}
	}
	if *threads <= 0 {
		return usageError("predict: --threads is %d; want a positive number", *threads)
	}
	defer ops.SetThreads(ops.SetThreads(*threads))
	tr, err := job.Open(rest[0], job.OpenOptions{MemoryLimit: limit})
	if err != nil {
		return err
	}
	pred, err := tr.Predictor()
	if err != nil {
		return err
	}
	if *glueDir != "" {
		return glueSubmit(tr, pred, *task, *dataDir, *glueDir, stdout)
	}
	t, err := pred.Task(*task)
	if err != nil {
		if tr.SpanTask(*task) {
			return usageError("task %s is a span-corruption task: the model learnt to fill in masked spans, and there are no labels to predict; to see what it writes, run: hypergrid generate %s --input TEXT", *task, rest[0])
		}
		return usageError("%v (checkpoint %s)", err, tr.Dir)
	}
	inputs, err := predictInputs(&t.Def, rest[1:], stdin)
	if err != nil {
		return err
	}
	preds, err := pred.Predict(*task, inputs)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for i, p := range preds {
		if err := enc.Encode(map[string]any{"task": *task, "input": inputs[i], "prediction": p.Text, "class": p.Class, "value": p.Value}); err != nil {
			return err
		}
	}
	return nil
}

// predictInputs builds the task's input texts: one per argument for a one-field task,
// else one per JSONL object of input field values read from stdin (blank lines skipped).
// Errors name the argument or the stdin line at fault.
func predictInputs(def *data.TaskDef, texts []string, stdin io.Reader) ([]string, error) {
	var fields []map[string]string
	where := func(i int) string { return fmt.Sprintf("argument %d", i+1) }
	if len(texts) > 0 {
		if len(def.Inputs) != 1 {
			return nil, usageError("task %s has %d input fields (%s): give them as JSONL objects on stdin", def.Name, len(def.Inputs), strings.Join(def.InputNames(), ", "))
		}
		for _, t := range texts {
			fields = append(fields, map[string]string{def.Inputs[0].Name: t})
		}
	} else {
		var lines []int
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for line := 1; sc.Scan(); line++ {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			var v map[string]string
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil || v == nil {
				if err == nil {
					err = errors.New("got null")
				}
				return nil, fmt.Errorf("stdin:%d: want a JSON object of the task's input fields (%s) with string values: %v", line, strings.Join(def.InputNames(), ", "), err)
			}
			fields = append(fields, v)
			lines = append(lines, line)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("stdin: %w", err)
		}
		if len(fields) == 0 {
			return nil, fmt.Errorf("stdin: no input: give the texts as arguments or JSONL objects of the fields %s on stdin", strings.Join(def.InputNames(), ", "))
		}
		where = func(i int) string { return fmt.Sprintf("stdin:%d", lines[i]) }
	}
	inputs := make([]string, 0, len(fields))
	for i, f := range fields {
		text, err := def.InputText(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where(i), err)
		}
		inputs = append(inputs, text)
	}
	return inputs, nil
}
