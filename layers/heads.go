package layers

import (
	"github.com/hypergrid-go/hypergrid/autograd"
)

// LMHead projects hidden states onto the vocabulary, with its own Vocab×DModel matrix
// (untied, T5.1.1) or through the token embedding (tied).
type LMHead struct {
	// Tied is the shared embedding, or nil.
	Tied *Embedding
	// W is the untied DModel×Vocab projection, or nil.
	W *autograd.Param
	// LabelSmoothing spreads this much probability mass uniformly over the vocabulary
	// in the loss's target distribution.
	LabelSmoothing float32
}

// NewLMHead creates an untied head named name (DModel×Vocab, N(0, 1/DModel)) or, when
// tied is not nil, a head that shares tied's table.
func NewLMHead(init *Init, name string, d, vocab int, tied *Embedding, smoothing float64) *LMHead {
	h := &LMHead{Tied: tied, LabelSmoothing: float32(smoothing)}
	if tied == nil {
		h.W = init.Normal(newParam(name, d, vocab), Fan(d))
	}
	return h
}

// Logits returns x's scores over the vocabulary (rows×Vocab).
func (h *LMHead) Logits(ctx *Context, x *autograd.Tensor) *autograd.Tensor {
	if h.Tied != nil {
		return h.Tied.Logits(ctx, x)
	}
	return ctx.Tape.MatMul(x, &h.W.Tensor, false)
}

// Loss is the mean cross-entropy of x's logits (Logits) against targets, one per row;
// a negative target (padding) is ignored. It never holds the logits of all rows
// (autograd.LinearCrossEntropy): what it keeps is one block of them, x's gradient and
// the projection's.
func (h *LMHead) Loss(ctx *Context, x *autograd.Tensor, targets []int32) *autograd.Tensor {
	if h.Tied != nil {
		table := &h.Tied.Table.Tensor
		return ctx.Tape.LinearCrossEntropy(x, table, true, h.Tied.logitScale(), targets, h.LabelSmoothing)
	}
	return ctx.Tape.LinearCrossEntropy(x, &h.W.Tensor, false, 1, targets, h.LabelSmoothing)
}

// Params lists the head's own parameters (none when tied).
func (h *LMHead) Params() []*autograd.Param {
	if h.W == nil {
		return nil
	}
	return []*autograd.Param{h.W}
}

// ClassificationHead scores a pooled representation over Classes labels with a
// linear layer and is trained with cross-entropy.
type ClassificationHead struct {
	Linear         *Linear
	Classes        int
	LabelSmoothing float32
}

// NewClassificationHead creates a head named name with parameters name.weight
// (d×classes) and name.bias.
func NewClassificationHead(init *Init, name string, d, classes int, smoothing float64) *ClassificationHead {
	return &ClassificationHead{Linear: NewLinear(init, name, d, classes, true, Fan(d)), Classes: classes, LabelSmoothing: float32(smoothing)}
}

// Logits returns the class scores of every row of pooled.
func (h *ClassificationHead) Logits(ctx *Context, pooled *autograd.Tensor) *autograd.Tensor {
	return h.Linear.Forward(ctx, pooled)
}

// Loss is the mean cross-entropy of the logits against labels (negative labels are
// ignored).
func (h *ClassificationHead) Loss(ctx *Context, logits *autograd.Tensor, labels []int32) *autograd.Tensor {
	return ctx.Tape.CrossEntropy(logits, labels, h.LabelSmoothing)
}

// Params lists the head's parameters.
func (h *ClassificationHead) Params() []*autograd.Param { return h.Linear.Params() }

// RegressionHead predicts one value per pooled row with a linear layer and is trained
// with the mean squared error.
type RegressionHead struct {
	Linear *Linear
}

// NewRegressionHead creates a head named name with parameters name.weight (d×1) and
// name.bias.
func NewRegressionHead(init *Init, name string, d int) *RegressionHead {
	return &RegressionHead{Linear: NewLinear(init, name, d, 1, true, Fan(d))}
}

// Predict returns one value per row of pooled (rows×1).
func (h *RegressionHead) Predict(ctx *Context, pooled *autograd.Tensor) *autograd.Tensor {
	return h.Linear.Forward(ctx, pooled)
}

// Loss is the mean squared error of the predictions against targets.
func (h *RegressionHead) Loss(ctx *Context, pred *autograd.Tensor, targets []float32) *autograd.Tensor {
	return ctx.Tape.MSE(pred, targets)
}

// Params lists the head's parameters.
func (h *RegressionHead) Params() []*autograd.Param { return h.Linear.Params() }
