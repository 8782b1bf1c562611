package ops

import (
	"runtime"
	"sync"
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

// A fixed set of worker goroutines runs the parts of every parallel product, so a call
// starts no goroutines. Kernels never call parallel from inside a part, so the workers
// cannot all end up waiting on each other.
type task struct {
	r    partRunner
	part int
	wg   *sync.WaitGroup
}

// partRunner is one parallel operation: runPart(i) does part i of it.
type partRunner interface{ runPart(part int) }

// partFunc adapts a closure to partRunner.
type partFunc func(part int)

func (f partFunc) runPart(part int) { f(part) }

var (
	startWorkers sync.Once
	tasks        chan task
	wgPool       = sync.Pool{New: func() any { return new(sync.WaitGroup) }}
)

func worker() {
	for t := range tasks {
		t.r.runPart(t.part)
		t.wg.Done()
	}
}

// parallel runs f(0..parts-1), part 0 on the calling goroutine, and waits for all.
func parallel(parts int, f func(part int)) { parallelRun(parts, partFunc(f)) }

// parallelRun runs r.runPart(0..parts-1), part 0 on the calling goroutine, and waits.
// A pooled partRunner makes a call allocate nothing.
func parallelRun(parts int, r partRunner) {
	if parts <= 1 {
		r.runPart(0)
		return
	}
	startWorkers.Do(func() {
		n := max(runtime.NumCPU(), 2)
		tasks = make(chan task, 4*n)
		for i := 0; i < n; i++ {
			go worker()
		}
	})
	wg := wgPool.Get().(*sync.WaitGroup)
	wg.Add(parts - 1)
	for p := 1; p < parts; p++ {
		tasks <- task{r, p, wg}
	}
	r.runPart(0)
	wg.Wait()
	wgPool.Put(wg)
}

// workers is how many goroutines a product of the given multiply-adds should use.
func workers(flops int) int {
	t := Threads()
	if t > 1 && flops < parallelMinFlops {
		return 1
	}
	return max(t, 1)
}
