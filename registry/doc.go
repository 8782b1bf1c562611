// Package registry is HyperGrid's component registry: the IDs under which layers
// register themselves, the slots they fill, and the errors about them. It imports
// nothing of the framework, so a plugin that registers a layer pulls in only the
// numeric core it builds on; the YAML recipe loader that uses the registry is package
// recipe.
//
// # Components and slots
//
// A component is a configurable part that a recipe chooses by ID: a feed-forward layer
// ("ffn.glu", "ffn.hypergrid"), an attention layer ("attn.t5"), or a plugin's own. IDs
// are lower-case and dot-separated, in the style of Caddy's modules; by convention the
// first label names the slot the component fills ("ffn" for feed-forward layers,
// "attn" for attention) and a plugin adds its own label ("ffn.gateplugin.grid"). A
// package registers its components in its init function:
//
//	func init() {
//		registry.Register("ffn.myorg_moe", func() any { return DefaultMoEConfig() })
//	}
//
// The factory returns the component's configuration struct with its defaults: its
// exported fields with yaml tags are the recipe keys, and the slot interface it
// implements (layers.FFNBuilder, layers.AttentionBuilder) says where it can be used.
// The framework's own components register themselves the same way, in packages layers
// ("ffn.glu", "attn.t5") and hyper ("ffn.hypergrid", also known by its first name
// "hyper.grid", an Alias).
//
// Registering an ID twice panics. Asking for an unknown ID, or one registered for
// another slot, is an *UnknownIDError that lists the known IDs for the slot and names
// the closest one (Closest, the "did you mean" of every unknown name).
//
// # Field errors
//
// A configuration struct checks itself in a Validate() []error method. An error about
// one field is a *FieldError carrying the field's yaml path, so that the recipe loader
// can point at the value's file:line:col; Prefix moves such errors under an enclosing
// key.
package registry
