package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const pretrainRecipe = `
model:
  vocab: 300
  d_model: 32
  heads: 2
  d_kv: 16
  encoder_layers: 1
  decoder_layers: 1
  ffn: {type: ffn.glu, d_ff: 64}
data:
  tasks:
    - {name: pretrain, kind: span_corruption, dir: corpus}
tokenizer:
  vocab: 280
  extra_ids: 20
train:
  steps: 4
  batch_size: 4
  max_input_len: 32
  max_target_len: 12
  eval_every: 0
`

const fineTuneRecipe = `
model:
  init: {from: pre}
  ffn: {type: ffn.hypergrid, grid: {rows: 4, cols: 4}, gate_init: 1, exact_init: true}
data:
  tasks: [sentiment]
  train_limit: 40
train:
  steps: 3
  batch_size: 4
  max_input_len: 32
  max_target_len: 6
  eval_limit: 8
  eval_every: 0
`

// Pretraining with span corruption on a folder of .txt files, then fine-tuning from it
// with HyperGrid gates added (model.init.from), then evaluating the fine-tuned run.
func TestPretrainThenFineTune(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "corpus"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("the film is a quiet , moving portrait of a family .\nan hour of tedium and bad jokes that never land .\n", 30)
	if err := os.WriteFile(filepath.Join(dir, "corpus", "a.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	pre := writeRecipe(t, dir, "pre.yaml", pretrainRecipe)
	code, stdout, stderr := hg(t, "train", pre, "--out", filepath.Join(dir, "pre"), "--threads", "1")
	if code != 0 {
		t.Fatalf("pretraining: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "no task is evaluated") || strings.Contains(stdout, "GLUE-style average") {
		t.Errorf("a span-corruption run reports an average of no task:\n%s", stdout)
	}
	// eval and predict on it say there is nothing to score, and what to use instead.
	code, stdout, stderr = hg(t, "eval", filepath.Join(dir, "pre"))
	if code != 0 || !strings.Contains(stdout, "no task to evaluate") || strings.Contains(stdout, "average") {
		t.Errorf("eval of a span-corruption run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = hg(t, "predict", filepath.Join(dir, "pre"), "--task", "pretrain", "a film")
	if code != 2 || !strings.Contains(stderr, "span-corruption task") || !strings.Contains(stderr, "hypergrid generate") {
		t.Errorf("predict of a span-corruption task: exit %d\n%s", code, stderr)
	}
	ft := writeRecipe(t, dir, "ft.yaml", strings.Replace(fineTuneRecipe, "from: pre", "from: "+filepath.Join(dir, "pre"), 1))
	code, stdout, stderr = hg(t, "train", ft, "--out", filepath.Join(dir, "ft"), "--threads", "1")
	if code != 0 {
		t.Fatalf("fine-tuning: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "starting from "+filepath.Join(dir, "pre", "checkpoint")) || !strings.Contains(stdout, "new") {
		t.Errorf("fine-tuning does not say where it starts from:\n%s", stdout)
	}
	code, stdout, stderr = hg(t, "eval", filepath.Join(dir, "ft"))
	if code != 0 || !strings.Contains(stdout, "sentiment") {
		t.Errorf("eval of the fine-tuned run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A span task without extra ids is refused with what to set.
	bad := writeRecipe(t, dir, "bad.yaml", strings.Replace(pretrainRecipe, "extra_ids: 20", "extra_ids: 0", 1))
	code, _, stderr = hg(t, "train", bad, "--out", filepath.Join(dir, "bad"), "--threads", "1")
	if code == 0 || !strings.Contains(stderr, "tokenizer.extra_ids") {
		t.Errorf("span corruption without extra ids: exit %d\n%s", code, stderr)
	}
}
