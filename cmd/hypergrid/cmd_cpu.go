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
			if err := isaError(); err != nil {
				return usageError("%v", err)
			}
			ops.Describe(stdout)
			return nil
		},
	})
}

// isaError is why package ops rejected the HYPERGRID_ISA override (nil when it did not).
// ops then runs the automatically chosen kernels; the CLI refuses instead, with exit
// status 2, so that it never runs other kernels than the ones asked for.
func isaError() error { return ops.ISAError() }
