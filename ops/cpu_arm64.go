//go:build arm64 && !purego

package ops

func supported(isa ISA) bool {
	// Advanced SIMD is part of every ARMv8-A core Go targets.
	return isa == Generic || isa == NEON
}

func unsupportedReason(isa ISA) string { return "it is not an arm64 instruction set" }
