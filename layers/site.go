package layers

import (
	"errors"

	"github.com/hypergrid-go/hypergrid/registry"

	"github.com/hypergrid-go/hypergrid/autograd"
)

// Stack names one of the model's layer stacks.
type Stack string

// The stacks of an encoder-decoder model; an encoder-only model has only Encoder.
const (
	Encoder Stack = "encoder"
	Decoder Stack = "decoder"
)

// Site is the place in a model where a sublayer is built, with everything a builder
// needs to know about it.
type Site struct {
	// Stack is the stack the sublayer belongs to.
	Stack Stack
	// Layer is the block's index within its stack, from 0.
	Layer int
	// Prefix is the hierarchical name of the sublayer; its parameters are named
	// Prefix + "." + local name (e.g. "encoder.block.0.ffn" + ".wo").
	Prefix string
	// DModel is the width of the residual stream.
	DModel int
	// Heads and DKV are the number of attention heads and the width of each.
	Heads, DKV int
	// Cross marks an encoder-decoder (cross) attention sublayer; otherwise an attention
	// sublayer is self-attention.
	Cross bool
	// Causal marks self-attention that may only look at earlier positions (decoder).
	Causal bool
	// RelativeBuckets and RelativeMaxDistance configure T5's relative position bias;
	// RelativeBuckets 0 disables it.
	RelativeBuckets, RelativeMaxDistance int
	// NumTasks is the number of tasks the model declares (0 when it declares none; a
	// per-task component then refuses to build).
	NumTasks int
	// Init draws the initial parameter values; it is deterministic from the model seed.
	Init *Init
}

// Param creates a parameter of this site named Prefix + "." + name. It panics when a
// dimension is not positive or the shape has more than MaxElements values.
func (s Site) Param(name string, shape ...int) *autograd.Param {
	return newParam(s.Prefix+"."+name, shape...)
}

// Context is what a sublayer's forward pass needs besides its input: the tape, the
// mode, and the per-example conditioning of the batch.
type Context struct {
	// Tape records the forward pass (or only computes it in inference mode).
	Tape *autograd.Tape
	// Train enables dropout.
	Train bool
	// Tasks holds each example's task index (len = batch size), or nil when the
	// model is single-task.
	Tasks []int32
	// Dropout draws dropout masks; it is deterministic from the training seed.
	Dropout *DropoutSource
	// Tap, when set, receives named intermediate values a layer chooses to show, such
	// as each HyperGrid layer's gates: rows·cols values per example, batch examples.
	Tap func(name string, batch, rows, cols int, values []float32)
}

// Seq describes a batch of sequences laid out as a (Batch·Len)×d matrix, example by
// example.
type Seq struct {
	// Batch is the number of examples and Len the padded length of each.
	Batch, Len int
	// Valid marks the real (non-padding) positions, Batch·Len of them, example-major;
	// nil means every position is real.
	Valid []bool
}

// Rows is Batch·Len, the number of rows of the sequence's activations.
func (s Seq) Rows() int { return s.Batch * s.Len }

// FeedForward is the feed-forward sublayer of one block.
type FeedForward interface {
	// Forward maps x, the normalised input ((seq.Batch·seq.Len)×DModel), to the
	// sublayer's output of the same shape. Per-example conditioning (such as a
	// HyperGrid gate) is derived from x, seq and ctx.Tasks.
	Forward(ctx *Context, x *autograd.Tensor, seq Seq) *autograd.Tensor
	// Params lists the sublayer's parameters.
	Params() []*autograd.Param
}

// FFNBuilder builds the feed-forward sublayer for one site. It is implemented by
// *GLUConfig ("ffn.glu") and *hyper.GridConfig ("ffn.hypergrid").
type FFNBuilder interface {
	BuildFFN(site Site) (FeedForward, error)
}

// StackState is shared by the blocks of one stack during one forward pass: the first
// layer computes T5's relative position bias and the later layers reuse it.
type StackState struct {
	// PositionBias is the Heads×(Len·Len) relative position bias of the stack's
	// self-attention, or nil before the first layer set it.
	PositionBias *autograd.Tensor
}

// AttentionInput is the input of one attention sublayer.
type AttentionInput struct {
	// X is the normalised query input, (XSeq.Batch·XSeq.Len)×DModel.
	X    *autograd.Tensor
	XSeq Seq
	// Memory is the key/value input of cross-attention ((MemorySeq.Rows())×DModel),
	// nil for self-attention.
	Memory    *autograd.Tensor
	MemorySeq Seq
	// Shared is the stack's shared state (position bias).
	Shared *StackState
	// MemoryCache, when not nil, lets a cross-attention that does not record keep what
	// it computes from Memory alone (its keys and values) for the next call with the
	// same Memory tensor, which reuses it: the decoder passes of scoring candidates
	// (model.Model.ScoreCandidateSets) project the encoder's output once. An
	// implementation may ignore it. nil for self-attention.
	MemoryCache *StepCache
}

// Attention is a multi-head attention sublayer.
type Attention interface {
	// Forward returns the sublayer's output, (in.XSeq.Rows())×DModel.
	Forward(ctx *Context, in AttentionInput) *autograd.Tensor
	// Params lists the sublayer's parameters.
	Params() []*autograd.Param
}

// AttentionBuilder builds an attention sublayer for one site (self or cross, see
// Site.Cross). It is implemented by *T5AttentionConfig ("attn.t5").
type AttentionBuilder interface {
	BuildAttention(site Site) (Attention, error)
}

// fieldErr returns a *registry.FieldError with a formatted message.
func fieldErr(path, format string, args ...any) error {
	return registry.FieldErrorf(path, format, args...)
}

// Errs joins the errors of a Validate method into one error (nil when there are none),
// for callers that have no use for the individual fields.
func Errs(errs []error) error { return errors.Join(errs...) }
