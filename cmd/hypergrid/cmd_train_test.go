package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tinyTrainRecipe = `
model:
  arch: t5
  attention: {type: attn.t5}
  vocab: 300
  d_model: 32
  heads: 2
  d_kv: 16
  encoder_layers: 1
  decoder_layers: 1
  ffn:
    type: hyper.grid
    d_ff: 64
    grid: {rows: 4, cols: 4}
    composition: LG
    conditioning: first_token
    weights: [wo]
    stacks: [encoder, decoder]
data:
  tasks: [sentiment, paraphrase, similarity]
  train_limit: 100
tokenizer:
  vocab: 300
train:
  steps: 5
  batch_size: 4
  eval_limit: 8
  eval_every: 0
`

func TestTrainCommand(t *testing.T) {
	dir := t.TempDir()
	recipe := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(recipe, []byte(tinyTrainRecipe), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"train", recipe, "--out", filepath.Join(dir, "run"), "--threads", "1"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"task sentiment accuracy=", "task paraphrase accuracy=", "task similarity pearson=", "done: 5 steps"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "metrics.jsonl")); err != nil {
		t.Error(err)
	}
}

func TestTrainCommandUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"train", "a.yaml", "b.yaml"}, &out, &errb); code != 2 {
		t.Errorf("two recipes: exit %d, want 2 (%s)", code, errb.String())
	}
	if code := run([]string{"train", "--set", "train.steps=zero"}, &out, &errb); code != 2 {
		t.Errorf("a wrong type in --set: exit %d, want 2 (%s)", code, errb.String())
	}
}
