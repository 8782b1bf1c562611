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
}

// ArenaBytes reports the memory the tape's arenas hold for activations, gradients and
// saved buffers, in bytes.
func (t *Tape) ArenaBytes() int { return 4 * (len(t.f.buf) + len(t.i.buf)) }

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
func (t *Tape) push(r record) { t.recs = append(t.recs, r) }

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
	for i := len(t.recs) - 1; i >= 0; i-- {
		r := &t.recs[i]
		if r.out.Grad == nil {
			continue
		}
		t.backward(r)
	}
}

// accum returns x's gradient buffer, allocating it when absent. fresh reports a new
// buffer with undefined contents that the caller must overwrite entirely; otherwise
// the caller must add to it. It returns nil when x needs no gradient.
func (t *Tape) accum(x *Tensor) (g []float32, fresh bool) {
	if x == nil || !x.needsGrad {
		return nil, false
	}
	if x.Grad == nil {
		x.Grad = t.f.alloc(len(x.Data))
		return x.Grad, true
	}
	return x.Grad, false
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

// floatArena hands out float32 slices from one reusable buffer.
type floatArena struct {
	buf      []float32
	off      int
	overflow int // values allocated outside buf since the last reset
}

func (a *floatArena) alloc(n int) []float32 {
	if a.off+n <= len(a.buf) {
		s := a.buf[a.off : a.off+n : a.off+n]
		a.off += n
		return s
	}
	a.overflow += n
	return make([]float32, n)
}

func (a *floatArena) reset() {
	if a.overflow > 0 {
		need := a.off + a.overflow
		a.buf = make([]float32, need+need/8)
	}
	a.off, a.overflow = 0, 0
}

// intArena hands out int32 slices from one reusable buffer.
type intArena struct {
	buf      []int32
	off      int
	overflow int
}

func (a *intArena) alloc(n int) []int32 {
	if a.off+n <= len(a.buf) {
		s := a.buf[a.off : a.off+n : a.off+n]
		a.off += n
		return s
	}
	a.overflow += n
	return make([]int32, n)
}

func (a *intArena) reset() {
	if a.overflow > 0 {
		need := a.off + a.overflow
		a.buf = make([]int32, need+need/8)
	}
	a.off, a.overflow = 0, 0
}

// negInf is the score given to masked attention positions: finite, so that a row with
// every position masked yields a uniform distribution instead of NaNs.
const negInf = -1e30
