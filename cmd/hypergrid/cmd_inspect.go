package main

import (
	"fmt"
	"io"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/job"
)

func init() {
	register(&command{
		name:    "inspect",
		summary: "verify a checkpoint against its manifest and summarise it",
		run:     runInspect,
	})
}

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", "CKPT", stderr)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("inspect takes one checkpoint (a run's output folder or its checkpoint folder)")
	}
	dir, err := checkpoint.Resolve(rest[0])
	if err != nil {
		return err
	}
	s, err := checkpoint.Inspect(dir)
	if err != nil {
		return err
	}
	c, err := checkpoint.Load(dir)
	if err != nil {
		return err
	}
	params := 0
	for _, t := range c.Model {
		params += len(t.Data)
	}
	fmt.Fprintf(stdout, "checkpoint %s: verified (every file matches its SHA-256 in %s)\n", dir, checkpoint.ManifestFile)
	fmt.Fprintf(stdout, "step %d; %d tensors, %d parameters; %d optimizer tensors\n", s.Step, len(c.Model), params, len(c.Optimizer))
	for _, f := range s.Files {
		fmt.Fprintf(stdout, "  %-24s %12d bytes  sha256 %s\n", f.Name, f.Size, f.SHA256)
	}
	fmt.Fprintf(stdout, "state: %v\n", s.State)
	if info, snap, err := job.Stored(c); err == nil {
		fmt.Fprintf(stdout, "recipe: %s (%d files", snap.Main, len(snap.Files))
		if len(snap.Sets) > 0 {
			fmt.Fprintf(stdout, "; --set %v", snap.Sets)
		}
		fmt.Fprintln(stdout, ")")
		if info.DataDir != "" {
			fmt.Fprintf(stdout, "data: %s\n", info.DataDir)
		}
		if info.Steps > 0 {
			fmt.Fprintf(stdout, "steps: %d of %d\n", c.Step, info.Steps)
		}
	}
	return nil
}
