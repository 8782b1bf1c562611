//go:build amd64 && !purego

package ops

var (
	_ = dropoutMasksOp.add(AVX2, func(dst []float32, n int, states []uint64, threshold uint32, keep float32) {
		dropoutMasksBy8(dropoutMasks8AVX2, dst, n, states, threshold, keep)
	})
	_ = dropoutMasksOp.add(AVX512, func(dst []float32, n int, states []uint64, threshold uint32, keep float32) {
		dropoutMasksBy8(dropoutMasks8AVX512, dst, n, states, threshold, keep)
	})
)
