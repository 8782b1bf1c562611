//go:build (amd64 || arm64) && !purego

package ops

// dropoutMasksBy8 is DropoutMasks eight streams at a time by kernel (a generated
// dropoutMasks8 of one ISA), the rest, and masks of a length that is not a multiple of
// 4, by the generic loop.
func dropoutMasksBy8(kernel func(dst *float32, n int, states *uint64, threshold int, keep float32), dst []float32, n int, states []uint64, threshold uint32, keep float32) {
	i := 0
	if n > 0 && n%4 == 0 {
		for ; i+8 <= len(states); i += 8 {
			kernel(&dst[i*n], n, &states[i], int(threshold), keep)
		}
	}
	dropoutMasksGeneric(dst[i*n:], n, states[i:], threshold, keep)
}
