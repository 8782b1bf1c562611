package synth

import "math/bits"

// rng is a SplitMix64 generator. The suite uses its own generator, not math/rand, so
// that the generated files cannot change with the Go version.
type rng struct{ state uint64 }

func newRNG(seed uint64) *rng { return &rng{state: seed} }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a uniform number in [0, n) (Lemire's method).
func (r *rng) intn(n int) int {
	if n <= 0 {
		panic("synth: intn of a non-positive bound")
	}
	hi, lo := bits.Mul64(r.next(), uint64(n))
	if lo < uint64(n) {
		threshold := -uint64(n) % uint64(n)
		for lo < threshold {
			hi, lo = bits.Mul64(r.next(), uint64(n))
		}
	}
	return int(hi)
}

// float returns a uniform number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) * 0x1p-53 }

// chance returns true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// pick returns a uniformly chosen element of list.
func pick[T any](r *rng, list []T) T { return list[r.intn(len(list))] }

// other returns a uniformly chosen index in [0, n) different from i.
func (r *rng) other(n, i int) int {
	j := r.intn(n - 1)
	if j >= i {
		j++
	}
	return j
}
