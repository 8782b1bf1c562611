package autograd

import (
	"math"
	"sync"

	"github.com/hypergrid-go/hypergrid/ops"
)

// The dropout mask is drawn from one xorshift64* stream per call: draw d (0-based)
// advances the state once and gives 16 random bits to each of values 4d … 4d+3. A
// stream is sequential, but xorshift's state update is linear over GF(2), so the state
// after any number of draws is a 64×64 bit-matrix product: the mask is split into
// chunks of maskChunkDraws draws, each chunk's starting state is found by jumping
// (one matrix product per chunk), and the chunks are drawn side by side, every value
// exactly as the sequential stream gives it.

// maskChunkDraws is how many draws (4 values each) one chunk of the mask covers.
const maskChunkDraws = 1024

// maskChunkCost is the work of one chunk for ops.ParallelRange (values touched, and a
// few operations each).
const maskChunkCost = 4 * 4 * maskChunkDraws

// xorshiftNext is one step of the xorshift64 state update.
func xorshiftNext(s uint64) uint64 {
	s ^= s >> 12
	s ^= s << 25
	s ^= s >> 27
	return s
}

// maskJump holds the columns of the bit matrix that advances a state by maskChunkDraws
// steps: column j is where the state with only bit j set goes.
var maskJump = sync.OnceValue(func() *[64]uint64 {
	var m [64]uint64
	for j := range m {
		s := uint64(1) << j
		for range maskChunkDraws {
			s = xorshiftNext(s)
		}
		m[j] = s
	}
	return &m
})

// jumpState advances s by maskChunkDraws steps.
func jumpState(m *[64]uint64, s uint64) uint64 {
	var r uint64
	for j := 0; s != 0; j, s = j+1, s>>1 {
		if s&1 != 0 {
			r ^= m[j]
		}
	}
	return r
}

// dropoutJob draws the mask and applies it, chunk by chunk: mask[i] is 0 (probability
// rate) or keep, and out[i] = x[i]·mask[i], or res[i] + x[i]·mask[i] when res is set.
// Each chunk's mask is drawn into place and then applied by one vector kernel while it
// is still in L1.
type dropoutJob struct {
	x, res, out, mask []float32
	keep              float32
	threshold         uint64
	starts            []uint64 // the state before each chunk's first draw
}

func (j *dropoutJob) RunRange(_, lo, hi int) {
	const size = 4 * maskChunkDraws
	for c := lo; c < hi; {
		start := c * size
		// Whole chunks four at a time (their streams interleaved: four independent
		// dependency chains), the rest one at a time.
		n := 1
		if c+4 <= hi && (c+4)*size <= len(j.mask) {
			n = 4
			drawMasks4((*[4 * size]float32)(j.mask[start:start+4*size]), (*[4]uint64)(j.starts[c:c+4]), j.threshold, j.keep)
		} else {
			drawMask(j.mask[start:min(start+size, len(j.mask))], j.starts[c], j.threshold, j.keep)
		}
		end := min(start+n*size, len(j.mask))
		mask, x, out := j.mask[start:end], j.x[start:end], j.out[start:end]
		if j.res == nil {
			ops.Mul(out, x, mask)
		} else {
			ops.AddMul(out, j.res[start:end], x, mask)
		}
		c += n
	}
}

// drawMasks4 is drawMask on four whole chunks side by side, chunk i from state s[i]:
// the same values, with the four xorshift chains interleaved so that the core runs them
// in parallel (one stream is a chain of dependent shifts).
func drawMasks4(mask *[4 * 4 * maskChunkDraws]float32, s *[4]uint64, threshold uint64, keep float32) {
	const size = 4 * maskChunkDraws
	keepBits := uint64(math.Float32bits(keep))
	s0, s1, s2, s3 := s[0], s[1], s[2], s[3]
	m0, m1, m2, m3 := (*[size]float32)(mask[:size]), (*[size]float32)(mask[size:2*size]), (*[size]float32)(mask[2*size:3*size]), (*[size]float32)(mask[3*size:])
	for i := 0; i < size; i += 4 {
		s0, s1, s2, s3 = xorshiftNext(s0), xorshiftNext(s1), xorshiftNext(s2), xorshiftNext(s3)
		r0, r1, r2, r3 := s0*0x2545f4914f6cdd1d, s1*0x2545f4914f6cdd1d, s2*0x2545f4914f6cdd1d, s3*0x2545f4914f6cdd1d
		put2((*[2]float32)(m0[i:i+2]), r0, threshold, keepBits)
		put2((*[2]float32)(m0[i+2:i+4]), r0>>32, threshold, keepBits)
		put2((*[2]float32)(m1[i:i+2]), r1, threshold, keepBits)
		put2((*[2]float32)(m1[i+2:i+4]), r1>>32, threshold, keepBits)
		put2((*[2]float32)(m2[i:i+2]), r2, threshold, keepBits)
		put2((*[2]float32)(m2[i+2:i+4]), r2>>32, threshold, keepBits)
		put2((*[2]float32)(m3[i:i+2]), r3, threshold, keepBits)
		put2((*[2]float32)(m3[i+2:i+4]), r3>>32, threshold, keepBits)
	}
}

// put2 writes the mask values of the low two 16-bit fields of r (drawMask's four
// values of a draw are two put2s: a function small enough to inline).
func put2(m *[2]float32, r, threshold, keepBits uint64) {
	m[0] = math.Float32frombits(uint32(keepBits & ((r&0xffff-threshold)>>63 - 1)))
	m[1] = math.Float32frombits(uint32(keepBits & ((r>>16&0xffff-threshold)>>63 - 1)))
}

// drawMask fills mask from the xorshift64* stream that starts after state s: draw d
// gives values 4d … 4d+3 16 bits each, and a value is 0 when its bits are below
// threshold, else keep. Everything it reads is a local (the compiler need not reload a
// field after each store), and the whole draws run without branches: value k is
// dropped when its bits − threshold wraps around.
func drawMask(mask []float32, s, threshold uint64, keep float32) {
	keepBits := uint64(math.Float32bits(keep))
	i := 0
	for ; i+4 <= len(mask); i += 4 {
		s = xorshiftNext(s)
		r := s * 0x2545f4914f6cdd1d
		put2((*[2]float32)(mask[i:i+2]), r, threshold, keepBits)
		put2((*[2]float32)(mask[i+2:i+4]), r>>32, threshold, keepBits)
	}
	if i < len(mask) { // the last, partial draw
		s = xorshiftNext(s)
		r := s * 0x2545f4914f6cdd1d
		for k := i; k < len(mask); k++ {
			m := keep
			if r&0xffff < threshold {
				m = 0
			}
			mask[k] = m
			r >>= 16
		}
	}
}

// applyDropout writes the mask of (rate, seed) into mask and x ⊙ mask, or res + x ⊙
// mask when res is not nil, into out.
func (t *Tape) applyDropout(out, x, res, mask []float32, rate float32, seed uint64) {
	n := len(mask)
	draws := (n + 3) / 4
	chunks := (draws + maskChunkDraws - 1) / maskChunkDraws
	j := &t.jobs.dropout
	starts := j.starts[:0]
	s := seed | 1
	jump := maskJump()
	for c := range chunks {
		if c > 0 {
			s = jumpState(jump, s)
		}
		starts = append(starts, s)
	}
	*j = dropoutJob{x: x, res: res, out: out, mask: mask, keep: 1 / (1 - rate), threshold: uint64(rate * 65536), starts: starts}
	ops.ParallelRange(chunks, maskChunkCost, j)
	*j = dropoutJob{starts: starts[:0]}
}
