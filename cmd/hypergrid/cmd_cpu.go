package main

import (
	"io"

	"github.com/hypergrid-go/hypergrid/ops"
)

func init() {
	register(&command{
		name:    "cpu",
		summary: "print the CPU features seen and the kernel variant each operation uses",
		run: func(args []string, stdout, stderr io.Writer) error {
			fs := newFlags("cpu", "", stderr)
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return usageError("cpu takes no arguments")
			}
			ops.Describe(stdout)
			return nil
		},
	})
}
