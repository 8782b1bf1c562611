package layers

import (
	"fmt"
	"math"
	"math/bits"
	"reflect"

	"github.com/hypergrid-go/hypergrid/autograd"
)

// Bounds on the sizes of a model. They are far beyond what this framework can train,
// and small enough that no product used to build a model can overflow an int64 or a
// slice length: a model within them that does not fit in memory is refused with a
// memory estimate (model.Spec.Estimate), never by an overflow or a panic.
const (
	// MaxWidth bounds every width and count of a model: d_model, heads, d_kv, d_ff, the
	// HyperGrid grid's rows and cols, the relative position buckets and the number of
	// tasks (2^20).
	MaxWidth = 1 << 20
	// MaxElements bounds the number of values of any one parameter (vocab·d_model,
	// d_model·d_ff, d_model·heads·d_kv, ...): 2^36, which is 256 GiB of float32.
	MaxElements int64 = 1 << 36
)

// Elements returns the product of dims, the number of values of a tensor of that
// shape; ok is false when a dimension is not positive, or the product exceeds
// MaxElements or the platform's int (it never wraps).
func Elements(dims ...int) (n int64, ok bool) {
	n = 1
	for _, d := range dims {
		if d <= 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(uint64(n), uint64(d))
		if hi != 0 || lo > uint64(MaxElements) {
			return 0, false
		}
		n = int64(lo)
	}
	return n, n <= math.MaxInt
}

// newParam is autograd.NewParam with the size checked first: a shape whose values
// overflow, or exceed MaxElements, panics with the parameter's name instead of
// wrapping to a small or empty tensor. Validated models never reach the panic.
func newParam(name string, shape ...int) *autograd.Param {
	if _, ok := Elements(shape...); !ok {
		panic(fmt.Sprintf("layers: parameter %s: shape %v is not positive or has more than %d values (validate the model's sizes first)", name, shape, MaxElements))
	}
	return autograd.NewParam(name, shape...)
}

// Check reports a site whose sizes are out of range: DModel outside [1, MaxWidth];
// Heads, DKV, RelativeBuckets or NumTasks outside [0, MaxWidth] (a feed-forward site
// may leave the attention's sizes 0); or Heads·DKV·DModel or RelativeBuckets·Heads
// above MaxElements. The sites of a model built from a valid spec always pass;
// builders call it so that a direct call with a bad site fails with an error instead
// of a panic.
func (s Site) Check() error {
	if s.DModel < 1 || s.DModel > MaxWidth {
		return fmt.Errorf("layers: site %s: d_model is %d; want 1 to %d", s.Prefix, s.DModel, MaxWidth)
	}
	for _, w := range []struct {
		name string
		v    int
	}{{"heads", s.Heads}, {"d_kv", s.DKV}, {"relative buckets", s.RelativeBuckets}, {"tasks", s.NumTasks}} {
		if w.v < 0 || w.v > MaxWidth {
			return fmt.Errorf("layers: site %s: %s is %d; want 0 to %d", s.Prefix, w.name, w.v, MaxWidth)
		}
	}
	if _, ok := Elements(s.DModel, s.Heads, s.DKV); s.Heads > 0 && s.DKV > 0 && !ok {
		return fmt.Errorf("layers: site %s: d_model·heads·d_kv (%d·%d·%d) is above %d values", s.Prefix, s.DModel, s.Heads, s.DKV, MaxElements)
	}
	if _, ok := Elements(s.RelativeBuckets, s.Heads); s.RelativeBuckets > 0 && s.Heads > 0 && !ok {
		return fmt.Errorf("layers: site %s: relative buckets·heads (%d·%d) is above %d values", s.Prefix, s.RelativeBuckets, s.Heads, MaxElements)
	}
	return nil
}

// ParamShape is the shape of one parameter as autograd stores it: Rows×Cols values (a
// vector is 1×n).
type ParamShape struct {
	Rows, Cols int64
}

// Activations counts the float32 (or int32) values that a sublayer's forward pass puts
// on the tape besides its output, as a linear function of the batch's shape. A
// training step keeps about as many again for their gradients (all but GradFreeRow's);
// model.Spec.Estimate counts them so.
type Activations struct {
	// PerRow is the count per row (token) of the sublayer's input, e.g. the GLU
	// layer's hidden layer: about 3·d_ff gated (x·wi0, x·wi1 and their product, whose
	// rows may be padded), 2·d_ff plain.
	PerRow int64
	// GradFreeRow is how many of PerRow's values need no gradient of their own on the
	// tape in training: the backward pass writes their gradients over them (GEGLU's
	// x·wi0 and x·wi1). At most PerRow.
	GradFreeRow int64
	// PerMemoryRow is the count per row of the keys and values an attention sublayer
	// attends to (its input for self-attention, the encoder's output for cross-attention).
	PerMemoryRow int64
	// PerExample is the count per example (e.g. the HyperGrid layer's conditioning
	// vector, factors and gates).
	PerExample int64
	// PerPair is the count per (query, key) pair of one example (e.g. the attention
	// probabilities, one per head).
	PerPair int64
	// PerSharedPair is the count per (query, key) pair once for the whole batch (e.g.
	// T5's relative position bias, one per head, and its bucket indices).
	PerSharedPair int64
}

// Footprint is what a builder creates at a site, known without creating it.
type Footprint struct {
	// Params lists the shapes of the parameters the builder creates at the site, in
	// the order of the built sublayer's Params.
	Params []ParamShape
	// Activations is what the built sublayer's forward pass keeps on the tape.
	Activations Activations
	// Step is not nil when the built sublayer decodes incrementally (it implements
	// StepAttention or StepFeedForward) and says what it keeps from step to step of a
	// greedy generation. With a Step for every decoder sublayer, model.Spec.Estimate
	// counts a generation one position at a time; without, it counts the decoder
	// re-run over every position at every step, as model.Model.Generate then does.
	Step *StepFootprint
	// MemoryCached says that the built cross-attention keeps what it computes from its
	// memory in AttentionInput.MemoryCache: decoder passes over the same memory count
	// PerMemoryRow once, not once per pass.
	MemoryCached bool
}

// StepFootprint is what an incremental sublayer keeps across the steps of a greedy
// generation (in values), besides its Activations for the one new position of each
// example that every step puts on a tape of its own.
type StepFootprint struct {
	// CachePerPosition is the count kept per example and position attended to: a
	// self-attention's keys and values of every position so far, a cross-attention's
	// of the memory, projected at the first step.
	CachePerPosition int64
	// CachePerExample is the count kept per example (the HyperGrid gates, computed at
	// the first step).
	CachePerExample int64
}

// Sizer is implemented by a builder (an FFNBuilder or an AttentionBuilder) that can
// tell what it would create at a site without allocating it, so that a model's memory
// can be estimated before it is built (model.Spec.Estimate). *GLUConfig,
// *T5AttentionConfig and *hyper.GridConfig implement it.
//
// A struct that embeds a Sizer (as a plugin that embeds GLUConfig does) inherits its
// methods, and the inherited Footprint describes only the embedded part. SizedBuilder
// tells the two apart: it returns the receiver itself, so that for an embedding type
// it returns the embedded value, not the builder, and the builder's own size is
// treated as unknown. A type that implements Footprint must implement SizedBuilder
// too, returning its receiver.
type Sizer interface {
	// Footprint returns the parameters and activations of the sublayer the builder
	// would build at site, or the error that building it would return. It allocates
	// nothing in proportion to the sizes.
	Footprint(site Site) (Footprint, error)
	// SizedBuilder returns the builder that Footprint describes: the receiver.
	SizedBuilder() any
}

// SizerOf returns b's Sizer when b implements it for itself (not through an embedded
// field; see Sizer), or nil. It compares the types of b and of what SizedBuilder
// returns: an inherited SizedBuilder returns the embedded field's type.
func SizerOf(b any) Sizer {
	s, ok := b.(Sizer)
	if !ok || reflect.TypeOf(s.SizedBuilder()) != reflect.TypeOf(b) {
		return nil
	}
	return s
}
