// Package autograd is the reverse-mode automatic differentiation engine of the
// framework: a Tape records the operations of one forward pass over float32 matrices
// (Tensor) and Backward replays them in reverse to accumulate gradients into the
// model's parameters (Param).
//
// Activation memory is reused between steps. Every tensor a Tape creates, and every
// buffer its operations save for the backward pass, comes from an arena owned by the
// Tape; Reset rewinds the arena without freeing it, so in steady state a training step
// allocates (almost) nothing the garbage collector has to chase. Tensors created by a
// Tape are valid only until its next Reset.
//
// A Tape in inference mode (SetRecording(false)) records nothing: operations only
// compute their outputs. Such a tape can also give memory back within a pass (Mark,
// Rewind), which lets a layer run its inference block by block in one block's memory.
//
// Some operations fuse what would otherwise be several (GatedAct, GatedFFN, GridGatedFFN,
// AddDropout, Attention): they keep fewer intermediate tensors and read them from cache,
// and their values and gradients equal their compositions' bit for bit, which the
// tests check. LinearCrossEntropy (a language model's output projection and its loss)
// never holds the logits of all rows: its loss is the composition's bit for bit, its
// gradients within float32 rounding.
//
// All heavy arithmetic is delegated to package ops.
package autograd
