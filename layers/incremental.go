package layers

import "github.com/hypergrid-go/hypergrid/autograd"

// Incremental decoding runs a causal stack one position at a time: at each step every
// example of the batch gets one new position, and each sublayer keeps in a StepCache
// what later steps reuse (the keys and values of self-attention, the encoder's keys
// and values for cross-attention, a HyperGrid layer's per-example gates). A step
// gives the same numbers, up to floating-point rounding, as the full forward pass
// over all positions so far, at a cost that grows linearly with the position instead
// of quadratically. Steps are inference only: the tape must not record. The tape of
// the first step (position 0) must not be reset before the generation ends: a
// sublayer may keep what it computes there once per generation (cross-attention's
// keys and values of the memory); later steps may run on a tape reset at every step.

// StepCache carries one sublayer's state from step to step of one incremental
// decoding. The caller creates one empty StepCache per sublayer and generation and
// passes it to every step; the sublayer decides what it keeps there. What grows with
// the steps (self-attention's keys and values) lives on the Go heap, not on a tape,
// so the later steps' tapes can be reset between steps: it grows with the number of
// positions decoded and is freed with the cache.
type StepCache struct {
	// State is the sublayer's own record, nil before the first step.
	State any
}

// StepState is shared by the blocks of one stack during one step: the first layer
// computes the relative position bias of the new position and the later layers
// reuse it.
type StepState struct {
	// PositionBias is the Heads×(Pos+1) relative position bias of the new position
	// against every position so far, or nil before the first layer set it.
	PositionBias *autograd.Tensor
}

// StepInput is the input of one attention sublayer at one step.
type StepInput struct {
	// X is the normalised input of the new position of each example, Batch×DModel.
	X *autograd.Tensor
	// Batch is the number of examples; Pos the position every example decodes at
	// this step, from 0 (the decoder's start token).
	Batch, Pos int
	// Memory is the key/value input of cross-attention ((MemorySeq.Rows())×DModel),
	// read at the first step only; nil for self-attention.
	Memory    *autograd.Tensor
	MemorySeq Seq
	// Shared is the stack's shared state for this step (position bias).
	Shared *StepState
}

// StepAttention is an attention sublayer that can decode incrementally.
type StepAttention interface {
	Attention
	// ForwardStep returns the sublayer's output for the new position of each example
	// (in.Batch×DModel), attending to every position so far (self-attention, whose
	// keys and values cache accumulates) or to the memory (cross-attention, whose keys
	// and values cache holds from the first step on). Steps must come in order of
	// in.Pos, from 0, with the same cache.
	ForwardStep(ctx *Context, in StepInput, cache *StepCache) *autograd.Tensor
}

// StepFeedForward is a feed-forward sublayer that can decode incrementally.
type StepFeedForward interface {
	FeedForward
	// ForwardStep maps x, the normalised input of the new position pos of each
	// example (Batch×DModel), to the sublayer's output, as Forward would over all
	// positions so far. What depends on other positions (such as conditioning on the
	// first position) is computed at step 0 and kept in cache.
	ForwardStep(ctx *Context, x *autograd.Tensor, pos int, cache *StepCache) *autograd.Tensor
}

// ForwardStep implements StepFeedForward: the GLU layer works position by position,
// so a step is Forward over one position and keeps nothing.
func (g *GLU) ForwardStep(ctx *Context, x *autograd.Tensor, pos int, cache *StepCache) *autograd.Tensor {
	mustNotRecord(ctx, "GLU.ForwardStep")
	return g.Forward(ctx, x, Seq{Batch: x.Rows, Len: 1})
}

// mustNotRecord panics when ctx's tape records: steps compute constants.
func mustNotRecord(ctx *Context, fn string) {
	if ctx.Tape.Recording() {
		panic("layers: " + fn + " is inference only; switch the tape to inference mode (SetRecording(false))")
	}
}
