// Package registry is HyperGrid's plugin registry and its strict YAML recipe loader.
//
// # Components
//
// A component is a configurable part that a recipe chooses by ID: a feed-forward layer
// ("ffn.glu", "hyper.grid"), an attention layer ("attn.t5"), or a plugin's own. IDs
// are namespaced, lower-case and dot-separated, in the style of Caddy's modules; the
// namespace is everything before the last dot. A package registers its components in
// its init function:
//
//	func init() {
//		registry.Register("myorg.ffn_moe", func() any { return DefaultMoEConfig() })
//	}
//
// The factory returns the component's configuration struct with its defaults: its
// exported fields with yaml tags are the recipe keys, and the slot interface it
// implements (layers.FFNBuilder, layers.AttentionBuilder) says where it can be used.
// Registering an ID twice panics. Asking for an unknown ID, or one registered for
// another slot, is an *UnknownIDError that lists the known IDs for the slot and names
// the closest one.
//
// # Recipes
//
// A recipe is a YAML mapping of sections; today there is one, model: (see
// ModelSection), and adding one is adding a field to Recipe. Pluggable values are
// mappings with a type: key:
//
//	include: t5-mini.yaml        # read first; this file's keys override its keys
//	model:
//	  ffn:
//	    type: hyper.grid         # a registered ID
//	    grid: {rows: 32, cols: 32}
//
// Decoding is strict: an unknown key (with a "did you mean"), a value of the wrong
// type, an out-of-range number, a repeated key or an invalid setting (the Validate
// methods of the configuration structs) is an error that names its file:line:col and
// yaml path, and every error of a recipe is reported together, as an ErrorList. (A
// file that is not valid YAML, or an include that cannot be read, stops the load
// before decoding: those errors are reported alone.)
//
// Includes nest (paths are relative to the including file; cycles are errors). Merging
// is per mapping key, recursively; lists and scalars are replaced; a mapping whose
// type: differs from the included one replaces it whole. Command-line overrides
// (Loader.Sets, the CLI's --set model.ffn.grid.rows=16) apply last, with the same
// strictness; their values are YAML and their errors name the flag.
//
// Some problems need the model's shape to show (a grid that does not tile d_model):
// Recipe.Build reports them the same way, pointing at the recipe lines concerned.
package registry
