package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// Benchmarks of the elementwise, row and reduction kernels: every variant this CPU runs,
// on 4096 values (row kernels: 128 rows × 256 columns). The GB/s figure counts each slice
// the operation reads and each it writes once (a slice it updates in place counts twice).
//
//	go test -run='^$' -bench='Vec' ./ops

const benchN = 4096

// updated are the elementwise operations whose output is also an input.
var updated = []string{"axpy", "scale", "muladd"}

func BenchmarkVecElementwise(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range ewCases {
		args := make([][]float32, c.nargs)
		for j := range args {
			args[j] = fillVec(rng, benchN, 1, false)
		}
		slicesMoved := c.nargs
		if slices.Contains(updated, c.name) {
			slicesMoved++
		}
		for _, v := range c.vars() {
			b.Run(c.name+"/"+string(v.isa), func(b *testing.B) {
				b.SetBytes(int64(4 * benchN * slicesMoved))
				for b.Loop() {
					v.fn(args, -1) // alpha −1 keeps repeated updates away from subnormals
				}
			})
		}
	}
}

func BenchmarkVecReductions(b *testing.B) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, c := range redCases {
		args := make([][]float32, c.nargs)
		for j := range args {
			args[j] = fillVec(rng, benchN, 1, false)
		}
		for _, v := range c.vars() {
			b.Run(c.name+"/"+string(v.isa), func(b *testing.B) {
				b.SetBytes(int64(4 * benchN * c.nargs))
				for b.Loop() {
					v.fn(args, 0)
				}
			})
		}
	}
}

func BenchmarkVecRows(b *testing.B) {
	const rows, cols = 128, 256
	rng := rand.New(rand.NewPCG(15, 16))
	for _, c := range rowCases {
		args := make([][]float32, len(c.shape))
		bytes := 0
		for j, s := range c.shape {
			n := map[byte]int{'m': rows * cols, 'c': cols, 'r': rows}[s]
			args[j] = c.input(rng, j, n)
			bytes += 4 * n
			if slices.Contains(c.acc, j) {
				bytes += 4 * n
			}
		}
		for _, v := range c.vars() {
			b.Run(c.name+"/"+string(v.isa), func(b *testing.B) {
				b.SetBytes(int64(bytes))
				for b.Loop() {
					v.fn(args, rows, cols, 1e-5)
				}
			})
		}
	}
}

// BenchmarkVecGatedGELUSpread times the GEGLU kernels on hidden values of growing
// spread: with a standard deviation of 6 some inputs lie beyond ±10, where the sigmoid
// inside GELU is below the smallest normal float32, and a subnormal costs a microcode
// assist on x86 for every vector holding one unless the kernel flushes it to zero
// (sigmoidParts in the generator): 1024 values a call, as GatedFFN calls them.
func BenchmarkVecGatedGELUSpread(b *testing.B) {
	rng := rand.New(rand.NewPCG(17, 18))
	const n = 1024
	for _, spread := range []float64{1, 6} {
		a, g, bb := fillVec(rng, n, spread, false), fillVec(rng, n, 1, false), fillVec(rng, n, 1, false)
		dst, da, db := make([]float32, n), make([]float32, n), make([]float32, n)
		gatedGeluOp.forEach(func(isa ISA, f func(dst, a, b []float32)) {
			b.Run(fmt.Sprintf("forward/sd=%v/%s", spread, isa), func(b *testing.B) {
				for b.Loop() {
					f(dst, a, bb)
				}
			})
		})
		gatedGeluBackwardOp.forEach(func(isa ISA, f func(da, db, g, a, b []float32)) {
			b.Run(fmt.Sprintf("backward/sd=%v/%s", spread, isa), func(b *testing.B) {
				for b.Loop() {
					f(da, db, g, a, bb)
				}
			})
		})
	}
}

// BenchmarkVecSoftmaxSpread times softmax over attention-sized rows (128 × 128) whose
// scores spread with a standard deviation of 1 and of 30 (a trained model's unscaled
// scores can), then the product of the probabilities with a 128×64 value block: with
// the wide spread, many shares of a row would be subnormal, and every
// subnormal costs a microcode assist on x86, in the softmax and then in the product
// that reads it, unless softmax takes them as 0 (softmaxFlush in the generator); and the
// backward pass, whose products of small shares with small gradients can be subnormal.
func BenchmarkVecSoftmaxSpread(b *testing.B) {
	rng := rand.New(rand.NewPCG(21, 22))
	const rows, cols, dh = 128, 128, 64
	for _, spread := range []float64{1, 30} {
		x, p := fillVec(rng, rows*cols, spread, false), make([]float32, rows*cols)
		v, o := fillVec(rng, cols*dh, 1, false), make([]float32, rows*dh)
		softmaxRowsOp.forEach(func(isa ISA, f func(dst, x []float32, rows, cols int)) {
			b.Run(fmt.Sprintf("softmax/sd=%v/%s", spread, isa), func(b *testing.B) {
				for b.Loop() {
					f(p, x, rows, cols)
				}
			})
		})
		softmaxRowsOp.use(p, x, rows, cols)
		b.Run(fmt.Sprintf("P·V/sd=%v", spread), func(b *testing.B) {
			for b.Loop() {
				Gemm(false, false, rows, dh, cols, 1, p, cols, v, dh, 0, o, dh)
			}
		})
		// The backward pass with small gradients: shares times gradients of 1e−8.
		dy, dx := fillVec(rng, rows*cols, 1e-8, false), make([]float32, rows*cols)
		b.Run(fmt.Sprintf("backward/sd=%v", spread), func(b *testing.B) {
			for b.Loop() {
				softmaxRowsBackwardOp.use(dx, p, dy, rows, cols)
			}
		})
	}
}

// BenchmarkAdamWDecayed times the AdamW update on 65536 parameters without a gradient
// whose moments have decayed to 1e−37 (m shrinks by 0.9 a step: some 800 steps without a
// gradient), against moments of 1e−3; each iteration restores the moments first. Below
// adamwFlush the kernels take them as 0 instead of going subnormal, which costs a
// microcode assist per vector on x86.
func BenchmarkAdamWDecayed(b *testing.B) {
	const n = 1 << 16
	for _, moment := range []float32{1e-3, 1e-37} {
		w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range w {
			w[i] = 0.01
		}
		adamwOp.forEach(func(isa ISA, f func(w, g, m, v []float32, b1, gb1, b2, gb2, decay, step, invSC2, eps, gs float32)) {
			b.Run(fmt.Sprintf("moments=%v/%s", moment, isa), func(b *testing.B) {
				for b.Loop() {
					for i := range m {
						m[i], v[i] = moment, moment
					}
					f(w, g, m, v, 0.9, 0.1, 0.999, 0.001, 0.99, 1e-3, 1, 1e-8, 1)
				}
			})
		})
	}
}
