// Package train trains one multi-task text-to-text model on several tasks.
//
// The pieces, each in its own file:
//
//   - tasks.go: ReadTasks reads the tasks of a recipe's data: section (the embedded
//     suite, or a folder in GLUE layout); BuildTokenizer loads or trains the tokenizer.
//   - step.go: Stepper is the training step — forward with dropout, loss, backward
//     (the gradients zeroed the deferred way: autograd.DeferZeroGrads), global-norm
//     clipping (a scale the optimizer applies as it reads the gradients:
//     optim.Optimizer.StepScaled), the optimizer (AdamW or Adafactor) at the
//     schedule's learning rate, and the NaN guard's check. The Trainer runs it, and
//     so does `hypergrid bench train`, so the benchmark measures what training runs.
//   - accum.go, distributed.go: a step's batch as micro-batches (train.grad_accum) and
//     over the ranks of a data-parallel run (Options.Comm), gradients summed.
//   - replicas.go: data parallelism inside one process (train.replicas): micro-batches
//     side by side on model replicas that share the weights, gradients added in order.
//   - loop.go: Trainer samples mixed-task batches (data.Sampler), runs the steps,
//     evaluates the dev splits (through package infer, with the GLUE metrics), keeps a
//     checkpoint every train.checkpoint_every steps and train.checkpoint_interval of
//     wall time, and stops cleanly when its context is cancelled (Ctrl-C): the step
//     under way is finished and a checkpoint written. Hooks (OnStep, OnEval,
//     OnCheckpoint, OnEnd) are how a program logs, plots and keeps the best model;
//     package job wires the CLI's.
//   - state.go: SaveCheckpoint and Restore: weights, optimizer state, the sampler's
//     position and the tokenizer, so a resumed run continues bit for bit.
//   - gates.go: MeanGates, each task's mean HyperGrid gates, for heat maps.
//   - early.go: the evaluation schedule (train.eval_every, train.eval_points) and early
//     stopping on the dev average (train.early_stopping: patience, min_delta), whose
//     counters are kept in checkpoints so a resumed run stops where it would have.
//
// The recipe sections it owns — data:, tokenizer: and train: — are plain structs with
// yaml tags (DataConfig, TokenizerConfig, Config) and Validate methods; package recipe
// decodes them strictly. This package knows nothing of recipes, plots or the CLI.
package train
