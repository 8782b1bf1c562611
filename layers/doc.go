// Package layers holds the Transformer building blocks of the framework, built on the
// autograd tape: token embedding with a tied or untied output projection, linear
// layers, RMSNorm and LayerNorm, multi-head attention (self and cross, with T5's
// relative position bias, padding and causal masks), the GLU feed-forward layer,
// dropout, and the output heads with their losses.
//
// It also defines the extension points through which recipes plug components into a
// model: a FeedForward built by an FFNBuilder and an Attention built by an
// AttentionBuilder, both for a Site (the place in the model). Builders are plain
// configuration structs with yaml tags and a Validate method; package layers never
// reads YAML itself.
package layers
