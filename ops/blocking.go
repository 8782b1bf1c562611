package ops

import (
	"fmt"
	"sync"

	"github.com/klauspost/cpuid/v2"
)

// blocking is the cache blocking of the BLIS-structured matmul driver (gemm_blocked.go):
// a kc×nr micro-panel of B is reused from L1 by every mr-row tile of a block of A, an
// mc×kc block of A is reused from L2 by every micro-panel of a kc×nc panel of B, and
// that panel is reused from the outer cache by every block of A.
type blocking struct {
	kc, mc, nc int
}

// caches is what the blocking is derived from: the data cache sizes, in bytes, one
// core sees (0 where unknown).
type caches struct {
	l1d, l2, l3PerCore int
}

// Sizes assumed where the CPU does not report them: small enough for any current
// core, so the blocks still fit (only a little reuse is lost).
const (
	defaultL1D       = 32 << 10
	defaultL2        = 1 << 20
	defaultL3PerCore = 2 << 20
)

// detectCaches reads the cache sizes of this CPU (cpuid on amd64; on arm64 what the
// operating system reports to cpuid, often nothing). The L3 is shared: its share per
// logical core is what one goroutine of a parallel product can count on.
func detectCaches() caches {
	c := caches{l1d: cpuid.CPU.Cache.L1D, l2: cpuid.CPU.Cache.L2}
	if l3 := cpuid.CPU.Cache.L3; l3 > 0 {
		c.l3PerCore = l3 / max(1, cpuid.CPU.LogicalCores)
	}
	return c
}

// L2Bytes is the size in bytes of the L2 cache one core sees, as cpuid reports it (1
// MiB where it does not): for callers that cut their own work into blocks that stay in
// it.
func L2Bytes() int { return l2Bytes() }

var l2Bytes = sync.OnceValue(func() int {
	if l2 := detectCaches().l2; l2 > 0 {
		return l2
	}
	return defaultL2
})

// deriveBlocking sizes the blocks for caches c and micro-tiles of mr×nr (gradMR: the
// height of the gradient tiles, which share the A blocks), in float32s:
//
//   - kc: the B micro-panel (kc·nr) fills at most 2/3 of L1D, leaving the rest to the
//     streaming A micro-panel and the C tile; a multiple of 16 (the packers' step), in
//     [128, 384]. 48 KiB with nr 32 (AVX-512 on Sapphire Rapids or Zen 5) gives 256;
//     32 KiB (Zen 4) gives 160.
//   - mc: the A block (mc·kc) fills at most 1/8 of L2, leaving room for the B panel's
//     lines passing through; a multiple of both tile heights, in [2·lcm, 480]. 2 MiB
//     gives 240 with kc 256; 1 MiB gives 120.
//   - nc: the B panel (kc·nc) fills at most half the L3 share of one core; a multiple of
//     nr, in [16·nr, 4096].
//
// The bounds keep a product's working buffers, and the per-goroutine pack of B, small
// whatever a CPU (or a virtual machine) reports.
func deriveBlocking(c caches, mr, nr, gradMR int) blocking {
	l1d, l2, l3 := c.l1d, c.l2, c.l3PerCore
	if l1d <= 0 {
		l1d = defaultL1D
	}
	if l2 <= 0 {
		l2 = defaultL2
	}
	if l3 <= 0 {
		l3 = defaultL3PerCore
	}
	const f32 = 4
	kc := clampDown(l1d*2/3/(f32*nr), 16, 128, 384)
	step := lcm(mr, gradMR)
	mc := clampDown(l2/8/(f32*kc), step, 2*step, max(480/step*step, 2*step))
	nc := clampDown(l3/2/(f32*kc), nr, 16*nr, max(4096/nr*nr, 16*nr))
	return blocking{kc: kc, mc: mc, nc: nc}
}

// clampDown rounds v down to a multiple of step, then clamps it to [lo, hi] (both
// multiples of step).
func clampDown(v, step, lo, hi int) int {
	return min(max(v/step*step, lo), hi)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int) int { return a / gcd(a, b) * b }

func (b blocking) String() string { return fmt.Sprintf("kc=%d mc=%d nc=%d", b.kc, b.mc, b.nc) }
