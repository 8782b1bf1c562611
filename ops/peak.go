package ops

import (
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/klauspost/cpuid/v2"
)

// peakKernel is one instruction set's FMA-peak kernel: run(n, out) does n iterations
// of accs independent lanes-wide fused multiply-adds acc += out[0]·out[1] and stores
// the sum of the accumulators' first lanes into out[0].
type peakKernel struct {
	run         func(n int, out *float32)
	accs, lanes int
}

// flops is the number of floating-point operations of one iteration.
func (k peakKernel) flops() int { return 2 * k.accs * k.lanes }

// fmaPeakGeneric is the plain-Go peak loop: eight scalar chains.
func fmaPeakGeneric(n int, out *float32) {
	p := (*[2]float32)(unsafe.Slice(out, 2))
	m1, m2 := p[0], p[1]
	var acc [8]float32
	for range n {
		for i := range acc {
			acc[i] += m1 * m2
		}
	}
	var s float32
	for _, a := range acc {
		s += a
	}
	p[0] = s
}

var fmaPeakOp = newOp("FMAPeak", peakKernel{run: fmaPeakGeneric, accs: 8, lanes: 1})

// PeakGFLOPS measures the fused multiply-add throughput of the selected instruction
// set with threads goroutines, each on an OS thread of its own, running the FMA-peak
// kernel at once (register operands only: no memory traffic): the ceiling that the
// matmul kernels' GFLOP/s are compared with. It takes about d (at least 10 ms per
// repetition, best of 3). On a CPU whose logical cores share execution units (SMT
// siblings, or virtual CPUs on one physical core) the figure for 2 threads is not
// twice that for 1: the difference says how far thread scaling can go there.
func PeakGFLOPS(threads int, d time.Duration) float64 {
	threads = max(threads, 1)
	k := fmaPeakOp.use
	// Calibrate one call to about a millisecond.
	n := 1 << 12
	var buf [2]float32
	for {
		buf = [2]float32{1e-3, 1e-3}
		start := time.Now()
		k.run(n, &buf[0])
		if time.Since(start) > time.Millisecond || n >= 1<<30 {
			break
		}
		n *= 2
	}
	// One cache line of operands per goroutine: the kernel writes out[0] after each call.
	bufs := make([][16]float32, threads)
	for g := range bufs {
		bufs[g][0], bufs[g][1] = 1e-3, 1e-3
	}
	calls := bestRate(threads, max(d/3, 10*time.Millisecond), func(g int) { k.run(n, &bufs[g][0]) })
	return calls * float64(n) * float64(k.flops()) / 1e9
}

// bestRate calls call(g) over and over on each of threads goroutines, each locked to
// an OS thread of its own and all started together, for about per, three times, and
// returns the best rate of calls per second (all goroutines together).
func bestRate(threads int, per time.Duration, call func(g int)) float64 {
	best := 0.0
	for range 3 {
		var wg sync.WaitGroup
		counts := make([]int, threads)
		startAll := make(chan struct{})
		start := time.Now()
		deadline := start.Add(per)
		for g := range threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				<-startAll
				c := 0
				for time.Now().Before(deadline) {
					call(g)
					c++
				}
				counts[g] = c
			}()
		}
		close(startAll)
		wg.Wait()
		total := 0
		for _, c := range counts {
			total += c
		}
		best = max(best, float64(total)/time.Since(start).Seconds())
	}
	return best
}

// StreamGBps measures the memory bandwidth threads goroutines get together, each on
// an OS thread of its own streaming arrays of its own (y += a·x) with the selected
// instruction set's kernel: 12 bytes read or written per element. The arrays of all
// threads together are twice the L3 cache cpuid reports (streamBytes), so that they
// come from memory and not from the L3: on a virtual machine reporting a 480 MiB L3
// (Intel Xeon model 167, 2 vCPUs), 16 MiB arrays gave 43 and 86 GB/s at 1 and 2 threads
// (the L3), 256 MiB arrays 24 and 46. It takes about d (best of 3) after filling the
// arrays. Work that streams activations through memory scales with threads no better
// than this figure does, whatever PeakGFLOPS says.
func StreamGBps(threads int, d time.Duration) float64 {
	return streamGBps(threads, d, streamBytes(cpuid.CPU.Cache.L3))
}

// streamBytes is the memory StreamGBps streams over, all threads together, for an L3 of
// l3 bytes (0 or less: none reported): twice the L3, at least 64 MiB and at most 1 GiB.
func streamBytes(l3 int) int {
	return min(max(2*l3, 64<<20), 1<<30)
}

// streamGBps is StreamGBps over total bytes of arrays (two per thread).
func streamGBps(threads int, d time.Duration, total int) float64 {
	threads = max(threads, 1)
	n := max(total/(8*threads), 1<<10) // floats per array
	xs, ys := make([][]float32, threads), make([][]float32, threads)
	for g := range threads {
		xs[g], ys[g] = make([]float32, n), make([]float32, n)
		for i := range xs[g] {
			xs[g][i] = 1
		}
	}
	axpy := axpyOp.use
	// Tiny steps: y stays finite and normal however long it runs.
	calls := bestRate(threads, max(d/3, 10*time.Millisecond), func(g int) { axpy(-1e-9, xs[g], ys[g]) })
	return calls * float64(n) * 12 / 1e9
}
