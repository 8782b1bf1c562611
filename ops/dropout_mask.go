package ops

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// A dropout mask is drawn from one xorshift64* stream: draw d (0-based) advances the
// state once (s ^= s>>12, s ^= s<<25, s ^= s>>27), multiplies it by 0x2545f4914f6cdd1d,
// and gives the product's four 16-bit fields, low to high, to values 4d … 4d+3. A stream
// is sequential, but xorshift's state update is linear over GF(2), so the state after
// any number of draws is a 64×64 bit-matrix product: a long mask is cut into chunks of
// DropoutChunk values, DropoutStarts finds each chunk's starting state by jumping (one
// matrix product per chunk), and DropoutMasks draws chunks side by side, every value
// exactly as the sequential stream gives it.

// DropoutChunk is how many values of a mask one chunk (one starting state) covers.
const DropoutChunk = 4 * dropoutChunkDraws

const dropoutChunkDraws = 1024

var dropoutMasksOp = newOp("dropout_masks", dropoutMasksGeneric)

// DropoutStarts appends to dst the state before the first draw of each of chunks chunks
// of DropoutChunk values of the mask stream of seed (which starts at seed|1: a state of
// 0 would stay 0), and returns it.
func DropoutStarts(dst []uint64, seed uint64, chunks int) []uint64 {
	s := seed | 1
	jump := dropoutJump()
	for c := range chunks {
		if c > 0 {
			s = jumpState(jump, s)
		}
		dst = append(dst, s)
	}
	return dst
}

// dropoutJump holds the columns of the bit matrix that advances a state by
// dropoutChunkDraws steps: column j is where the state with only bit j set goes.
var dropoutJump = sync.OnceValue(func() *[64]uint64 {
	var m [64]uint64
	for j := range m {
		s := uint64(1) << j
		for range dropoutChunkDraws {
			s = xorshiftNext(s)
		}
		m[j] = s
	}
	return &m
})

// jumpState advances s by dropoutChunkDraws steps (m: dropoutJump).
func jumpState(m *[64]uint64, s uint64) uint64 {
	var r uint64
	for j := 0; s != 0; j, s = j+1, s>>1 {
		if s&1 != 0 {
			r ^= m[j]
		}
	}
	return r
}

// DropoutMasks draws len(states) dropout masks of n values each, mask i into dst[i·n :
// (i+1)·n] from the stream after states[i] (see above; the last draw's spare fields are
// dropped when n is not a multiple of 4); a value is 0 where its field is below
// threshold (at most 65536, the rate·65536) and keep otherwise. states is left as it was.
// Every ISA gives the same bits: the streams are integers, and a value is one of two
// constants.
func DropoutMasks(dst []float32, n int, states []uint64, threshold uint32, keep float32) {
	if profiling.Load() {
		defer profiled("DropoutMasks", time.Now(), 0)
	}
	if n < 0 || len(dst) != n*len(states) || threshold > 1<<16 {
		panic(fmt.Sprintf("ops: DropoutMasks: %d values for %d masks of %d, threshold %d (at most 65536)",
			len(dst), len(states), n, threshold))
	}
	dropoutMasksOp.use(dst, n, states, threshold, keep)
}

// dropoutMasksGeneric is DropoutMasks in Go: four streams at a time with their draws
// interleaved (one stream is a chain of dependent shifts; four run in parallel on any
// core), then the rest one by one, each mask's last, partial draw (n not a multiple of
// 4) from the state its loop ended with. TestDropoutMasksVariants holds it, and every
// SIMD variant, to the plainest definition, value by value.
func dropoutMasksGeneric(dst []float32, n int, states []uint64, threshold uint32, keep float32) {
	keepBits, t := uint64(math.Float32bits(keep)), uint64(threshold)
	whole := n / 4 * 4
	// tail writes the first n − whole values of the draw after state s at the end of m.
	tail := func(m []float32, s uint64) {
		if whole < n {
			var last [4]float32
			put4(&last, xorshiftNext(s)*xorshiftMul, t, keepBits)
			copy(m[whole:], last[:])
		}
	}
	i := 0
	for ; i+4 <= len(states); i += 4 {
		m0, m1, m2, m3 := dst[i*n:(i+1)*n], dst[(i+1)*n:(i+2)*n], dst[(i+2)*n:(i+3)*n], dst[(i+3)*n:(i+4)*n]
		s0, s1, s2, s3 := states[i], states[i+1], states[i+2], states[i+3]
		for d := 0; d < whole; d += 4 {
			s0, s1, s2, s3 = xorshiftNext(s0), xorshiftNext(s1), xorshiftNext(s2), xorshiftNext(s3)
			put4((*[4]float32)(m0[d:d+4]), s0*xorshiftMul, t, keepBits)
			put4((*[4]float32)(m1[d:d+4]), s1*xorshiftMul, t, keepBits)
			put4((*[4]float32)(m2[d:d+4]), s2*xorshiftMul, t, keepBits)
			put4((*[4]float32)(m3[d:d+4]), s3*xorshiftMul, t, keepBits)
		}
		tail(m0, s0)
		tail(m1, s1)
		tail(m2, s2)
		tail(m3, s3)
	}
	for ; i < len(states); i++ {
		m, s := dst[i*n:(i+1)*n], states[i]
		for d := 0; d < whole; d += 4 {
			s = xorshiftNext(s)
			put4((*[4]float32)(m[d:d+4]), s*xorshiftMul, t, keepBits)
		}
		tail(m, s)
	}
}

// xorshiftMul is xorshift64*'s output multiplier.
const xorshiftMul = 0x2545f4914f6cdd1d

// xorshiftNext is one step of the xorshift64 state update.
func xorshiftNext(s uint64) uint64 {
	s ^= s >> 12
	s ^= s << 25
	s ^= s >> 27
	return s
}

// put4 writes the mask values of r's four 16-bit fields, low to high: 0 where a field
// is below t (field − t wraps around), else keepBits' float.
func put4(m *[4]float32, r, t, keepBits uint64) {
	m[0] = math.Float32frombits(uint32(keepBits & ((r&0xffff-t)>>63 - 1)))
	m[1] = math.Float32frombits(uint32(keepBits & ((r>>16&0xffff-t)>>63 - 1)))
	m[2] = math.Float32frombits(uint32(keepBits & ((r>>32&0xffff-t)>>63 - 1)))
	m[3] = math.Float32frombits(uint32(keepBits & ((r>>48-t)>>63 - 1)))
}
