// Package model assembles the framework's architectures from a Spec: a T5.1.1-style
// encoder-decoder (text-to-text, trained with teacher forcing; greedy decoding, and
// classification by scoring a task's candidate label sequences) and an encoder-only
// model with one classification or regression head per task.
//
// Generate decodes incrementally: the encoder runs once, the decoder's self-attention
// keys and values are kept per step (a KV cache), the cross-attention keys and values
// and the HyperGrid gates are computed once per example, so each new token costs one
// position. Its outputs are those of re-running the decoder over the whole prefix (the
// tests keep that reference). Spec.Estimate gives a model's memory without building it.
// Model.Replica builds a second model on the same parameter values with gradients of
// its own, so that passes may run side by side (data parallelism in one process).
//
// The feed-forward and attention sublayers are pluggable: Spec.FFN and Spec.Attention
// are builders (layers.FFNBuilder, layers.AttentionBuilder) such as *layers.GLUConfig,
// *hyper.GridConfig or a plugin's configuration.
package model
