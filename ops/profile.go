package ops

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// OpStats is what a profile counted of one operation: its top-level calls (an
// operation that runs another through the package's internals counts once), their
// wall time (summed over goroutines for calls that run side by side inside
// ParallelFor: there it is CPU time), and the floating-point operations of the matrix products (2·m·n·k; 0 for
// the vector and row kernels).
type OpStats struct {
	Name  string
	Calls int64
	Time  time.Duration
	Flops int64
}

var (
	profiling atomic.Bool
	profMu    sync.Mutex
	profStats = map[string]*OpStats{}
)

// StartProfile starts counting every operation's calls, time and FLOPs, from zero.
// Profiling costs one atomic load per call while it is off.
func StartProfile() {
	profMu.Lock()
	profStats = map[string]*OpStats{}
	profMu.Unlock()
	profiling.Store(true)
}

// StopProfile stops counting and returns the counts, sorted by time, longest first.
func StopProfile() []OpStats {
	profiling.Store(false)
	profMu.Lock()
	defer profMu.Unlock()
	out := make([]OpStats, 0, len(profStats))
	for _, s := range profStats {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Time != out[j].Time {
			return out[i].Time > out[j].Time
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// profiled records one call of the operation name that started at start; it is
// deferred by the operations when profiling is on.
func profiled(name string, start time.Time, flops int64) {
	d := time.Since(start)
	profMu.Lock()
	s := profStats[name]
	if s == nil {
		s = &OpStats{Name: name}
		profStats[name] = s
	}
	s.Calls++
	s.Time += d
	s.Flops += flops
	profMu.Unlock()
}

// gemmFlops is 2·m·n·k as an int64.
func gemmFlops(batch, m, n, k int) int64 { return 2 * int64(batch) * int64(m) * int64(n) * int64(k) }
