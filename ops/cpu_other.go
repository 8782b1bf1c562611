//go:build (!amd64 && !arm64) || purego

package ops

func supported(isa ISA) bool { return isa == Generic }

func unsupportedReason(isa ISA) string {
	return "this build has only the generic kernels (purego build tag or an architecture without generated kernels)"
}
