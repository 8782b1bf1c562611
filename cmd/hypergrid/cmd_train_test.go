package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
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

	// The run's checkpoint: inspect, eval --json, then a corrupted copy is refused.
	out.Reset()
	if code := run([]string{"inspect", filepath.Join(dir, "run")}, &out, &errb); code != 0 || !strings.Contains(out.String(), "verified") {
		t.Fatalf("inspect: exit %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"eval", filepath.Join(dir, "run"), "--json", "--threads", "1"}, &out, &errb); code != 0 {
		t.Fatalf("eval: exit %d\n%s%s", code, out.String(), errb.String())
	}
	var res struct {
		Step  int
		Tasks map[string]map[string]float64
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Step != 5 || len(res.Tasks) != 3 {
		t.Fatalf("eval --json printed %q (%v)", out.String(), err)
	}
	out.Reset()
	in := strings.NewReader(`{"sentence1": "a b c .", "sentence2": "a b c ."}` + "\n")
	if err := runPredict([]string{filepath.Join(dir, "run"), "--task", "paraphrase", "--threads", "1"}, in, &out, &errb); err != nil {
		t.Fatalf("predict: %v", err)
	}
	var pred struct{ Prediction string }
	if err := json.Unmarshal(out.Bytes(), &pred); err != nil || (pred.Prediction != "equivalent" && pred.Prediction != "not_equivalent") {
		t.Fatalf("predict printed %q (%v)", out.String(), err)
	}
	weights := filepath.Join(dir, "run", "checkpoint", "model.safetensors")
	b, _ := os.ReadFile(weights)
	b[100] ^= 0x40
	os.WriteFile(weights, b, 0o644)
	errb.Reset()
	if code := run([]string{"eval", filepath.Join(dir, "run")}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "SHA-256 mismatch") {
		t.Fatalf("eval of a corrupted checkpoint: exit %d, stderr %q", code, errb.String())
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

// train says how it uses the threads: model replicas side by side when asked for, and
// otherwise, with 2+ threads, how to ask for them.
func TestTrainSaysHowItUsesTheThreads(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	for i, c := range []struct {
		args       []string
		want, lack string
	}{
		{[]string{"--threads", "2"}, "--set train.replicas=2 runs 2 model replicas side by side instead", "model replicas, side by side"},
		{[]string{"--threads", "2", "--set", "train.replicas=2"}, "2 model replicas, side by side, 1 kernel thread(s) each", "instead"},
		{[]string{"--threads", "1"}, "training ", "replicas"},
	} {
		args := append([]string{"train", rec, "--out", filepath.Join(dir, "run"+strconv.Itoa(i)), "--steps", "1"}, c.args...)
		code, stdout, stderr := hg(t, args...)
		if code != 0 || !strings.Contains(stdout, c.want) || strings.Contains(stdout, c.lack) {
			t.Errorf("%s: exit %d, want %q and not %q in\n%s%s", strings.Join(c.args, " "), code, c.want, c.lack, stdout, stderr)
		}
	}
}
