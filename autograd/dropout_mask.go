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
	for c := lo; c < hi; c++ {
		start, end := c*4*maskChunkDraws, min((c+1)*4*maskChunkDraws, len(j.mask))
		mask, x, out := j.mask[start:end], j.x[start:end], j.out[start:end]
		drawMask(mask, j.starts[c], j.threshold, j.keep)
		if j.res == nil {
			ops.Mul(out, x, mask)
		} else {
			ops.AddMul(out, j.res[start:end], x, mask)
		}
	}
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
		m := (*[4]float32)(mask[i : i+4])
		m[0] = math.Float32frombits(uint32(keepBits & ((r&0xffff-threshold)>>63 - 1)))
		m[1] = math.Float32frombits(uint32(keepBits & ((r>>16&0xffff-threshold)>>63 - 1)))
		m[2] = math.Float32frombits(uint32(keepBits & ((r>>32&0xffff-threshold)>>63 - 1)))
		m[3] = math.Float32frombits(uint32(keepBits & ((r>>48-threshold)>>63 - 1)))
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
