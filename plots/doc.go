// Package plots draws PNG charts of a training run: the training loss and the dev
// metrics from the records of a metrics log (package monitor), and heat maps of the
// HyperGrid gates each task learned.
//
//   - [Loss]: training loss over steps, the raw values faint and their moving average
//     as a solid line.
//   - [Metrics]: each task's dev metrics over steps, one line per task and metric, with
//     the GLUE-style average and a legend beside the plot.
//   - [Gates]: one PNG per task with a panel per layer showing the mean gate of every
//     grid cell, sharing one colour scale (a viridis-like palette) fitted to the values
//     of all tasks, named on the colour bar.
//   - [Options.Compare]: named series (each task's score, the average) side by side
//     over categories (a sweep's grid points), mean ± std whiskers.
//
// Records may come from a log that was appended to after a resume: when several
// records share a step (and task), the last one wins, and series are drawn in step
// order. Every file is written atomically: to a temporary file in the same directory,
// then renamed over the target, so a reader never sees half a PNG.
//
// [Options] sets sizes and choices; its zero value gives the defaults, and the
// package-level functions use it.
package plots
