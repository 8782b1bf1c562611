//go:build arm64 && !purego

package ops

var _ = prefetchOp.add(NEON, prefetchL2NEON)
