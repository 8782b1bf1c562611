// Package infer answers tasks with a model: it encodes inputs with the model's
// tokenizer, lays them into padded batches, and scores each task's possible outputs
// (label words, or the values of a regression task's rounding grid) as T5 does, or
// reads an encoder model's task heads. It also evaluates a task's labelled examples
// with the task's GLUE metrics, and moves a model's weights to and from checkpoint
// tensors.
//
// It knows nothing of recipes or training: the trainer evaluates through it, and the
// CLI's predict and eval (and the server) restore a trained model and answer through
// it (package job does the restoring: job.Open).
package infer
