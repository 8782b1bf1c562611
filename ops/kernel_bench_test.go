package ops

import (
	"fmt"
	"testing"
)

// BenchmarkMicroKernel times each ISA's micro-kernels alone on packed panels that stay
// in the L1/L2 caches: the ceiling the blocked driver can reach. "kernel" is the
// products' mr×nr tile, "grad" the gradMR×nr tile of the grid-gated products, and
// "gradTile" the weight-and-gate gradient's tile with its fold into dB and h.
func BenchmarkMicroKernel(b *testing.B) {
	for _, k := range registeredGemmKernels {
		for _, kc := range []int{64, 128, 256} {
			ap, bp := make([]float32, max(k.mr, k.gradMR)*kc), make([]float32, k.nr*kc)
			c := make([]float32, max(k.mr, k.gradMR)*k.nr)
			w, g, h := make([]float32, k.gradMR*k.nr), make([]float32, k.nr), make([]float32, k.nr)
			b.Run(fmt.Sprintf("%s/kernel/%dx%d/kc=%d", k.isa, k.mr, k.nr, kc), func(b *testing.B) {
				for b.Loop() {
					k.kernel(kc, &ap[0], &bp[0], &c[0], k.nr)
				}
				reportGflops(b, 2*float64(k.mr*k.nr*kc))
			})
			b.Run(fmt.Sprintf("%s/grad/%dx%d/kc=%d", k.isa, k.gradMR, k.nr, kc), func(b *testing.B) {
				for b.Loop() {
					k.gradKernel(kc, &ap[0], &bp[0], &c[0], k.nr)
				}
				reportGflops(b, 2*float64(k.gradMR*k.nr*kc))
			})
			b.Run(fmt.Sprintf("%s/gradTile/%dx%d/kc=%d", k.isa, k.gradMR, k.nr, kc), func(b *testing.B) {
				for b.Loop() {
					k.gradTile(kc, &ap[0], &bp[0], &c[0], k.nr, &w[0], k.nr, &g[0], &h[0])
				}
				reportGflops(b, 2*float64(k.gradMR*k.nr*kc))
			})
		}
	}
}
