// Package recipe loads recipes: YAML files that describe a multi-task model and how to
// train it, decoded strictly into typed sections.
//
// # Sections
//
// A recipe has four sections (see Recipe): model: (the architecture, with pluggable
// sublayers chosen by registered ID), data: (the tasks — registered ones by name, or
// definitions whose dir is relative to the recipe file, see train.TaskRef — where
// their files are, the mixture), tokenizer: (a SentencePiece .model file, or the
// vocabulary of one trained on the tasks' training text) and train: (steps, batch,
// optimizer, schedule, clipping, evaluation, checkpoints). Pluggable values are
// mappings with a type: key naming a component of package registry:
//
//	include: t5-mini             # a shipped recipe by name, or a file next to this one
//	model:
//	  ffn:
//	    type: ffn.hypergrid      # a registered ID (see package registry)
//	    grid: {rows: 32, cols: 32}
//	train:
//	  steps: 2000
//
// # Strictness
//
// Decoding is strict: an unknown key (with a "did you mean"), a value of the wrong
// type, an out-of-range number, a repeated key or an invalid setting (the Validate
// methods of the configuration structs, each run once) is an error that names its
// file:line:col (or the --set flag that gave the value) and its yaml path, and every
// error of a recipe is reported together, once, as an ErrorList. (A file that is not
// valid YAML, or an include that cannot be read, stops the load before decoding: those
// errors are reported alone.) Problems that need the model's shape to show (a grid that
// does not tile d_model) are found by Recipe.Build and reported the same way.
//
// # Includes and overrides
//
// Includes nest. An include is a shipped recipe by name ("include: t5-mini"; inside a
// shipped recipe every include is another shipped one) or a path relative to the
// including file that stays inside the folder of the recipe being loaded: no absolute
// paths, no ../ out of it, so that what a recipe reads travels with it. Merging is per
// mapping key, recursively; lists and scalars are replaced; a mapping whose type:
// differs from the included one replaces it whole. Command-line overrides
// (Loader.Sets, the CLI's --set model.ffn.grid.rows=16) apply last, with the same
// strictness; their values are YAML and their errors name the flag.
//
// Files are read through a limit (MaxFileBytes) and must be regular files. A recipe
// loaded from a file or by name keeps the text of everything it read (Info.Snapshot),
// which a checkpoint stores so that the run can be resumed, evaluated and served from
// the checkpoint alone.
package recipe
