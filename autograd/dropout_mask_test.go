package autograd

import (
	"fmt"
	"math"
	"testing"

	"github.com/hypergrid-go/hypergrid/ops"
)

// sequentialMask is the mask stream drawn in order, one state for the whole mask (ops'
// one-stream DropoutMasks, which TestDropoutMasksVariants holds to the plainest loop):
// what the chunked, parallel drawing must reproduce bit for bit.
func sequentialMask(mask []float32, rate float32, seed uint64) {
	ops.DropoutMasks(mask, len(mask), []uint64{seed | 1}, uint32(rate*65536), 1/(1-rate))
}

func TestDropoutMaskMatchesSequentialStream(t *testing.T) {
	chunk := ops.DropoutChunk
	for _, n := range []int{0, 1, 3, 4, 5, chunk - 1, chunk, chunk + 1, 3*chunk + 7, 8 * chunk, 9*chunk + 2, 70001, 300007} {
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
					// x has no zeros: out = x·mask shows every mask value.
					tape := NewTape()
					out := make([]float32, n+1)
					out[n] = 7
					tape.applyDropout(out[:n], x, nil, applyMul, 0.3, seed)
					for i := range want {
						if got, w := out[i], x[i]*want[i]; math.Float32bits(got) != math.Float32bits(w) {
							t.Fatalf("out[%d] = %v, want x·mask = %v (the sequential stream's mask %v)", i, got, w, want[i])
						}
					}
					if out[n] != 7 {
						t.Fatalf("applyDropout wrote past the end of out")
					}
					// The other two applications draw the same mask.
					res := make([]float32, n)
					for i := range res {
						res[i] = float32(i%7) + 0.25
					}
					sum := make([]float32, n)
					tape.applyDropout(sum, x, res, applyAddMul, 0.3, seed)
					acc, wantAcc := append([]float32(nil), res...), append([]float32(nil), res...)
					tape.applyDropout(acc, x, nil, applyMulAdd, 0.3, seed)
					ops.MulAdd(wantAcc, x, want) // fused or not as the kernel does it
					for i := range want {
						if w := res[i] + float32(x[i]*want[i]); math.Float32bits(sum[i]) != math.Float32bits(w) {
							t.Fatalf("value %d: res + x·mask = %v, want %v", i, sum[i], w)
						}
						if math.Float32bits(acc[i]) != math.Float32bits(wantAcc[i]) {
							t.Fatalf("value %d: out + x·mask = %v, want %v", i, acc[i], wantAcc[i])
						}
					}
				})
			}
		}
	}
}

func TestDropoutMaskRate(t *testing.T) {
	const n = 1 << 18
	ones, mask := make([]float32, n), make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	NewTape().applyDropout(mask, ones, nil, applyMul, 0.1, 7)
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

func BenchmarkDropout(b *testing.B) {
	const n = 4096 * 1024
	x, out := make([]float32, n), make([]float32, n)
	tape := NewTape()
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			prev := ops.SetThreads(threads)
			defer ops.SetThreads(prev)
			b.SetBytes(2 * 4 * n)
			for b.Loop() {
				tape.applyDropout(out, x, nil, applyMul, 0.1, 3)
			}
		})
	}
}
