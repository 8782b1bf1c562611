package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/ops"
)

// writePairedShare holds each unit against the Gemm timed after it: the median of the
// pairs' own ratios, not the ratio of the best Gemm to the mean unit.
func TestWritePairedShare(t *testing.T) {
	// A 1024³ Gemm is 2.147 GFLOP: 10 ms is 214.7 GFLOP/s, 20 ms 107.4. A unit of
	// 2.147 GFLOP in 20 ms runs at 107.4 GFLOP/s, half the first Gemm's and all the
	// second's.
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	p := pairedRun{
		units: []time.Duration{ms(20), ms(20), ms(40)},
		gemms: []time.Duration{ms(10), ms(20), ms(10)},
	}
	var b strings.Builder
	writePairedShare(&b, "step", refGemmFlops, p)
	want := "pairs=3 step_ms_median=20.0 gemm_1024_gflops_median=214.7 useful_share_of_gemm_paired=50% (pairs 25-100%: each step followed by a 1024³ Gemm)\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
	b.Reset()
	writePairedShare(&b, "batch", refGemmFlops, pairedRun{})
	if b.Len() != 0 {
		t.Errorf("no pairs: wrote %q", b.String())
	}
}

// writeScaling holds each pair's two times against each other: the median of the
// pairs' own speed-ups, not the ratio of the two medians.
func TestWriteScaling(t *testing.T) {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	s := scalingRun{threads: 2, against: 1,
		at: []time.Duration{ms(50), ms(100), ms(40)},
		vs: []time.Duration{ms(100), ms(150), ms(100)}}
	var b strings.Builder
	writeScaling(&b, "step", s)
	want := "scaling pairs=3 threads=2 against_threads=1 step_ms_median=50.0 against_step_ms_median=100.0 speedup_median=2.00 (pairs 1.50-2.50: the step at 2 threads and at 1, alternately)\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
	b.Reset()
	writeScaling(&b, "step", scalingRun{})
	if b.Len() != 0 {
		t.Errorf("no pairs: wrote %q", b.String())
	}
}

// timeScaling times each pair at both thread counts, in alternating order, and leaves
// the threads as it found them.
func TestTimeScaling(t *testing.T) {
	prev := ops.SetThreads(3)
	defer ops.SetThreads(prev)
	var seen []int
	s, err := timeScaling(3, 3, 1, func(i int) error {
		if i != len(seen) {
			t.Errorf("call %d got index %d", len(seen), i)
		}
		seen = append(seen, ops.Threads())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{3, 1, 1, 3, 3, 1}; !slices.Equal(seen, want) {
		t.Errorf("threads per call %v, want %v", seen, want)
	}
	if len(s.at) != 3 || len(s.vs) != 3 || ops.Threads() != 3 {
		t.Errorf("%d and %d pairs timed, threads left at %d", len(s.at), len(s.vs), ops.Threads())
	}
}
