//go:build amd64 && !purego

package ops

var _ = dropoutMasksOp.add(AVX512, dropoutMasksAVX512)

// dropoutMasksAVX512 is DropoutMasks eight streams at a time (one per 64-bit lane of the
// generated dropoutMasks8AVX512), the rest, and masks of a length that is not a multiple
// of 4, by the generic loop.
func dropoutMasksAVX512(dst []float32, n int, states []uint64, threshold uint32, keep float32) {
	i := 0
	if n > 0 && n%4 == 0 {
		for ; i+8 <= len(states); i += 8 {
			dropoutMasks8AVX512(&dst[i*n], n, &states[i], int(threshold), keep)
		}
	}
	dropoutMasksGeneric(dst[i*n:], n, states[i:], threshold, keep)
}
