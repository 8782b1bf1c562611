// Package monitor shows a person how training is going and keeps a machine-readable
// record of it.
//
// # Progress display
//
// [Progress] writes to any [io.Writer]. On a terminal ([IsTerminal]: a character device
// whose TERM is not "dumb") it keeps one line up to date with carriage returns: a bar,
// step/total, the smoothed loss, tokens per second, elapsed time and ETA, cut to the
// terminal width ($COLUMNS, else 80 columns). Anywhere else (a pipe, a file, CI) it
// prints a plain log line every N steps or T seconds:
//
//	step 100/2000 loss=2.314 lr=0.001 tok/s=5120 elapsed=20s eta=6m10s
//
// [Progress.Eval] prints evaluation results as a small per-task table with a
// GLUE-style average ([WriteEvalTable]; package metrics computes the scores, monitor
// only formats them); [Progress.Logf] prints a message
// without garbling the progress line. Time comes from [Options.Clock], so tests are
// deterministic.
//
// # Metrics log
//
// [Log] appends [Record] values to a JSONL file, one JSON object per line, each written
// with a single write call so a crash loses at most the line being written:
//
//	{"step":100,"time":"2025-01-02T03:04:05.678Z","kind":"train","loss":2.314,"lr":0.001,"tokens_per_s":5120}
//	{"step":500,"time":"2025-01-02T03:10:00Z","kind":"eval","task":"mrpc","metrics":{"accuracy":85,"f1":88.9}}
//
// [ReadFile] and [Read] parse such a file back. A truncated last line (the trace of a
// crash) is dropped; a malformed line anywhere else is an error naming file:line.
package monitor
