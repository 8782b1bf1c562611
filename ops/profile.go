package ops

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Counts is what a profile counted of an operation or of a product shape: its
// top-level calls (an operation that runs another through the package's internals
// counts once), their wall time (summed over goroutines for calls that run side by
// side inside ParallelFor: there it is CPU time), and the floating-point operations of
// the matrix products (2·m·n·k; 0 for the vector and row kernels).
type Counts struct {
	Calls int64
	Time  time.Duration
	Flops int64
}

// add counts one call of d and flops.
func (c *Counts) add(d time.Duration, flops int64) {
	c.Calls++
	c.Time += d
	c.Flops += flops
}

// OpStats is what a profile counted of one operation.
type OpStats struct {
	Name string
	Counts
}

// ProductShape is one shape of matrix product a profile saw: the operation (Gemm,
// GemmStrided, GridGatedGemm, ...), whether op(A) and op(B) are transposes, how many
// products one call computes (GemmStrided's batch, the grid-gated products' examples;
// 1 for Gemm) and the m×n×k of each (the grid-gated products' backward passes are
// named by their forward shape: rows×n×k).
type ProductShape struct {
	Op             string
	TransA, TransB bool
	Batch, M, N, K int
}

// ShapeStats is what a profile counted of one product shape.
type ShapeStats struct {
	ProductShape
	Counts
}

var (
	profiling  atomic.Bool
	profMu     sync.Mutex
	profStats  = map[string]*OpStats{}
	profShapes = map[ProductShape]*ShapeStats{}
	profPack   atomic.Int64 // nanoseconds the products spent packing, summed over goroutines
)

// StartProfile starts counting every operation's calls, time and FLOPs, from zero, and
// those of every matrix product's shape (ProfileShapes).
// Profiling costs one atomic load per call while it is off.
func StartProfile() {
	profMu.Lock()
	profStats = map[string]*OpStats{}
	profShapes = map[ProductShape]*ShapeStats{}
	profMu.Unlock()
	profPack.Store(0)
	profiling.Store(true)
}

// ProfilePacking returns how long the matrix products of the current or last profile
// spent packing their operands into micro-panels (summed over goroutines, as the
// products' own times are): a part of their time in StopProfile's and ProfileShapes'
// counts (and of PackB's, which packs for several products ahead of them), not an
// operation of its own. It is zero for the generic Go kernels, which do not pack.
func ProfilePacking() time.Duration { return time.Duration(profPack.Load()) }

// countPacking adds the time since start to the profile's packing time; the packers
// defer it when profiling is on.
func countPacking(start time.Time) { profPack.Add(int64(time.Since(start))) }

// ProfileShapes returns the matrix products the current or last profile counted, shape
// by shape, longest first: where a profile's Gemm time goes.
func ProfileShapes() []ShapeStats {
	profMu.Lock()
	defer profMu.Unlock()
	return longestFirst(profShapes, func(s *ShapeStats) *Counts { return &s.Counts },
		func(a, b *ShapeStats) bool { return a.Calls > b.Calls })
}

// StopProfile stops counting and returns the counts, sorted by time, longest first.
func StopProfile() []OpStats {
	profiling.Store(false)
	profMu.Lock()
	defer profMu.Unlock()
	return longestFirst(profStats, func(s *OpStats) *Counts { return &s.Counts },
		func(a, b *OpStats) bool { return a.Name < b.Name })
}

// longestFirst copies a profile's counters out of m, longest time first, ties in the
// order of less; profMu is held.
func longestFirst[K comparable, V any](m map[K]*V, counts func(*V) *Counts, less func(a, b *V) bool) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool {
		if ti, tj := counts(&out[i]).Time, counts(&out[j]).Time; ti != tj {
			return ti > tj
		}
		return less(&out[i], &out[j])
	})
	return out
}

// profiled records one call of the operation name that started at start; it is
// deferred by the operations when profiling is on.
func profiled(name string, start time.Time, flops int64) {
	d := time.Since(start)
	profMu.Lock()
	countOp(name, d, flops)
	profMu.Unlock()
}

// profiledProduct records one call of a matrix product of shape sh that started at
// start, under its operation's name and under its shape.
func profiledProduct(sh ProductShape, start time.Time) {
	d := time.Since(start)
	flops := gemmFlops(sh.Batch, sh.M, sh.N, sh.K)
	profMu.Lock()
	countOp(sh.Op, d, flops)
	s := profShapes[sh]
	if s == nil {
		s = &ShapeStats{ProductShape: sh}
		profShapes[sh] = s
	}
	s.add(d, flops)
	profMu.Unlock()
}

// countOp adds one call of the named operation; profMu is held.
func countOp(name string, d time.Duration, flops int64) {
	s := profStats[name]
	if s == nil {
		s = &OpStats{Name: name}
		profStats[name] = s
	}
	s.add(d, flops)
}

// gemmFlops is 2·m·n·k as an int64.
func gemmFlops(batch, m, n, k int) int64 { return 2 * int64(batch) * int64(m) * int64(n) * int64(k) }
