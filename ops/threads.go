package ops

import (
	"runtime"
	"sync/atomic"
)

var threads atomic.Int32

// Threads reports how many goroutines the matrix kernels split their work over.
// It is GOMAXPROCS unless SetThreads changed it.
func Threads() int {
	if t := threads.Load(); t > 0 {
		return int(t)
	}
	return runtime.GOMAXPROCS(0)
}

// SetThreads sets how many goroutines the matrix kernels use and returns the previous
// setting. n <= 0 restores the default (GOMAXPROCS).
func SetThreads(n int) (previous int) {
	previous = Threads()
	if n < 0 {
		n = 0
	}
	threads.Store(int32(n))
	return previous
}
