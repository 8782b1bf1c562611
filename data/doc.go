// Package data reads labelled text data sets and turns them into T5-style text-to-text
// examples for multi-task training.
//
// # Task definitions
//
// A [TaskDef] is plain data: the task's name, the file format ("tsv" for the GLUE
// layout, "jsonl" for SuperGLUE, "csv" for comma-separated files), the T5 prefix put in front of the input, the input
// fields (which column or JSON key feeds which "name: value" part of the input), the
// label words the model must generate (or the regression settings), and the names of
// the metrics the task is scored with. Definitions can be written in YAML (the struct
// has yaml tags; see [DecodeTaskDefs]) or registered from Go with [Register]. The GLUE
// tasks (cola, sst2, mrpc, qqp, stsb, mnli, mnli_matched, mnli_mismatched, qnli, rte,
// wnli, ax) and the SuperGLUE tasks (boolq, cb, copa, superglue_rte, wic, wsc, axb,
// axg) are registered by this package, following T5's preprocessors: for example an
// SST-2 row becomes
//
//	inputs:  "sst2 sentence: a gripping film ."
//	targets: "positive"
//
// and an STS-B row "stsb sentence1: … sentence2: …" with the score rounded to the
// nearest 0.2 as the target ("3.8").
//
// # Reading
//
// [ReadFile], [ReadFS] and [Read] read one file of a task into [Example] values; each
// example carries its text-to-text form (Inputs, Targets), and for encoder models its
// class id (Label) or regression target (Score). GLUE TSV files are read with quoting
// disabled: a double quote is an ordinary character. CSV files are read with RFC 4180
// quoting (encoding/csv): a quoted cell may hold commas, doubled quotes and line
// breaks, and a row's line is the line it starts on. Test splits, which have no label
// column (TSV, CSV) or no "label" key (JSONL), are read with HasLabel false; training and
// dev splits must be labelled ([ReadSplit] sets [ReadOptions].RequireLabels for them).
// A malformed row (a wrong number of cells, an unknown label, a NUL byte, text that
// is not UTF-8) is an error naming the file and line ([*RowError]); with
// [ReadOptions].SkipMalformed it is skipped instead, and counted in [ReadStats].
//
// A file that cannot be read as lines of text is refused whatever the options, with a
// message saying how to fix it: CR-only (old Mac) or UTF-16 line ends, a file larger
// than [MaxFileSize] or a line longer than [MaxLineSize], and for [ReadFile] and
// [ReadFS] anything that is not a regular file (a FIFO, a device, a folder).
//
// # Mixtures and sampling
//
// [MixtureSpec] gives T5's mixing rates (examples-proportional with a cap K,
// temperature-scaled, equal). A [Sampler] draws examples from several tasks with those
// rates, deterministically from a seed, shuffling each task's examples anew every
// epoch; its position is a small JSON-serialisable [SamplerState], so a resumed run
// sees exactly the batches an uninterrupted run would have seen.
//
// The default suite of small generated tasks that ships with the project lives in the
// subpackage data/suite.
package data
