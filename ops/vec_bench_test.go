package ops

import (
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
