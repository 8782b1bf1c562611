package ops

import (
	"fmt"
	"testing"
)

// BenchmarkMicroKernel times each ISA's micro-kernel alone on packed panels that stay
// in the L1/L2 caches: the ceiling the blocked driver can reach.
func BenchmarkMicroKernel(b *testing.B) {
	for _, k := range registeredGemmKernels {
		for _, kc := range []int{64, 256} {
			b.Run(fmt.Sprintf("%s/%dx%d/kc=%d", k.isa, k.mr, k.nr, kc), func(b *testing.B) {
				ap, bp, c := make([]float32, k.mr*kc), make([]float32, k.nr*kc), make([]float32, k.mr*k.nr)
				for b.Loop() {
					k.kernel(kc, &ap[0], &bp[0], &c[0], k.nr)
				}
				reportGflops(b, 2*float64(k.mr*k.nr*kc))
			})
		}
	}
}
