package autograd

import (
	"fmt"
	"math"
	"testing"

	"github.com/hypergrid-go/hypergrid/ops"
)

// sequentialMask is the mask stream drawn in order, one xorshift64* state for the whole
// mask: the definition the chunked, parallel drawing must reproduce bit for bit.
func sequentialMask(mask []float32, rate float32, seed uint64) {
	keep := 1 / (1 - rate)
	threshold := uint64(rate * 65536)
	s := seed | 1
	for i := 0; i < len(mask); i += 4 {
		s ^= s >> 12
		s ^= s << 25
		s ^= s >> 27
		r := s * 0x2545f4914f6cdd1d
		for j := i; j < min(i+4, len(mask)); j++ {
			if r&0xffff < threshold {
				mask[j] = 0
			} else {
				mask[j] = keep
			}
			r >>= 16
		}
	}
}

func TestDropoutMaskMatchesSequentialStream(t *testing.T) {
	chunk := 4 * maskChunkDraws
	for _, n := range []int{0, 1, 3, 4, 5, chunk - 1, chunk, chunk + 1, 3*chunk + 7, 70001} {
		for _, threads := range []int{1, 2, 3} {
			for _, seed := range []uint64{0, 1, 42, math.MaxUint64} {
				t.Run(fmt.Sprintf("n=%d/threads=%d/seed=%d", n, threads, seed), func(t *testing.T) {
					prev := ops.SetThreads(threads)
					defer ops.SetThreads(prev)
					x := make([]float32, n)
					for i := range x {
						x[i] = float32(i%13) - 6.5
					}
					x = append(x, float32(math.Inf(1)))[:n] // a value past the end stays untouched
					want := make([]float32, n)
					sequentialMask(want, 0.3, seed)
					tape := NewTape()
					mask, out := make([]float32, n), make([]float32, n+1)
					out[n] = 7
					tape.applyDropout(out[:n], x, nil, mask, 0.3, seed)
					for i := range want {
						if math.Float32bits(mask[i]) != math.Float32bits(want[i]) {
							t.Fatalf("mask[%d] = %v, the sequential stream gives %v", i, mask[i], want[i])
						}
						if got, w := out[i], x[i]*want[i]; math.Float32bits(got) != math.Float32bits(w) {
							t.Fatalf("out[%d] = %v, want x·mask = %v", i, got, w)
						}
					}
					if out[n] != 7 {
						t.Fatalf("applyDropout wrote past the end of out")
					}
				})
			}
		}
	}
}

func TestDropoutMaskRate(t *testing.T) {
	const n = 1 << 18
	mask := make([]float32, n)
	NewTape().applyDropout(make([]float32, n), make([]float32, n), nil, mask, 0.1, 7)
	dropped := 0
	for _, m := range mask {
		if m == 0 {
			dropped++
		} else if m != 1/(1-float32(0.1)) {
			t.Fatalf("kept value scaled by %v, want 1/(1-0.1)", m)
		}
	}
	// Binomial(n, 0.1): standard deviation ≈ 154; 6 of them is a failure, not chance.
	if d := float64(dropped) - 0.1*n; math.Abs(d) > 6*math.Sqrt(0.1*0.9*n) {
		t.Fatalf("dropped %d of %d values, expected about %.0f", dropped, n, 0.1*n)
	}
}

func TestMaskJumpAdvancesByAChunk(t *testing.T) {
	for _, s := range []uint64{1, 3, 0x123456789abcdef1, math.MaxUint64} {
		want := s
		for range maskChunkDraws {
			want = xorshiftNext(want)
		}
		if got := jumpState(maskJump(), s); got != want {
			t.Fatalf("jumpState(%#x) = %#x, stepping gives %#x", s, got, want)
		}
	}
}

func BenchmarkDropout(b *testing.B) {
	const n = 4096 * 1024
	x, out, mask := make([]float32, n), make([]float32, n), make([]float32, n)
	tape := NewTape()
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			prev := ops.SetThreads(threads)
			defer ops.SetThreads(prev)
			b.SetBytes(3 * 4 * n)
			for b.Loop() {
				tape.applyDropout(out, x, nil, mask, 0.1, 3)
			}
		})
	}
}
