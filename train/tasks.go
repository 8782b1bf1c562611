package train

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/data/suite"
	"github.com/hypergrid-go/hypergrid/tokenizer"
)

// TaskData is one task of a run with its examples.
type TaskData struct {
	// Def is the task's definition.
	Def data.TaskDef
	// Train and Dev are the task's training and dev examples (nil for a split that
	// was not read).
	Train, Dev []data.Example
}

// The splits ReadTasks reads.
const (
	SplitTrain = "train"
	SplitDev   = "dev"
)

// ReadTasks reads the given splits (SplitTrain, SplitDev) of each task of dc. A
// registered task is read from the embedded suite when dc.Dir is empty, else from
// dc.Dir in GLUE layout; a task defined in the recipe from its own folder (its Dir,
// which the recipe loader made absolute). The training split is cut to
// dc.TrainLimit examples. An empty split, or one without labels, is an error naming
// the task and the file.
func ReadTasks(dc DataConfig, splits ...string) ([]TaskData, error) {
	var out []TaskData
	for _, ref := range dc.Tasks {
		name := ref.Name
		def, err := ref.Def()
		if err != nil {
			return nil, err
		}
		if def.IsSpanCorruption() {
			td, err := readSpanTask(def, dc)
			if err != nil {
				return nil, err
			}
			out = append(out, td)
			continue
		}
		td := TaskData{Def: def}
		for _, split := range splits {
			var exs []data.Example
			var err error
			switch {
			case !ref.Registered:
				exs, _, err = data.ReadSplit(def, "", split, data.ReadOptions{})
				if err != nil {
					return nil, err
				}
			case dc.Dir == "":
				exs, err = suite.Load(name, split)
				if err != nil {
					return nil, fmt.Errorf("task %s is not in the embedded suite (%w); give its files with --data DIR", name, err)
				}
			default:
				exs, _, err = data.ReadSplit(def, dc.Dir, split, data.ReadOptions{})
				if err != nil {
					return nil, err
				}
			}
			if split == SplitTrain && dc.TrainLimit > 0 && len(exs) > dc.TrainLimit {
				exs = exs[:dc.TrainLimit]
			}
			if len(exs) == 0 {
				return nil, fmt.Errorf("task %s: the %s split is empty", name, split)
			}
			switch split {
			case SplitTrain:
				td.Train = exs
			case SplitDev:
				td.Dev = exs
			default:
				panic("train.ReadTasks: unknown split " + split)
			}
		}
		out = append(out, td)
	}
	return out, nil
}

// Defs returns the tasks' definitions.
func Defs(tasks []TaskData) []data.TaskDef {
	defs := make([]data.TaskDef, len(tasks))
	for i, t := range tasks {
		defs[i] = t.Def
	}
	return defs
}

// BuildTokenizer loads the tokenizer tc names, or trains one on the tasks' training
// text (inputs and targets, task by task) when it names none, and adds tc.ExtraIDs
// sentinels to it.
func BuildTokenizer(tc TokenizerConfig, tasks []TaskData) (*tokenizer.Model, error) {
	tok, err := buildTokenizer(tc, tasks)
	if err != nil {
		return nil, err
	}
	return WithExtraIDs(tok, tc.ExtraIDs)
}

// WithExtraIDs adds n sentinels to tok (tokenizer.extra_ids; see
// tokenizer.Model.WithExtraIDs): what a run, a resumed run and a restored model do to
// the tokenizer file they read.
func WithExtraIDs(tok *tokenizer.Model, n int) (*tokenizer.Model, error) {
	if n == tok.ExtraIDs() {
		return tok, nil
	}
	t, err := tok.WithExtraIDs(n)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.extra_ids: %w", err)
	}
	return t, nil
}

func buildTokenizer(tc TokenizerConfig, tasks []TaskData) (*tokenizer.Model, error) {
	if tc.Model != "" {
		return tokenizer.Load(tc.Model)
	}
	typ, err := tokenizer.ParseModelType(tc.Type)
	if err != nil {
		return nil, err
	}
	var text []string
	for _, t := range tasks {
		for _, ex := range t.Train {
			text = append(text, ex.Inputs, ex.Targets)
		}
	}
	// tokenizer.vocab is an upper bound: a small suite's text may yield fewer pieces.
	tok, err := tokenizer.Train(tokenizer.TrainOptions{Sentences: text, VocabSize: tc.Vocab, Type: typ, SoftVocabLimit: true})
	if err != nil {
		return nil, fmt.Errorf("training the tokenizer: %w", err)
	}
	return tok, nil
}
