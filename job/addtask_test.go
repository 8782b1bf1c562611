package job

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/data/suite"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/train"
)

// addTaskBase is a tiny model of two tasks of the embedded suite; each case gives
// its model: keys.
const addTaskBase = `
model:
  vocab: 300
  d_model: 32
  heads: 2
  d_kv: 16
  encoder_layers: 1
  decoder_layers: 1
%s
data:
  tasks: [sentiment, paraphrase]
  train_limit: 60
tokenizer:
  vocab: 300
train:
  steps: 3
  batch_size: 4
  max_input_len: 32
  max_target_len: 6
  eval_limit: 6
  weight_decay: 0.1
`

// trainRun trains recipe text into dir/run and returns the run folder.
func trainRun(t *testing.T, dir, text string) string {
	t.Helper()
	r, err := recipe.Loader{}.Parse(filepath.Join(dir, "r.yaml"), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	s, err := Prepare(r, Options{CheckpointDir: filepath.Join(out, "checkpoint")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Trainer.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out
}

// answers returns every score of the model in run on the first dev examples of each
// of tasks, and the tasks' dev metrics.
func answers(t *testing.T, run string, tasks []string) ([]float64, map[string]map[string]float64) {
	t.Helper()
	tr, err := Open(run, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := tr.Predictor()
	if err != nil {
		t.Fatal(err)
	}
	var scores []float64
	results := map[string]map[string]float64{}
	for _, task := range tasks {
		exs, err := suite.Load(task, "dev")
		if err != nil {
			t.Fatal(err)
		}
		exs = exs[:8]
		items := make([]infer.Item, len(exs))
		for i, e := range exs {
			items[i] = infer.Item{Task: task, Input: e.Inputs}
		}
		ans, err := p.Answer(items)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range ans {
			scores = append(scores, a.Value)
			scores = append(scores, a.Scores...)
		}
		res, err := p.Evaluate(task, exs, 0)
		if err != nil {
			t.Fatal(err)
		}
		results[task] = res.Metrics
	}
	return scores, results
}

// The promise of adding a task: every old task's outputs are bit-identical, only the
// new task's own parameters change, and conditionings without any are refused.
func TestAddTask(t *testing.T) {
	if testing.Short() {
		t.Skip("trains eight tiny runs; skipped with -short")
	}
	for _, tc := range []struct {
		name, model string
		trained     []string // parameters (name prefixes) that may change; nil: refused
		refused     string
	}{
		{name: "task embedding", model: `  tasks: [{name: sentiment}, {name: paraphrase}]
  ffn: {type: ffn.hypergrid, d_ff: 64, grid: {rows: 4, cols: 4}, composition: LG, conditioning: task_embedding}`,
			trained: []string{"encoder.block.0.ffn.grid.task_rows", "decoder.block.0.ffn.grid.task_rows"}},
		{name: "encoder heads", model: `  arch: encoder
  decoder_layers: 0
  pooling: first_token
  tasks: [{name: sentiment, kind: classification, classes: 2}, {name: paraphrase, kind: classification, classes: 2}]
  ffn: {type: ffn.hypergrid, d_ff: 64, grid: {rows: 4, cols: 4}, conditioning: first_token, stacks: [encoder]}`,
			trained: []string{"heads.similarity.weight", "heads.similarity.bias"}},
		{name: "first token", model: `  ffn: {type: ffn.hypergrid, d_ff: 64, grid: {rows: 4, cols: 4}, conditioning: first_token}`,
			refused: "conditioning: task_embedding"},
		{name: "GG", model: `  tasks: [{name: sentiment}, {name: paraphrase}]
  ffn: {type: ffn.hypergrid, d_ff: 64, grid: {rows: 4, cols: 4}, composition: GG, conditioning: task_embedding}`,
			refused: "has no parameters of task similarity's own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(addTaskBase, "%s", tc.model, 1)
			if strings.Contains(tc.model, "arch: encoder") {
				text = strings.Replace(text, "  decoder_layers: 1\n", "", 1)
			}
			dir := t.TempDir()
			run := trainRun(t, dir, text)
			old, err := Open(run, OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r, err := AddTaskRecipe(old, train.TaskByName("similarity"), []string{"train.steps=4", "train.lr=0.01"})
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "added")
			s, trained, err := PrepareAddTask(r, "similarity", old, Options{CheckpointDir: filepath.Join(out, "checkpoint")})
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("error %v, want one containing %q", err, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(trained) != len(tc.trained) {
				t.Fatalf("trains %d slices, want %d", len(trained), len(tc.trained))
			}
			res, err := s.Trainer.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Eval) != 1 || res.Eval[0].Task != "similarity" {
				t.Fatalf("the run evaluated %+v, want the new task", res.Eval)
			}
			oldTasks := []string{"sentiment", "paraphrase"}
			before, beforeMetrics := answers(t, run, oldTasks)
			after, afterMetrics := answers(t, out, oldTasks)
			if !slices.EqualFunc(before, after, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) {
				t.Errorf("the old tasks' scores changed:\n%v\n%v", before, after)
			}
			for _, task := range oldTasks {
				for m, v := range beforeMetrics[task] {
					if afterMetrics[task][m] != v {
						t.Errorf("%s %s: %v before, %v after", task, m, v, afterMetrics[task][m])
					}
				}
			}
			// Only the new task's parameters changed: every other value is bit-identical.
			added, err := Open(out, OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(added.Recipe.Data.TaskNames(), ","); got != "sentiment,paraphrase,similarity" {
				t.Fatalf("the new run's tasks: %s", got)
			}
			oldParams := map[string]*autograd.Param{}
			for _, p := range old.Model.Params() {
				oldParams[p.Name] = p
			}
			changed := 0
			for _, p := range added.Model.Params() {
				o := oldParams[p.Name]
				if o == nil {
					if !strings.HasPrefix(p.Name, "heads.similarity.") {
						t.Errorf("new parameter %s", p.Name)
					}
					changed++
					continue
				}
				for i, v := range o.Data {
					if math.Float32bits(v) != math.Float32bits(p.Data[i]) {
						t.Fatalf("%s[%d] changed: %v -> %v", p.Name, i, v, p.Data[i])
					}
				}
				if len(p.Data) > len(o.Data) {
					changed++
				}
			}
			if changed != len(tc.trained) {
				t.Errorf("%d parameters grew or are new, want %d", changed, len(tc.trained))
			}
			// ... and the new task's own values were trained: they differ from their
			// initial values.
			fresh, err := r.Build(r.Train.Seed)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range fresh.Params() {
				q := added.Model.Params()[i]
				if o := oldParams[p.Name]; p.PerTask && o != nil && len(p.Data) > len(o.Data) {
					row := p.Data[len(p.Data)-p.Cols:]
					if slices.Equal(row, q.Data[len(q.Data)-p.Cols:]) {
						t.Errorf("%s: the new task's row was not trained", p.Name)
					}
				}
			}
		})
	}
}

// A checkpoint answers a task that this program does not know (a Go program
// registered it when training): its stored definition, its files under the data
// folder in the definition's layout.
func TestStoredTaskDefinitions(t *testing.T) {
	def, _ := data.Lookup("sentiment")
	def.Name, def.Dir = "reviews_from_go", "REVIEWS"
	tr := &Trained{Dir: "ckpt", Recipe: &recipe.Recipe{Data: train.DataConfig{Tasks: []train.TaskRef{train.TaskByName("reviews_from_go")}}},
		Info: Info{DataDir: "/data/glue"}, Stored: []data.TaskDef{def}}
	defs, err := tr.Tasks()
	if err != nil || len(defs) != 1 || defs[0].Name != "reviews_from_go" || defs[0].Prefix != def.Prefix {
		t.Fatalf("Tasks: %+v, %v", defs, err)
	}
	for _, tc := range []struct{ dataDir, want string }{{"", "/data/glue/REVIEWS"}, {"/elsewhere", "/elsewhere/REVIEWS"}} {
		dc := tr.DataConfig(tc.dataDir)
		if ref := dc.Tasks[0]; ref.Registered || filepath.ToSlash(ref.Dir) != tc.want {
			t.Errorf("DataConfig(%q): %+v, want dir %s", tc.dataDir, ref, tc.want)
		}
	}
	// Without stored definitions (older checkpoints) the recipe's names must be known.
	tr.Stored = nil
	if _, err := tr.Tasks(); err == nil || !strings.Contains(err.Error(), `unknown task "reviews_from_go"`) {
		t.Errorf("without stored definitions: %v", err)
	}
}
