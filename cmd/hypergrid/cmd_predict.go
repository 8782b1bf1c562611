package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/tokenizer"
	"github.com/hypergrid-go/hypergrid/train"
)

func init() {
	register(&command{
		name:    "predict",
		summary: "answer a task with a checkpoint: texts from the arguments, or JSONL field values on stdin -> JSONL on stdout",
		run:     func(args []string, stdout, stderr io.Writer) error { return runPredict(args, os.Stdin, stdout, stderr) },
	})
}

func runPredict(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("predict", "CKPT --task T [TEXT...]", stderr)
	task := fs.String("task", "", "the task to answer (one of the checkpoint's recipe's tasks)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix kernels")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) < 1 || *task == "" {
		return usageError("predict needs a checkpoint and --task; texts come from the arguments or, as JSONL objects of input fields, from stdin")
	}
	def, ok := data.Lookup(*task)
	if !ok {
		return usageError("unknown task %q; known: %s", *task, strings.Join(data.TaskNames(), ", "))
	}
	defer ops.SetThreads(ops.SetThreads(*threads))
	dir := checkpointDir(rest[0])
	c, err := checkpoint.Load(dir)
	if err != nil {
		return err
	}
	r, err := loadStoredRecipe(c.State["recipe"])
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	tok, err := tokenizer.Parse(c.Files["tokenizer.model"])
	if err != nil {
		return fmt.Errorf("checkpoint %s: tokenizer: %w", dir, err)
	}
	m, err := r.Build(r.Train.Seed)
	if err != nil {
		return err
	}
	if err := train.LoadModelWeights(m, c, dir); err != nil {
		return err
	}
	// Inputs: one text per argument for a one-field task, else JSONL objects on stdin.
	var inputs []string
	var fields []map[string]string
	if texts := rest[1:]; len(texts) > 0 {
		if len(def.Inputs) != 1 {
			return usageError("task %s has %d input fields (%s): give them as JSONL objects on stdin", *task, len(def.Inputs), strings.Join(def.InputNames(), ", "))
		}
		for _, t := range texts {
			fields = append(fields, map[string]string{def.Inputs[0].Name: t})
		}
	} else {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for line := 1; sc.Scan(); line++ {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			var v map[string]string
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				return fmt.Errorf("stdin:%d: want a JSON object of the task's input fields (%s): %v", line, strings.Join(def.InputNames(), ", "), err)
			}
			fields = append(fields, v)
		}
		if err := sc.Err(); err != nil {
			return err
		}
	}
	for i, f := range fields {
		text, err := def.InputText(f)
		if err != nil {
			return fmt.Errorf("input %d: %w", i+1, err)
		}
		inputs = append(inputs, text)
	}
	preds, err := train.Predict(m, tok, r.Train, *task, inputs)
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
