// Package suite is the default suite of small tasks that ships with the project, so
// that a default run needs no download. Its files are embedded in the binary.
//
// The three tasks are generated from templates by internal/synth, deterministically,
// and stored in the GLUE layouts, so they are read by the same code as GLUE:
//
//   - sentiment: one sentence, negative or positive (SST-2 layout). The label follows
//     from negation and from which clause of a contrast is the main one, not from any
//     single word. Metric: accuracy.
//   - paraphrase: two sentences, equivalent or not (MRPC layout). Equivalent pairs
//     differ in voice, synonyms and word order; non-equivalent pairs differ in one
//     detail (who, what, where, when, a negation, or who did what to whom). Metrics:
//     f1, accuracy.
//   - similarity: two sentences, a score from 0 to 5 counting the shared parts of the
//     scenes they describe, with half points for related parts (STS-B layout;
//     regression). Metrics: pearson, spearman.
//
// Each has 2000 training and 400 dev rows; the classification tasks are balanced, so
// a majority-class baseline scores 50% accuracy. README.md in this folder describes
// the tasks in detail. The tasks are registered in package data's registry under the
// names above when this package is imported.
package suite

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/hypergrid-go/hypergrid/data"
)

//go:generate go run ./internal/gensuite -out files

//go:embed files
var files embed.FS

// FS returns the suite's files: "<task>/train.tsv" and "<task>/dev.tsv" per task.
func FS() fs.FS {
	sub, err := fs.Sub(files, "files")
	if err != nil {
		panic(err) // the embedded folder exists: this is a build error
	}
	return sub
}

// Names of the suite's tasks.
const (
	Sentiment  = "sentiment"
	Paraphrase = "paraphrase"
	Similarity = "similarity"
)

// Tasks returns the definitions of the suite's tasks, in a fixed order.
func Tasks() []data.TaskDef {
	return []data.TaskDef{
		{
			Name: Sentiment, Prefix: Sentiment, Format: data.FormatTSV, Dir: Sentiment,
			Inputs:     []data.Field{{Name: "sentence"}},
			Label:      "label",
			LabelWords: []string{"negative", "positive"},
			Metrics:    []string{data.MetricAccuracy},
		},
		{
			Name: Paraphrase, Prefix: Paraphrase, Format: data.FormatTSV, Dir: Paraphrase,
			Inputs:     []data.Field{{Name: "sentence1", Column: "#1 String"}, {Name: "sentence2", Column: "#2 String"}},
			Label:      "Quality",
			LabelWords: []string{"not_equivalent", "equivalent"},
			Metrics:    []string{data.MetricF1, data.MetricAccuracy},
		},
		{
			Name: Similarity, Prefix: Similarity, Format: data.FormatTSV, Dir: Similarity,
			ID:      "index",
			Inputs:  []data.Field{{Name: "sentence1"}, {Name: "sentence2"}},
			Label:   "score",
			Type:    data.Regression,
			Round:   0.5, // the scores are multiples of 0.5
			Range:   []float64{0, 5},
			Metrics: []string{data.MetricPearson, data.MetricSpearman},
		},
	}
}

func init() {
	for _, def := range Tasks() {
		data.Register(def)
	}
}

// Load reads one split ("train" or "dev") of a suite task; every row must be
// labelled. The embedded files are well formed, so any error means the task or split
// name is wrong.
func Load(task, split string) ([]data.Example, error) {
	for _, def := range Tasks() {
		if def.Name != task {
			continue
		}
		exs, _, err := data.ReadFS(def, FS(), def.SplitPath(split), data.ReadOptions{RequireLabels: true})
		if err != nil {
			return nil, fmt.Errorf("suite: task %s, split %q: %w (the suite has train and dev)", task, split, err)
		}
		return exs, nil
	}
	return nil, fmt.Errorf("suite: no task %q (the suite has %s, %s and %s)", task, Sentiment, Paraphrase, Similarity)
}
