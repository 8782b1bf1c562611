package autograd

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/ops"
)

// Tape records the operations of one forward pass so that Backward can propagate
// gradients through them. It owns the memory of every tensor it creates: Reset makes
// all of it reusable for the next step. A Tape is used by one goroutine at a time.
type Tape struct {
	f         floatArena
	i         intArena
	blocks    [][]Tensor // stable storage for tape tensors
	nTensors  int
	recs      []record
	recording bool
	f64       []float64 // scratch of the cross-entropies' row losses
	jobs      jobs      // the parallel loops' bodies, reused so that a step allocates nothing
	clock     opClock   // TimeOps
}

// jobs holds the bodies of the operations' parallel loops (ops.ParallelRange).
type jobs struct {
	attnFwd  attnForward
	attnBwd  attnBackward
	attnBias attnBiasGrad
	gluFwd   gluForward
	gluBwd   gluBackward
	ceFwd    ceForward
	ceBwd    ceBackward
	lce      lceRows
	dropout  dropoutJob
	ffnFwd   ffnForward
	ffnBwd   ffnBackward
}

// NewTape returns an empty tape in recording (training) mode.
func NewTape() *Tape { return &Tape{recording: true} }

// SetRecording switches the tape between recording (training: operations on
// parameters are recorded for Backward) and inference mode (nothing is recorded and
// no buffer is kept for a backward pass). It returns the previous setting.
func (t *Tape) SetRecording(on bool) (previous bool) {
	previous = t.recording
	t.recording = on
	return previous
}

// Recording reports whether the tape records operations.
func (t *Tape) Recording() bool { return t.recording }

// Reset forgets every recorded operation and makes all tape memory reusable. Tensors
// the tape created before Reset must not be used afterwards. After the first few
// steps the arena has grown to the step's peak and Reset allocates nothing.
func (t *Tape) Reset() {
	t.f.reset()
	t.i.reset()
	for i := range t.recs {
		t.recs[i] = record{}
	}
	t.recs = t.recs[:0]
	t.nTensors = 0
	if t.clock.times != nil {
		t.clock.read()
	}
}

// Mark is a point in an inference tape's allocations to go back to (Tape.Rewind).
type Mark struct {
	fCur, fOff, iCur, iOff, tensors int
	fUsed, iUsed                    int
}

// Mark returns the tape's current allocation point.
func (t *Tape) Mark() Mark {
	return Mark{t.f.cur, t.f.off, t.i.cur, t.i.off, t.nTensors, t.f.used, t.i.used}
}

// Rewind makes everything the tape allocated after m reusable: tensors and buffers
// created since must not be used afterwards. A layer that runs its inference block by
// block rewinds after each block, so the blocks' intermediate values share one block's
// memory. Only an inference tape may rewind (a recording tape's records need their
// buffers until Backward); Rewind panics on a recording one.
func (t *Tape) Rewind(m Mark) {
	if t.recording {
		panic("autograd: Rewind on a recording tape")
	}
	t.f.cur, t.f.off, t.i.cur, t.i.off, t.nTensors = m.fCur, m.fOff, m.iCur, m.iOff, m.tensors
	t.f.used, t.i.used = m.fUsed, m.iUsed
}

// RowsOf returns rows [r0, r1) of x as a tensor sharing x's values (no copy), for
// running an inference pass block by block; it panics on a recording tape, where no
// gradient could flow back through it.
func (t *Tape) RowsOf(x *Tensor, r0, r1 int) *Tensor {
	if t.recording {
		panic("autograd: RowsOf on a recording tape")
	}
	if r0 < 0 || r1 < r0 || r1 > x.Rows {
		panic(fmt.Sprintf("autograd: RowsOf: rows [%d, %d) of a %d×%d tensor", r0, r1, x.Rows, x.Cols))
	}
	v := t.newTensor(0, x.Cols)
	v.Rows, v.Data = r1-r0, x.Data[r0*x.Cols:r1*x.Cols:r1*x.Cols]
	return v
}

// ArenaBytes reports the memory the tape's arenas hold for activations, gradients and
// saved buffers, in bytes.
func (t *Tape) ArenaBytes() int { return 4 * (t.f.size() + t.i.size()) }

// ArenaPeakBytes is the most memory the tape's float and int arenas have each held
// handed out since the last Reset, summed (a Rewind frees what came after its mark):
// what its tensors and scratch held, without the unused ends of its chunks (ArenaBytes).
func (t *Tape) ArenaPeakBytes() int { return 4 * (t.f.peak + t.i.peak) }

// New returns a zero-filled rows×cols tensor that lives until the next Reset. It is a
// constant: no gradient flows into it.
func (t *Tape) New(rows, cols int) *Tensor {
	x := t.newTensor(rows, cols)
	clear(x.Data)
	return x
}

// From returns a rows×cols tape tensor holding a copy of data (len rows·cols).
func (t *Tape) From(data []float32, rows, cols int) *Tensor {
	if len(data) != rows*cols {
		panic(fmt.Sprintf("autograd: From: %d values for a %d×%d tensor", len(data), rows, cols))
	}
	x := t.newTensor(rows, cols)
	copy(x.Data, data)
	return x
}

// Floats returns a scratch buffer of n float32 values (contents undefined) that lives
// until the next Reset.
func (t *Tape) Floats(n int) []float32 { return t.f.alloc(n) }

// Ints returns a scratch buffer of n int32 values (contents undefined) that lives
// until the next Reset.
func (t *Tape) Ints(n int) []int32 { return t.i.alloc(n) }

// newTensor returns a tape tensor with uninitialised Data.
func (t *Tape) newTensor(rows, cols int) *Tensor {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("autograd: negative shape %d×%d", rows, cols))
	}
	const blockSize = 256
	b, j := t.nTensors/blockSize, t.nTensors%blockSize
	if b == len(t.blocks) {
		t.blocks = append(t.blocks, make([]Tensor, blockSize))
	}
	t.nTensors++
	x := &t.blocks[b][j]
	*x = Tensor{Data: t.f.alloc(rows * cols), Rows: rows, Cols: cols}
	return x
}

// result returns the output tensor of an operation on the given inputs: it needs a
// gradient when the tape records and any input needs one.
func (t *Tape) result(rows, cols int, inputs ...*Tensor) *Tensor {
	out := t.newTensor(rows, cols)
	if t.recording {
		for _, in := range inputs {
			if in != nil && in.needsGrad {
				out.needsGrad = true
				break
			}
		}
	}
	return out
}

// push records an operation whose output needs a gradient.
func (t *Tape) push(r record) {
	t.recs = append(t.recs, r)
	if t.clock.times != nil {
		t.clock.since(&t.clock.times.fwd[r.kind()])
	}
}

// Backward seeds the gradient of loss (every element) with 1 and propagates it through
// the recorded operations in reverse, accumulating into the parameters' Grad. Call it
// once per Reset. It panics when loss does not depend on any parameter while recording.
func (t *Tape) Backward(loss *Tensor) {
	if !loss.needsGrad {
		panic("autograd: Backward: the loss does not depend on any trainable parameter (or the tape was not recording)")
	}
	g, fresh := t.accum(loss)
	if fresh {
		for i := range g {
			g[i] = 1
		}
	} else {
		for i := range g {
			g[i]++
		}
	}
	if t.clock.times != nil {
		t.clock.read()
	}
	for i := len(t.recs) - 1; i >= 0; i-- {
		r := &t.recs[i]
		if r.out.Grad == nil {
			continue
		}
		t.backward(r)
		if t.clock.times != nil {
			t.clock.since(&t.clock.times.bwd[r.kind()])
		}
	}
}

// accum returns x's gradient buffer, allocating it when absent. fresh reports a new
// (or stale: DeferZeroGrads) buffer with undefined contents that the caller must
// overwrite entirely; otherwise the caller must add to it. It returns nil when x needs
// no gradient.
func (t *Tape) accum(x *Tensor) (g []float32, fresh bool) {
	if x == nil || !x.needsGrad {
		return nil, false
	}
	if x.Grad == nil {
		x.Grad = t.f.alloc(len(x.Data))
		return x.Grad, true
	}
	if x.gradStale { // a parameter's gradient zeroed by DeferZeroGrads
		x.gradStale = false
		return x.Grad, true
	}
	return x.Grad, false
}

// beta is the beta of a product into a gradient buffer from accum: 0 overwrites a
// fresh one, 1 adds to it.
func beta(fresh bool) float32 {
	if fresh {
		return 0
	}
	return 1
}

// accumZero is accum for callers that can only add: the buffer is zeroed when new.
func (t *Tape) accumZero(x *Tensor) []float32 {
	g, fresh := t.accum(x)
	if fresh {
		clear(g)
	}
	return g
}

// gradOut returns a buffer the caller overwrites with x's gradient contribution and
// then passes to gradDone: x's own gradient buffer when it is new, else scratch.
func (t *Tape) gradOut(x *Tensor) []float32 {
	g, fresh := t.accum(x)
	if g == nil || fresh {
		return g
	}
	return t.f.alloc(len(g))
}

// gradDone adds buf into x's gradient unless buf is that gradient.
func (t *Tape) gradDone(x *Tensor, buf []float32) {
	if buf == nil || len(buf) == 0 || &buf[0] == &x.Grad[0] {
		return
	}
	ops.Add(x.Grad, x.Grad, buf)
}

// arena hands out slices from chunks it keeps from step to step. A request that does
// not fit the current chunk moves to the next one, or adds a chunk; reset rewinds to
// the first chunk without freeing anything. Chunks are never replaced, so the first
// steps leave no garbage behind and peak memory is what one step needs, plus at most a
// chunk's tail per chunk.
type arena[T float32 | int32] struct {
	chunks   [][]T
	cur, off int
	used     int // elements handed out and not rewound since the last reset
	peak     int // the most used has been since the last reset
}

// Chunk sizes, in elements: the first is small so tiny models stay small; each new one
// doubles up to the cap (a larger request gets a chunk of its own size).
const (
	arenaFirstChunk = 1 << 16
	arenaMaxChunk   = 1 << 24
)

type floatArena = arena[float32]
type intArena = arena[int32]

func (a *arena[T]) alloc(n int) []T {
	a.used += n
	a.peak = max(a.peak, a.used)
	for a.cur < len(a.chunks) {
		c := a.chunks[a.cur]
		if a.off+n <= len(c) {
			s := c[a.off : a.off+n : a.off+n]
			a.off += n
			return s
		}
		a.cur++
		a.off = 0
	}
	size := arenaFirstChunk
	if k := len(a.chunks); k > 0 {
		size = min(2*len(a.chunks[k-1]), arenaMaxChunk)
	}
	a.chunks = append(a.chunks, make([]T, max(size, n)))
	a.cur, a.off = len(a.chunks)-1, n
	return a.chunks[a.cur][:n:n]
}

func (a *arena[T]) reset() { a.cur, a.off, a.used, a.peak = 0, 0, 0, 0 }

// size is the number of elements the arena holds.
func (a *arena[T]) size() int {
	n := 0
	for _, c := range a.chunks {
		n += len(c)
	}
	return n
}

// negInf is the score given to masked attention positions: finite, so that a row with
// every position masked yields a uniform distribution instead of NaNs.
const negInf = -1e30
