package train_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/registry"
	"github.com/hypergrid-go/hypergrid/train"
)

// tinyRecipe is a small HyperGrid T5 on the embedded suite, small enough to train for a
// few steps in a test.
const tinyRecipe = `
model:
  arch: t5
  vocab: 300
  d_model: 32
  heads: 2
  d_kv: 16
  encoder_layers: 1
  decoder_layers: 1
  dropout: 0.1
  attention: {type: attn.t5}
  ffn:
    type: hyper.grid
    d_ff: 64
    activation: gelu
    gated: true
    composition: LG
    grid: {rows: 4, cols: 4}
    conditioning: first_token
    weights: [wo]
    stacks: [encoder, decoder]
data:
  tasks: [sentiment, paraphrase, similarity]
  train_limit: 300
tokenizer:
  vocab: 300
train:
  steps: 40
  batch_size: 8
  max_input_len: 48
  max_target_len: 6
  lr: 0.003
  warmup: 10
  eval_limit: 24
  seed: 3
`

func runTiny(t *testing.T, out string, sets ...string) *train.Result {
	t.Helper()
	r, err := registry.Loader{Sets: sets}.Parse("tiny.yaml", []byte(tinyRecipe))
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.Run(r.Train, r.Data, r.Tokenizer, train.Options{
		OutDir: out, Threads: 1,
		Build: func(int) (*model.Model, error) { return r.Build(r.Train.Seed) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRunTrainsAndEvaluates(t *testing.T) {
	out := t.TempDir()
	res := runTiny(t, out)
	if res.Steps != 40 || len(res.Losses) != 40 {
		t.Fatalf("ran %d steps (%d losses), want 40", res.Steps, len(res.Losses))
	}
	first, last := mean(res.Losses[:5]), mean(res.Losses[35:])
	if !(last < first) {
		t.Errorf("loss did not fall: first steps %.3f, last steps %.3f", first, last)
	}
	want := map[string][]string{"sentiment": {"accuracy"}, "paraphrase": {"f1", "accuracy"}, "similarity": {"pearson", "spearman"}}
	if len(res.Eval) != 3 {
		t.Fatalf("evaluated %d tasks, want 3", len(res.Eval))
	}
	for _, e := range res.Eval {
		for _, m := range want[e.Task] {
			v, ok := e.Metrics[m]
			if !ok || math.IsNaN(v) {
				t.Errorf("task %s: metric %s = %v (present %v)", e.Task, m, v, ok)
			}
		}
	}
	for _, f := range []string{"metrics.jsonl", "tokenizer.model", "loss.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("output %s: %v", f, err)
		}
	}
}

// TestRunIsDeterministic: the same recipe and seed give the same losses, bit for bit.
func TestRunIsDeterministic(t *testing.T) {
	a := runTiny(t, "", "train.steps=12")
	b := runTiny(t, "", "train.steps=12")
	for i := range a.Losses {
		if math.Float64bits(a.Losses[i]) != math.Float64bits(b.Losses[i]) {
			t.Fatalf("step %d: loss %v then %v", i+1, a.Losses[i], b.Losses[i])
		}
	}
}

func TestConfigValidate(t *testing.T) {
	c := train.DefaultConfig()
	c.Steps, c.Schedule, c.LR = 0, "cosine", -1
	if errs := c.Validate(); len(errs) != 3 {
		t.Errorf("Validate found %d problems (%v), want 3", len(errs), errs)
	}
	d := train.DefaultDataConfig()
	d.Tasks = []string{"sentiment", "no-such-task"}
	if errs := d.Validate(); len(errs) != 1 {
		t.Errorf("Validate found %d problems (%v), want 1", len(errs), errs)
	}
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
