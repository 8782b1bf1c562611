package ops

import "unsafe"

// prefetchOp fetches the cache lines of n floats from p into L2: nothing in the generic
// Go code, PREFETCHT1 on amd64, PRFM PLDL2KEEP on arm64 (prefetch_amd64.go,
// prefetch_arm64.go).
var prefetchOp = newOp("prefetch", func(p *float32, n int) {})

// Prefetch hints that x will be read soon, after other work: it asks for x's cache
// lines to be fetched into L2 (on amd64 and arm64; the generic code does nothing). It
// changes no value and never faults. Callers use it for data whose reads the hardware
// prefetchers do not see coming, far enough ahead to hide the memory's latency, and no
// more than L2 holds beside the work in between: greedy decoding asks for the next
// example's cached keys and values while it attends over this one's.
func Prefetch(x []float32) {
	if len(x) > 0 {
		prefetchOp.use(unsafe.SliceData(x), len(x))
	}
}
