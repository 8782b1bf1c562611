package ops

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/klauspost/cpuid/v2"
)

// Describe writes the CPU seen, its SIMD features, the selected instruction set and the
// kernel variant each operation uses.
func Describe(w io.Writer) {
	fmt.Fprintf(w, "cpu: %s (%s/%s, %d logical cores)\n", cpuid.CPU.BrandName, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	var feats []string
	for _, f := range []cpuid.FeatureID{cpuid.SSE4, cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.AVX512F, cpuid.AVX512BW,
		cpuid.AVX512DQ, cpuid.AVX512VL, cpuid.AVX512BF16, cpuid.AVX512VNNI, cpuid.ASIMD} {
		if cpuid.CPU.Supports(f) {
			feats = append(feats, strings.ToLower(f.String()))
		}
	}
	fmt.Fprintf(w, "features: %s\n", strings.Join(feats, " "))
	fmt.Fprintf(w, "supported: %s\n", isaList(SupportedISAs()))
	fmt.Fprintf(w, "selected: %s (override with %s=%s)\n", ActiveISA(), EnvISA, isaList(KnownISAs))
	fmt.Fprintf(w, "threads: %d\n", Threads())
	c := detectCaches()
	fmt.Fprintf(w, "caches: L1D %s, L2 %s, L3 per logical core %s\n", cacheSize(c.l1d), cacheSize(c.l2), cacheSize(c.l3PerCore))
	if k := activeGemmKernels(); k != nil {
		fmt.Fprintf(w, "matmul: %s micro-tile %d×%d, cache blocking %v\n", k.isa, k.mr, k.nr, k.blocking)
	}
	for _, k := range Kernels() {
		fmt.Fprintf(w, "kernel %-24s %-8s (available: %s)\n", k.Op, k.ISA, isaList(k.Available))
	}
}

// cacheSize formats a cache size in bytes ("unknown" when not reported).
func cacheSize(b int) string {
	switch {
	case b <= 0:
		return "unknown"
	case b >= 1<<20 && b%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", b>>20)
	}
	return fmt.Sprintf("%d KiB", b>>10)
}
