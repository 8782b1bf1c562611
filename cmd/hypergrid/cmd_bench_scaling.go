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
		first, second := threads, against
		if i%2 == 1 {
			first, second = against, threads
		}
		a, err := run(2*i, first)
		if err != nil {
			return scalingRun{}, err
		}
		b, err := run(2*i+1, second)
		if err != nil {
			return scalingRun{}, err
		}
		if i%2 == 1 {
			a, b = b, a
		}
		s.at[i], s.vs[i] = a, b
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
