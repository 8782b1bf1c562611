//go:build amd64 && !purego

package ops

import "github.com/klauspost/cpuid/v2"

func supported(isa ISA) bool {
	switch isa {
	case Generic:
		return true
	case AVX2:
		return cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3)
	case AVX512:
		return cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.AVX512VL)
	}
	return false
}

func unsupportedReason(isa ISA) string {
	switch isa {
	case AVX2:
		return "the CPU lacks AVX2 or FMA3"
	case AVX512:
		return "the CPU lacks one of AVX-512 F, BW, DQ, VL"
	}
	return "it is not an amd64 instruction set"
}
