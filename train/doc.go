// Package train trains a multi-task text-to-text model: it reads the tasks of a recipe's
// data: section, builds (or loads) the tokenizer, samples mixed-task batches, runs the
// optimizer under a learning-rate schedule with gradient clipping and a NaN guard,
// evaluates each task on its dev split with the GLUE metrics, and reports progress,
// a JSONL metrics log and plots.
//
// The recipe sections it adds — data:, tokenizer: and train: — are plain structs with
// yaml tags (DataConfig, TokenizerConfig, Config); the recipe loader in package registry
// decodes them strictly. This package does not import the loader.
package train
