package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// Every prefetch variant leaves memory as it was, for any length and alignment: from
// none to a few thousand floats, starting anywhere within a cache line, ending at the
// allocation's last float.
func TestPrefetch(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	buf := randSlice(rng, 4096+16)
	want := slices.Clone(buf)
	prefetchOp.forEach(func(isa ISA, fn func(p *float32, n int)) {
		for _, off := range []int{0, 1, 7, 15} {
			for _, n := range []int{0, 1, 2, 15, 16, 17, 31, 33, 1000, len(buf) - off} {
				t.Run(fmt.Sprintf("%s/off=%d/n=%d", isa, off, n), func(t *testing.T) {
					x := buf[off : off+n]
					if n > 0 {
						fn(&x[0], n)
					}
					Prefetch(x)
					if !slices.Equal(buf, want) {
						t.Fatal("prefetching changed memory")
					}
				})
			}
		}
	})
	Prefetch(nil) // nothing to fetch
}

func ExamplePrefetch() {
	next := make([]float32, 1<<15) // the next example's cached keys, say
	Prefetch(next)                 // asked for now, read after this example's work
	fmt.Println(len(next))
	// Output: 32768
}
