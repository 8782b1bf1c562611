package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hypergrid-go/hypergrid/checkpoint"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/job"
)

// glueFile is one file of a GLUE submission: its name on the GLUE server, the task
// definition that reads its test split (its folder and file), and whether the
// submission may go without it (the diagnostic set of an MNLI model).
type glueFile struct {
	name     string
	readAs   string
	optional bool
}

// glueSubmission maps the registered GLUE tasks to the files of a GLUE submission
// (gluebenchmark.com: one TSV per task, "index<TAB>prediction"). A model trained on
// mnli answers both MNLI test sets and the diagnostic set AX (cast as MNLI).
var glueSubmission = map[string][]glueFile{
	"cola":            {{name: "CoLA.tsv", readAs: "cola"}},
	"sst2":            {{name: "SST-2.tsv", readAs: "sst2"}},
	"mrpc":            {{name: "MRPC.tsv", readAs: "mrpc"}},
	"qqp":             {{name: "QQP.tsv", readAs: "qqp"}},
	"stsb":            {{name: "STS-B.tsv", readAs: "stsb"}},
	"mnli":            {{name: "MNLI-m.tsv", readAs: "mnli_matched"}, {name: "MNLI-mm.tsv", readAs: "mnli_mismatched"}, {name: "AX.tsv", readAs: "ax", optional: true}},
	"mnli_matched":    {{name: "MNLI-m.tsv", readAs: "mnli_matched"}},
	"mnli_mismatched": {{name: "MNLI-mm.tsv", readAs: "mnli_mismatched"}},
	"qnli":            {{name: "QNLI.tsv", readAs: "qnli"}},
	"rte":             {{name: "RTE.tsv", readAs: "rte"}},
	"wnli":            {{name: "WNLI.tsv", readAs: "wnli"}},
	"ax":              {{name: "AX.tsv", readAs: "ax"}},
}

// glueTaskNames lists the tasks --glue-submit knows.
func glueTaskNames() string {
	names := make([]string, 0, len(glueSubmission))
	for n := range glueSubmission {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// glueSubmit writes the GLUE submission files of the checkpoint's GLUE tasks (only
// task when not empty) into dir: each task's test split, read from the run's data
// folder (or dataDir), answered by the model.
func glueSubmit(tr *job.Trained, pred *infer.Predictor, task, dataDir, dir string, stdout io.Writer) error {
	if task != "" {
		if _, err := pred.Task(task); err != nil {
			return usageError("%v (checkpoint %s)", err, tr.Dir)
		}
	}
	// Only GLUE's registered tasks: a task defined in a recipe may share a name.
	var glue, other []string
	for _, t := range tr.Recipe.Data.Tasks {
		if task != "" && t.Name != task {
			continue
		}
		if _, ok := glueSubmission[t.Name]; ok && t.Registered {
			glue = append(glue, t.Name)
		} else {
			other = append(other, t.Name)
		}
	}
	if len(glue) == 0 {
		return usageError("predict --glue-submit: the checkpoint's tasks (%s) are not GLUE tasks; --glue-submit writes GLUE's test predictions for the tasks %s (checkpoint %s)",
			strings.Join(other, ", "), glueTaskNames(), tr.Dir)
	}
	root := tr.DataConfig(dataDir).Dir
	if root == "" {
		return usageError("predict --glue-submit: the run read its tasks from the embedded suite; give --data DIR, a folder in GLUE layout with the test files (e.g. SST-2/test.tsv)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--glue-submit folder: %w", err)
	}
	for _, t := range glue {
		for _, f := range glueSubmission[t] {
			def, ok := data.Lookup(f.readAs)
			if !ok {
				return fmt.Errorf("GLUE task %s is not registered in this program", f.readAs)
			}
			path := filepath.Join(root, filepath.FromSlash(def.SplitPath("test")))
			if _, err := os.Stat(path); f.optional && os.IsNotExist(err) {
				fmt.Fprintf(stdout, "%s: skipped (no %s)\n", f.name, path)
				continue
			}
			exs, _, err := data.ReadSplit(def, root, "test", data.ReadOptions{})
			if err != nil {
				return fmt.Errorf("%w (--glue-submit reads each task's test split; put GLUE's test files in %s or give --data)", err, root)
			}
			inputs := make([]string, len(exs))
			for i := range exs {
				inputs[i] = exs[i].Inputs
			}
			preds, err := pred.Predict(t, inputs)
			if err != nil {
				return fmt.Errorf("task %s: %w", t, err)
			}
			b, err := glueRows(def, exs, preds)
			if err != nil {
				return fmt.Errorf("task %s, %s: %w", t, path, err)
			}
			out := filepath.Join(dir, f.name)
			if err := checkpoint.WriteFileAtomic(out, b); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: %d predictions of %s (%s)\n", out, len(exs), t, path)
		}
	}
	if len(other) > 0 {
		fmt.Fprintf(stdout, "not GLUE tasks, no file: %s\n", strings.Join(other, ", "))
	}
	return nil
}

// glueRows writes a submission file: the header "index<TAB>prediction", then one row
// per test example in file order: its index (the file's id column, else its row
// number from 0) and the prediction as GLUE writes labels (the task's label values,
// else the class id; a regression value clamped to the task's range, 3 decimals).
func glueRows(def data.TaskDef, exs []data.Example, preds []infer.Prediction) ([]byte, error) {
	if len(preds) != len(exs) {
		return nil, fmt.Errorf("%d predictions for %d examples", len(preds), len(exs))
	}
	var b strings.Builder
	b.WriteString("index\tprediction\n")
	for i, ex := range exs {
		index := ex.ID
		if index == "" {
			index = strconv.Itoa(ex.Index)
		}
		p := preds[i]
		var v string
		switch {
		case def.Type == data.Regression:
			x := p.Value
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("line %d: the prediction %v is not a number", ex.Line, x)
			}
			if len(def.Range) == 2 {
				x = math.Min(math.Max(x, def.Range[0]), def.Range[1])
			}
			v = strconv.FormatFloat(x, 'f', 3, 64)
		case p.Class < 0 || p.Class >= len(def.LabelWords):
			return nil, fmt.Errorf("line %d: the prediction %q is no class of the task", ex.Line, p.Text)
		case len(def.LabelValues) > 0:
			v = def.LabelValues[p.Class]
		default:
			v = strconv.Itoa(p.Class)
		}
		fmt.Fprintf(&b, "%s\t%s\n", index, v)
	}
	return []byte(b.String()), nil
}
