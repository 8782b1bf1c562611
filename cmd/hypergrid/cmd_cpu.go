package main

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/hypergrid-go/hypergrid/ops"
)

func init() {
	register(&command{
		name:    "cpu",
		summary: "print the CPU features seen and the kernel variant each operation uses",
		run: func(args []string, stdout, stderr io.Writer) error {
			fs := newFlags("cpu", "", stderr)
			peak := fs.Bool("peak", false, "also measure the FMA peak (GFLOP/s) and the streaming memory bandwidth (GB/s) at 1 to NumCPU threads: how far thread scaling can go here, for compute and for memory traffic")
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
			if *peak {
				writePeaks(stdout, runtime.NumCPU())
			}
			return nil
		},
	})
}

// isaError is why package ops rejected the HYPERGRID_ISA override (nil when it did not).
// ops then runs the automatically chosen kernels; the CLI refuses instead, with exit
// status 2, so that it never runs other kernels than the ones asked for.
func isaError() error { return ops.ISAError() }

// writePeaks prints the FMA peak of the selected kernels at 1 to n threads, and each as
// a multiple of one thread's: logical CPUs that share a core's execution units (SMT
// siblings, virtual CPUs on one physical core) add little. Then the same for the
// streaming memory bandwidth: the ceiling of whatever moves activations through memory.
func writePeaks(w io.Writer, n int) {
	var one float64
	for t := 1; t <= n; t++ {
		g := ops.PeakGFLOPS(t, 600*time.Millisecond)
		if t == 1 {
			one = g
		}
		fmt.Fprintf(w, "fma_peak threads=%d gflops=%.1f scaling=%.2f\n", t, g, g/one)
	}
	for t := 1; t <= n; t++ {
		gb := ops.StreamGBps(t, 600*time.Millisecond)
		if t == 1 {
			one = gb
		}
		fmt.Fprintf(w, "mem_stream threads=%d gbps=%.1f scaling=%.2f\n", t, gb, gb/one)
	}
}
