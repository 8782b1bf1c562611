package autograd

import "fmt"

// Tensor is a row-major Rows×Cols float32 matrix on a Tape (an activation) or owned by
// a Param (a weight). A vector is a 1×n matrix and a scalar a 1×1 one.
type Tensor struct {
	// Data holds the Rows·Cols values, row-major.
	Data []float32
	// Grad holds the gradient of the loss with respect to Data once Backward has run
	// (nil for a tape tensor the loss does not depend on).
	Grad []float32
	// Rows and Cols are the matrix's shape.
	Rows, Cols int

	needsGrad bool // a gradient must flow into this tensor
	param     bool // the tensor belongs to a Param: its Grad is persistent
	// gradStale marks a Param's Grad as zero without its values being cleared
	// (DeferZeroGrads): the first contribution overwrites it.
	gradStale bool
}

// NeedsGrad reports whether the loss's gradient flows into t (t is a parameter, or was
// computed from one while the tape was recording).
func (t *Tensor) NeedsGrad() bool { return t.needsGrad }

// Len is the number of values, Rows·Cols.
func (t *Tensor) Len() int { return t.Rows * t.Cols }

// At returns the value at row r, column c.
func (t *Tensor) At(r, c int) float32 { return t.Data[r*t.Cols+c] }

// String describes the tensor's shape, e.g. "Tensor[4×8]".
func (t *Tensor) String() string { return fmt.Sprintf("Tensor[%d×%d]", t.Rows, t.Cols) }

// Param is a trainable parameter: a named Tensor whose Data persists across steps and
// whose Grad accumulates the gradients of every Backward until ZeroGrad.
type Param struct {
	Tensor
	// Name is the parameter's hierarchical name, e.g. "encoder.block.0.ffn.wo". It is
	// unique within a model and keys the parameter in checkpoints and optimizer state.
	Name string
	// Shape is the parameter's logical shape for reports, e.g. [8000 256] or [256]; its
	// product equals Rows·Cols.
	Shape []int
	// Group names the family of parameters this one belongs to, for reports ("" for
	// none): a layer that adds parameters of its own kind tags them, e.g. the
	// HyperGrid gates' projections, global vectors and task embeddings are in
	// hyper.ParamGroup ("hypergrid").
	Group string
	// PerTask marks a parameter with one slice per task (e.g. a task embedding table or
	// a task's output head): it grows with the number of tasks.
	PerTask bool
	// NoDecay excludes the parameter from weight decay (norm gains, biases).
	NoDecay bool
}

// NewParam returns a zero-filled parameter named name with the given logical shape
// (one or two dimensions; a vector is stored as a 1×n matrix, and more dimensions are
// flattened into rows). It panics on a non-positive dimension.
func NewParam(name string, shape ...int) *Param {
	if len(shape) == 0 {
		panic("autograd: NewParam(" + name + "): no shape")
	}
	n := 1
	for _, d := range shape {
		if d <= 0 {
			panic(fmt.Sprintf("autograd: NewParam(%s): dimension %d in shape %v", name, d, shape))
		}
		n *= d
	}
	cols := shape[len(shape)-1]
	p := &Param{Name: name, Shape: append([]int(nil), shape...)}
	p.Tensor = Tensor{Data: make([]float32, n), Grad: make([]float32, n), Rows: n / cols, Cols: cols, needsGrad: true, param: true}
	return p
}

// Size is the number of values in the parameter.
func (p *Param) Size() int { return len(p.Data) }

// ZeroGrad clears the parameter's gradient.
func (p *Param) ZeroGrad() {
	clear(p.Grad)
	p.gradStale = false
}

// ZeroGrads clears the gradients of all params.
func ZeroGrads(params []*Param) {
	for _, p := range params {
		p.ZeroGrad()
	}
}

// DeferZeroGrads zeroes the gradients of params without a pass over them: each is
// marked stale, and the first contribution a Backward makes to it overwrites it
// instead of adding to it (its products write their tile without reading one). After
// the Backward, and before anything reads the gradients, SettleGrads must clear the
// ones no contribution reached. The gradients equal ZeroGrads then Backward's (a
// value that is 0 + x there is x here: the same number, though a zero may differ in
// sign).
func DeferZeroGrads(params []*Param) {
	for _, p := range params {
		p.gradStale = true
	}
}

// SettleGrads clears every gradient of params still marked stale by DeferZeroGrads
// (the parameters the loss did not reach), so that all of them can be read.
func SettleGrads(params []*Param) {
	for _, p := range params {
		if p.gradStale {
			p.ZeroGrad()
		}
	}
}

// Frozen reports whether the parameter is excluded from training.
func (p *Param) Frozen() bool { return !p.needsGrad }

// SetFrozen excludes the parameter from training (no gradient flows into it) or
// includes it again.
func (p *Param) SetFrozen(frozen bool) { p.needsGrad = !frozen }
