package main

import (
	"strings"
	"testing"
	"time"
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
