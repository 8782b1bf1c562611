//go:build arm64 && !purego

package ops

var _ = dropoutMasksOp.add(NEON, func(dst []float32, n int, states []uint64, threshold uint32, keep float32) {
	dropoutMasksBy8(dropoutMasks8NEON, dst, n, states, threshold, keep)
})
