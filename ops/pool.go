package ops

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The parallel products share two pieces of machinery: a free list of packing buffers
// and a fixed set of worker goroutines.

// Packing buffers are recycled through a free list that, unlike sync.Pool, survives
// garbage collections: a training loop calls the same products every step, so after the
// first step it finds every buffer it needs and allocates nothing.
var (
	bufMu   sync.Mutex
	bufFree []*[]float32
)

// maxFreeBufs bounds the free list; buffers beyond it are left to the garbage collector.
const maxFreeBufs = 64

// getBuf returns a buffer of n floats (contents undefined), the smallest free one that fits.
func getBuf(n int) *[]float32 {
	bufMu.Lock()
	best := -1
	for i, b := range bufFree {
		if cap(*b) >= n && (best < 0 || cap(*b) < cap(*bufFree[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := bufFree[best]
		bufFree[best] = bufFree[len(bufFree)-1]
		bufFree = bufFree[:len(bufFree)-1]
		bufMu.Unlock()
		*b = (*b)[:n]
		return b
	}
	bufMu.Unlock()
	s := make([]float32, n)
	return &s
}

// putBuf returns a buffer from getBuf to the free list.
func putBuf(b *[]float32) {
	bufMu.Lock()
	if len(bufFree) < maxFreeBufs {
		bufFree = append(bufFree, b)
	}
	bufMu.Unlock()
}

// A fixed set of worker goroutines runs the parts of every parallel operation, so a
// call starts no goroutines. A caller waiting for its parts runs queued parts itself
// (its own or another operation's) until its own are done, so parallel operations may
// nest — a part of ParallelFor may call Gemm — without the workers ever all waiting on
// parts that nobody runs.
type task struct {
	r    partRunner
	part int
	g    *group
}

// group counts the parts of one parallelRun call still running on other goroutines.
type group struct {
	pending atomic.Int32
	done    chan struct{} // buffered: the last part's goroutine never blocks on it
}

// run runs the task's part and signals its group when it was the last.
func (t task) run() {
	t.r.runPart(t.part)
	if t.g.pending.Add(-1) == 0 {
		t.g.done <- struct{}{}
	}
}

// partRunner is one parallel operation: runPart(i) does part i of it.
type partRunner interface{ runPart(part int) }

// partFunc adapts a closure to partRunner.
type partFunc func(part int)

func (f partFunc) runPart(part int) { f(part) }

var (
	startWorkers sync.Once
	tasks        chan task
	wake         chan struct{} // one token per sleeping worker to wake
	spinning     atomic.Int32  // workers polling tasks
	// groupMu guards groupFree, the groups not in use. Unlike a sync.Pool it keeps
	// them across garbage collections (and under the race detector), so a warm call
	// allocates none.
	groupMu   sync.Mutex
	groupFree []*group
)

// getGroup returns an unused group.
func getGroup() *group {
	groupMu.Lock()
	defer groupMu.Unlock()
	if n := len(groupFree); n > 0 {
		g := groupFree[n-1]
		groupFree = groupFree[:n-1]
		return g
	}
	return &group{done: make(chan struct{}, 1)}
}

// putGroup returns a group whose parts are all done.
func putGroup(g *group) {
	groupMu.Lock()
	groupFree = append(groupFree, g)
	groupMu.Unlock()
}

// worker runs queued parts. It sleeps on wake and, once woken, polls tasks until
// none has come for workerSpin. Polling is the point: a sleeping goroutine readied by
// a send starts on the sender's processor after the sender, unless an idle processor
// wakes up and steals it first — on the virtual machines measured that took longer
// than the ~100 µs parts of a training step, and the two halves of a product ran one
// after the other. A polling worker takes a part as soon as it is queued, and a step's
// sections come closer together than workerSpin, so the workers poll through the
// serial code between them. BenchmarkParallelSection measures a section's cost (two
// parts of 100 µs between 50 µs of serial work: 277 µs a section with workers that
// slept, 153 polling; Intel Xeon model 167, 2 vCPUs).
func worker() {
	for range wake {
		for {
			spinning.Add(1)
			poll()
			spinning.Add(-1)
			if len(tasks) == 0 { // else a part came as it stopped: take it
				break
			}
		}
	}
}

// workerSpin is how long a worker polls for parts after its last one before it sleeps.
const workerSpin = 200 * time.Microsecond

// poll runs queued parts until none has come for workerSpin, yielding its processor
// between looks so that the goroutines with work run first.
func poll() {
	last := time.Now()
	for {
		select {
		case t := <-tasks:
			t.run()
			last = time.Now()
		default:
			if time.Since(last) > workerSpin {
				return
			}
			runtime.Gosched()
		}
	}
}

// parallel runs f(0..parts-1), part 0 on the calling goroutine, and waits for all.
func parallel(parts int, f func(part int)) { parallelRun(parts, partFunc(f)) }

// parallelRun runs r.runPart(0..parts-1), part 0 on the calling goroutine, and waits,
// running queued parts meanwhile. A pooled partRunner makes a call allocate nothing.
func parallelRun(parts int, r partRunner) {
	if parts <= 1 {
		r.runPart(0)
		return
	}
	startWorkers.Do(func() {
		n := max(runtime.NumCPU(), 2)
		tasks = make(chan task, 4*n)
		wake = make(chan struct{}, n)
		for i := 0; i < n; i++ {
			go worker()
		}
	})
	g := getGroup()
	g.pending.Store(int32(parts - 1))
	queued := 0
	for p := 1; p < parts; p++ {
		t := task{r, p, g}
		select {
		case tasks <- t:
			queued++
		default: // the queue is full: run the part here
			t.run()
		}
	}
	// Wake a sleeping worker for each part the polling ones do not cover (a part
	// nobody takes, this goroutine runs below).
	for range queued - int(spinning.Load()) {
		select {
		case wake <- struct{}{}:
		default: // every worker already has a token
		}
	}
	r.runPart(0)
	// Wait polling, as the workers do, so that this goroutine's processor stays busy
	// (an idle one goes to sleep, and waking it again is what the polling avoids):
	// while yield is the closed channel the select never blocks; after waitSpin it is
	// nil and the select waits.
	yield, start := alwaysReady, time.Now()
	for {
		if yield != nil && time.Since(start) >= waitSpin {
			yield = nil
		}
		select {
		case <-g.done:
			putGroup(g)
			return
		case t := <-tasks:
			t.run()
		case <-yield:
			runtime.Gosched()
		}
	}
}

// alwaysReady is a closed channel: receiving from it never blocks.
var alwaysReady = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// waitSpin is how long parallelRun polls for its other parts to finish before it
// blocks.
const waitSpin = time.Millisecond

// workers is how many goroutines a product of the given multiply-adds should use.
func workers(flops int) int {
	t := Threads()
	if t > 1 && flops < parallelMinFlops {
		return 1
	}
	return max(t, 1)
}
