// Package job puts the framework's pieces together into training jobs (runs), as the CLI and
// programs that embed it use them:
//
//   - Prepare turns a recipe into a run ready to train: it reads the tasks' data, builds
//     (or restores) the tokenizer, builds the model with the tokenizer's vocabulary
//     checked, and makes the train.Trainer — restoring it from a checkpoint to resume.
//   - Attach wires the hooks a run's output folder gets: the progress line, the JSONL
//     metrics log, the loss and metric plots, the best checkpoint, the gate heat maps.
//   - NewDir and CheckOut manage output folders (runs/<timestamp>, runs/latest);
//     Open restores a trained model from a run or checkpoint folder for eval, predict
//     and serving, with its recipe, tokenizer, run settings and task definitions
//     (stored in every checkpoint, so tasks defined in a recipe need no Go code).
//   - AddTaskRecipe and PrepareAddTask add a task to a trained model: only the new
//     task's own parameters train (TaskParams: its row of every per-task table, its
//     head); the others are frozen, and the old tasks' outputs stay bit-identical.
//
// Data flows one way: recipe → model and data → train.Trainer; nothing below this
// package knows about it.
package job
