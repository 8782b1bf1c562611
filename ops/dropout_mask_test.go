package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// sequentialDropoutMask is one mask drawn the plainest way, value by value with a branch:
// the definition DropoutMasks' generic loop (the oracle of the SIMD variants) must match.
func sequentialDropoutMask(mask []float32, s uint64, threshold uint32, keep float32) {
	for i := 0; i < len(mask); i += 4 {
		s ^= s >> 12
		s ^= s << 25
		s ^= s >> 27
		r := s * 0x2545f4914f6cdd1d
		for j := i; j < min(i+4, len(mask)); j++ {
			if uint32(r&0xffff) < threshold {
				mask[j] = 0
			} else {
				mask[j] = keep
			}
			r >>= 16
		}
	}
}

// TestDropoutMasksVariants runs every variant on 0 to 19 streams (8 at a time by the
// SIMD kernels, the rest generic), masks of several lengths (some not a multiple of 4: the
// last draw's spare fields unused) and every kind of threshold
// (none dropped, some, all but the top field, all), against the sequential definition,
// bit for bit; a value past the end stays untouched and the states are not changed.
func TestDropoutMasksVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, streams := range []int{0, 1, 7, 8, 9, 16, 19} {
		for _, n := range []int{0, 1, 3, 4, 7, 8, 64, 4095, 4096} {
			for _, threshold := range []uint32{0, 1, 6553, 32768, 65535, 65536} {
				states := make([]uint64, streams)
				for i := range states {
					states[i] = rng.Uint64() | 1
				}
				if streams > 2 {
					states[1] = math.MaxUint64
				}
				const keep = 1.25
				want := make([]float32, streams*n)
				for i, s := range states {
					sequentialDropoutMask(want[i*n:(i+1)*n], s, threshold, keep)
				}
				saved := append([]uint64(nil), states...)
				dropoutMasksOp.forEach(func(isa ISA, f func([]float32, int, []uint64, uint32, float32)) {
					t.Run(fmt.Sprintf("%s/streams=%d/n=%d/threshold=%d", isa, streams, n, threshold), func(t *testing.T) {
						got := make([]float32, streams*n+1)
						got[streams*n] = 7
						f(got[:streams*n], n, states, threshold, keep)
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("value %d (mask %d) = %v, want %v", i, i/max(n, 1), got[i], want[i])
							}
						}
						if got[streams*n] != 7 {
							t.Fatal("wrote past the end")
						}
						for i := range states {
							if states[i] != saved[i] {
								t.Fatalf("states[%d] changed", i)
							}
						}
					})
				})
			}
		}
	}
}

func TestDropoutMasksRejects(t *testing.T) {
	for _, c := range []struct {
		n, dst, streams int
		threshold       uint32
	}{{3, 4, 1, 0}, {4, 7, 2, 0}, {4, 4, 1, 65537}, {-4, 0, 0, 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("DropoutMasks(%d values, n %d, %d streams, threshold %d) did not panic", c.dst, c.n, c.streams, c.threshold)
				}
			}()
			DropoutMasks(make([]float32, c.dst), c.n, make([]uint64, c.streams), c.threshold, 1)
		}()
	}
}

// TestDropoutStartsJump checks that each chunk's start is the previous one stepped
// DropoutChunk/4 times, from seed|1.
func TestDropoutStartsJump(t *testing.T) {
	for _, seed := range []uint64{0, 1, 2, 0x123456789abcdef0, math.MaxUint64} {
		starts := DropoutStarts(nil, seed, 4)
		want := seed | 1
		for c, got := range starts {
			if got != want {
				t.Fatalf("seed %#x: chunk %d starts at %#x, stepping gives %#x", seed, c, got, want)
			}
			for range DropoutChunk / 4 {
				want = xorshiftNext(want)
			}
		}
	}
	if got := DropoutStarts([]uint64{9}, 5, 0); len(got) != 1 || got[0] != 9 {
		t.Fatalf("DropoutStarts of no chunks changed dst: %v", got)
	}
}

// BenchmarkDropoutMasks draws eight masks of 4096 values (a group of the autograd
// dropout's chunks) with each variant.
func BenchmarkDropoutMasks(b *testing.B) {
	const n = 4096
	states := []uint64{1, 3, 5, 7, 9, 11, 13, 15}
	dst := make([]float32, 8*n)
	dropoutMasksOp.forEach(func(isa ISA, f func([]float32, int, []uint64, uint32, float32)) {
		b.Run(string(isa), func(b *testing.B) {
			b.SetBytes(4 * 8 * n)
			for b.Loop() {
				f(dst, n, states, 6553, 1/0.9)
			}
		})
	})
}
