package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hypergrid-go/hypergrid/hf"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/train"
)

func init() {
	register(&command{
		name:    "export",
		summary: "export a checkpoint as a Hugging Face T5 folder: export hf CKPT --out DIR [--task T]",
		run:     runExport,
	})
}

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "hf CKPT --out DIR [--task T] [--force]", stderr)
	out := fs.String("out", "", "the folder to write config.json, model.safetensors and the tokenizer into (required)")
	task := fs.String("task", "", "the task whose HyperGrid gates are folded into the weights (task_embedding gates)")
	force := fs.Bool("force", false, "replace a model already exported into --out")
	memLimit := memoryLimitFlag(fs)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 || rest[0] != "hf" {
		return usageError("export takes a format and a checkpoint: export hf CKPT --out DIR (the only format is hf, a Hugging Face T5 folder)")
	}
	if *out == "" {
		return usageError("export needs --out DIR, the folder to write")
	}
	limit, err := parseMemoryLimit(*memLimit)
	if err != nil {
		return err
	}
	if !*force {
		for _, f := range []string{hf.ConfigFile, hf.WeightsFile, hf.WeightsIndexFile} {
			if _, err := os.Lstat(filepath.Join(*out, f)); err == nil {
				return usageError("export: %s already holds a model (%s): choose another --out, or add --force to replace it", *out, f)
			}
		}
	}
	tr, err := job.Open(rest[1], job.OpenOptions{MemoryLimit: limit})
	if err != nil {
		return err
	}
	opts := hf.ExportOptions{Task: *task, Tokenizer: tr.Checkpoint.Files[train.TokenizerFile], ExtraIDs: tr.Recipe.Tokenizer.ExtraIDs}
	if err := hf.Export(tr.Model, *out, opts); err != nil {
		return fmt.Errorf("export hf %s: %w", tr.Dir, err)
	}
	fmt.Fprintf(stdout, "exported %s to %s (config.json, model.safetensors, spiece.model); in Python: T5ForConditionalGeneration.from_pretrained(%q)\n", tr.Dir, *out, *out)
	return nil
}
