// Package model assembles the framework's architectures from a Spec: a T5.1.1-style
// encoder-decoder (text-to-text, trained with teacher forcing; greedy decoding, and
// classification by scoring a task's candidate label sequences) and an encoder-only
// model with one classification or regression head per task.
//
// The feed-forward and attention sublayers are pluggable: Spec.FFN and Spec.Attention
// are builders (layers.FFNBuilder, layers.AttentionBuilder) such as *layers.GLUConfig,
// *hyper.GridConfig or a plugin's configuration.
package model
