package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/hypergrid-go/hypergrid/ops"
)

// scalingRun is a unit (a training step) timed at two thread counts, alternately, pair
// by pair (timeScaling): at[i] at the run's --threads, against[i] at the other count.
type scalingRun struct {
	threads, against int
	at, vs           []time.Duration
}

// timeScaling runs body(0..2·pairs-1), switching the kernels' threads (and GOMAXPROCS)
// between threads and against before each call, so each pair is timed under the same
// load: on a shared machine the speed drifts by more between runs minutes apart than
// the speed-up a second core gives. Within a pair the order alternates, so neither
// count always runs right after the switch. It leaves the threads at threads.
func timeScaling(pairs, threads, against int, body func(i int) error) (scalingRun, error) {
	s := scalingRun{threads: threads, against: against, at: make([]time.Duration, pairs), vs: make([]time.Duration, pairs)}
	defer setBenchThreads(threads)
	run := func(i, n int) (time.Duration, error) {
		setBenchThreads(n)
		start := time.Now()
		err := body(i)
		return time.Since(start), err
	}
	for i := range pairs {
		for j := range 2 { // pair i's two calls: threads first in even pairs, against in odd
			n, d := threads, &s.at[i]
			if (i+j)%2 == 1 {
				n, d = against, &s.vs[i]
			}
			t, err := run(2*i+j, n)
			if err != nil {
				return scalingRun{}, err
			}
			*d = t
		}
	}
	return s, nil
}

// setBenchThreads sets the kernels' threads and GOMAXPROCS to n.
func setBenchThreads(n int) {
	ops.SetThreads(n)
	runtime.GOMAXPROCS(n)
}

// writeScaling prints the median unit time at each thread count and the median of the
// pairs' own speed-ups (the other count's time over this count's), with their range.
func writeScaling(w io.Writer, unit string, s scalingRun) {
	if len(s.at) == 0 {
		return
	}
	at, vs, ratios := make([]float64, len(s.at)), make([]float64, len(s.at)), make([]float64, len(s.at))
	for i := range s.at {
		at[i], vs[i] = s.at[i].Seconds()*1000, s.vs[i].Seconds()*1000
		ratios[i] = s.vs[i].Seconds() / s.at[i].Seconds()
	}
	lo, hi := slices.Min(ratios), slices.Max(ratios)
	fmt.Fprintf(w, "scaling pairs=%d threads=%d against_threads=%d %s_ms_median=%.1f against_%s_ms_median=%.1f speedup_median=%.2f (pairs %.2f-%.2f: the %s at %d threads and at %d, alternately)\n",
		len(s.at), s.threads, s.against, unit, median(at), unit, median(vs), median(ratios), lo, hi, unit, s.threads, s.against)
}

// benchScaling is --against-threads for the bench commands: after their timing line
// (and the profile, set apart by a blank line) it times pairs units of body at threads
// and at against, alternately, and prints the scaling line.
func benchScaling(w io.Writer, unit string, profiled bool, pairs, threads, against int, body func(i int) error) error {
	s, err := timeScaling(pairs, threads, against, body)
	if err != nil {
		return err
	}
	if profiled {
		fmt.Fprintln(w)
	}
	writeScaling(w, unit, s)
	return nil
}
