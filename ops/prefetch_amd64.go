//go:build amd64 && !purego

package ops

var (
	_ = prefetchOp.add(AVX2, prefetchL2AMD64)
	_ = prefetchOp.add(AVX512, prefetchL2AMD64)
)
