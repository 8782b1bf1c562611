package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/tokenizer"
)

// python is the interpreter of the hf package's PyTorch reference
// (hf/testdata/t5_reference.py).
const python = "/usr/bin/python3"

// findTorch exits 0 when torch is installed, without importing it (seconds).
const findTorch = "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None and 'no module named torch')"

// needTorch skips t unless python3 can import torch (apt-get install python3-torch).
func needTorch(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(python, "-c", findTorch).CombinedOutput(); err != nil {
		t.Skipf("the PyTorch reference needs %s with torch (apt-get install python3-torch): %v %s", python, err, strings.TrimSpace(string(out)))
	}
}

// refOut is what the reference prints for one run.
type refOut struct {
	IDs      []int32   `json:"ids"`
	Logprobs []float64 `json:"logprobs"`
}

// t5Reference runs hf/testdata/t5_reference.py in batch mode (see there).
func t5Reference(t *testing.T, makes, runs [][]string) []refOut {
	t.Helper()
	job, _ := json.Marshal(map[string]any{"make": makes, "run": runs})
	cmd := exec.Command(python, filepath.Join("..", "..", "hf", "testdata", "t5_reference.py"), "batch")
	cmd.Stdin = bytes.NewReader(job)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the reference failed: %v\n%s", err, stderr.String())
	}
	var res []refOut
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(runs) {
		t.Fatalf("the reference printed %q (%v)", out, err)
	}
	return res
}

// writeSpiece writes a small SentencePiece model as dir/spiece.model, with a
// tokenizer_config.json of T5's 100 sentinels.
func writeSpiece(t *testing.T, dir string) {
	t.Helper()
	if spiece == nil {
		spiece = trainSpiece(t)
	}
	if err := os.WriteFile(filepath.Join(dir, "spiece.model"), spiece, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"extra_ids": 100, "eos_token": "</s>"}`), 0o644); err != nil {
		t.Fatal(err)
	}
}

// spiece is the tokenizer of writeSpiece, trained once.
var spiece []byte

func trainSpiece(t *testing.T) []byte {
	tok, err := tokenizer.Train(tokenizer.TrainOptions{VocabSize: 50, SoftVocabLimit: true, Normalization: tokenizer.Identity, SeedPieces: 1000, Sentences: []string{
		"the cat sat on the mat .", "a fine , moving film .", "the plot is not clever .", "translate English to German : hello",
		"sentence one and sentence two", "a cat was sitting on the mat ."}})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Marshal()
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("output %q: %v", s, err)
	}
	return v
}

func checkLogprobs(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d logprobs, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(got[i] - want[i]); !(d <= 1e-4) {
			t.Errorf("%s: logprob %d = %.7f, reference %.7f", what, i, got[i], want[i])
		}
	}
}

// TestImportHFMatchesReference imports Hugging Face folders made by the independent
// PyTorch reference (a tied v1.0 F32 one and a sharded, BF16 v1.1 one with copies of
// the embedding) and checks "logprobs" and "generate" against the reference; the
// imported checkpoint works with inspect, eval and predict; "export hf" writes a
// folder the reference gives the same logprobs for.
func TestImportHFMatchesReference(t *testing.T) {
	skipShort(t)
	needTorch(t)
	root := t.TempDir()
	srcs := []string{filepath.Join(root, "v10"), filepath.Join(root, "v11")}
	const in, tgt = "5,6,7,1", "8,9,12,1"
	inputs := []string{in, "30,2,4,1"}
	makes := [][]string{
		{srcs[0], "--flavour", "v1.0", "--eos-boost", "5", "--seed", "11"},
		{srcs[1], "--flavour", "v1.1", "--dtype", "BF16", "--dup-embed", "--shards", "2", "--eos-boost", "8", "--seed", "3"},
	}
	var runs [][]string
	for _, s := range srcs {
		for _, x := range inputs {
			runs = append(runs, []string{s, "--input-ids", x, "--target-ids", tgt, "--max-len", "20"})
		}
	}
	want := t5Reference(t, makes, runs)
	var exported [][]string
	for i, src := range srcs {
		writeSpiece(t, src)
		ck := filepath.Join(root, "ck", filepath.Base(src))
		code, out, errs := hg(t, "import", "hf", src, "--out", ck)
		if code != 0 {
			t.Fatalf("import %s: %d %s %s", src, code, out, errs)
		}
		for j, x := range inputs {
			w := want[i*len(inputs)+j]
			code, out, errs = hg(t, "logprobs", ck, "--input-ids", x, "--target-ids", tgt)
			if code != 0 {
				t.Fatalf("logprobs: %d %s", code, errs)
			}
			checkLogprobs(t, src+" "+x, decodeJSON[refOut](t, out).Logprobs, w.Logprobs)
			code, out, errs = hg(t, "generate", ck, "--input-ids", x, "--max-len", "20")
			if code != 0 {
				t.Fatalf("generate: %d %s", code, errs)
			}
			if got := decodeJSON[refOut](t, out).IDs; !slices.Equal(got, w.IDs) {
				t.Errorf("%s %s: generate %v, reference %v", src, x, got, w.IDs)
			}
		}
		out2 := filepath.Join(root, "out", filepath.Base(src))
		if code, _, errs := hg(t, "export", "hf", ck, "--out", out2); code != 0 {
			t.Fatalf("export: %d %s", code, errs)
		}
		for _, x := range inputs {
			exported = append(exported, []string{out2, "--input-ids", x, "--target-ids", tgt, "--max-len", "20"})
		}
		for _, f := range []string{"config.json", "model.safetensors", "spiece.model", "tokenizer_config.json", "special_tokens_map.json"} {
			if _, err := os.Stat(filepath.Join(out2, f)); err != nil {
				t.Errorf("export wrote no %s: %v", f, err)
			}
		}
	}
	again := t5Reference(t, nil, exported)
	for i := range again {
		checkLogprobs(t, "exported "+exported[i][0], again[i].Logprobs, want[i].Logprobs)
		if !slices.Equal(again[i].IDs, want[i].IDs) {
			t.Errorf("exported %s: greedy %v, original %v", exported[i][0], again[i].IDs, want[i].IDs)
		}
	}

	ck := filepath.Join(root, "ck", "v11")
	if code, out, errs := hg(t, "inspect", ck); code != 0 || !strings.Contains(out, "recipe: hf-import.yaml") {
		t.Errorf("inspect: %d %s %s", code, out, errs)
	}
	if code, out, errs := hg(t, "predict", ck, "--task", "sentiment", "a fine , moving film ."); code != 0 {
		t.Errorf("predict: %d %s %s", code, out, errs)
	}
	// Text goes through the checkpoint's tokenizer, with EOS and the sentinels.
	code, out, errs := hg(t, "generate", ck, "--input", "the cat <extra_id_0> mat .", "--max-len", "5")
	if code != 0 {
		t.Fatalf("generate --input: %d %s", code, errs)
	}
	if g := decodeJSON[map[string]any](t, out); g["text"] == nil {
		t.Errorf("generate --input printed %s, want ids and text", out)
	}
	code, outText, errs := hg(t, "logprobs", ck, "--input", "the cat", "--target", "<extra_id_0> mat")
	if code != 0 {
		t.Fatalf("logprobs --input: %d %s", code, errs)
	}
	if n := len(decodeJSON[refOut](t, outText).Logprobs); n < 3 {
		t.Errorf("logprobs --target '<extra_id_0> mat' gave %d logprobs (sentinel, pieces, EOS): %s", n, outText)
	}
}

func TestImportExportUsage(t *testing.T) {
	dir := t.TempDir()
	notCkpt := filepath.Join(dir, "full")
	os.MkdirAll(notCkpt, 0o755)
	os.WriteFile(filepath.Join(notCkpt, "x"), nil, 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import", "hf", dir}, 2, "import needs --out CKPT"},
		{[]string{"import", "onnx", dir, "--out", "x"}, 2, "the only format is hf"},
		{[]string{"import", "hf", dir, "--out", notCkpt}, 2, "not a checkpoint; name a new folder"},
		{[]string{"import", "hf", dir, "--out", filepath.Join(dir, "new")}, 1, "has no config.json"},
		{[]string{"export", "hf", dir}, 2, "export needs --out DIR"},
		{[]string{"export", "hf", dir, "--out", filepath.Join(dir, "o")}, 1, "no checkpoint"},
		{[]string{"logprobs", dir, "--input-ids", "1"}, 2, "logprobs needs the target"},
		{[]string{"generate", dir}, 2, "generate needs the input"},
		{[]string{"generate", dir, "--input-ids", "5,1", "--max-len", "0"}, 2, "--max-len is 0"},
	}
	for _, tt := range tests {
		code, _, errs := hg(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("hypergrid %v: status %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.want)
		}
	}
}

func TestParseIDList(t *testing.T) {
	tests := []struct {
		in   string
		want []int32
		err  string
	}{
		{"5,6,7,1", []int32{5, 6, 7, 1}, ""},
		{"5 6, 7,1", []int32{5, 6, 7, 1}, ""},
		{"", nil, "is empty"},
		{"5,x", nil, "--input-ids"},
		{"5,100", nil, "--input-ids"},
		{"-1", nil, "--input-ids"},
	}
	for _, tt := range tests {
		got, err := parseIDList("--input-ids", tt.in, 100)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%q: %v %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseIDList(f *testing.F) {
	f.Add("5,6,7,1")
	f.Add(" 1 ,2,, 3")
	f.Add("99999999999999999999")
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := parseIDList("--input-ids", s, 1000)
		if err != nil {
			return
		}
		if len(ids) == 0 || len(ids) > maxSeqFlag {
			t.Fatalf("%q: %d ids", s, len(ids))
		}
		for _, id := range ids {
			if id < 0 || id >= 1000 {
				t.Fatalf("%q: id %d outside the vocabulary", s, id)
			}
		}
	})
}

// TestExportHyperGridRun trains a small run whose HyperGrid gates are per task
// (task_embedding), exports one task as a Hugging Face folder, imports that folder
// and checks that it scores and generates as the run does for that task; a run with
// input-conditioned gates (first_token) is refused.
func TestExportHyperGridRun(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	taskRecipe := strings.Replace(strings.Replace(tinyTrainRecipe, "conditioning: first_token", "conditioning: task_embedding", 1),
		"  arch: t5\n", "  arch: t5\n  tasks: [{name: sentiment}, {name: paraphrase}, {name: similarity}]\n", 1)
	run := filepath.Join(dir, "run")
	if code, _, errs := hg(t, "train", writeRecipe(t, dir, "task.yaml", taskRecipe), "--out", run); code != 0 {
		t.Fatalf("train: %d %s", code, errs)
	}
	const in, tgt = "17,40,23,5,1", "9,12,1"
	if code, _, errs := hg(t, "export", "hf", run, "--out", filepath.Join(dir, "x")); code != 1 || !strings.Contains(errs, "name one with --task (one of [sentiment paraphrase similarity])") {
		t.Errorf("export without --task: %d %s", code, errs)
	}
	if code, _, errs := hg(t, "logprobs", run, "--input-ids", in, "--target-ids", tgt); code != 2 || !strings.Contains(errs, "--task") {
		t.Errorf("logprobs without --task: %d %s", code, errs)
	}
	out := filepath.Join(dir, "hf")
	if code, _, errs := hg(t, "export", "hf", run, "--out", out, "--task", "paraphrase"); code != 0 {
		t.Fatalf("export: %d %s", code, errs)
	}
	// A second export into the same folder is refused unless --force; a misspelt task
	// gets a did-you-mean.
	if code, _, errs := hg(t, "export", "hf", run, "--out", out, "--task", "sentiment"); code != 2 || !strings.Contains(errs, "already holds a model") || !strings.Contains(errs, "--force") {
		t.Errorf("export over an export: %d %s", code, errs)
	}
	if code, _, errs := hg(t, "export", "hf", run, "--out", filepath.Join(dir, "z"), "--task", "paraphrse"); code != 1 || !strings.Contains(errs, `did you mean "paraphrase"?`) {
		t.Errorf("export with a misspelt task: %d %s", code, errs)
	}
	if code, _, errs := hg(t, "export", "hf", run, "--out", out, "--task", "paraphrase", "--force"); code != 0 {
		t.Fatalf("export --force: %d %s", code, errs)
	}
	ck := filepath.Join(dir, "ck")
	if code, _, errs := hg(t, "import", "hf", out, "--out", ck); code != 0 {
		t.Fatalf("import: %d %s", code, errs)
	}
	for _, task := range []string{"paraphrase", "sentiment"} {
		_, want, errs := hg(t, "logprobs", run, "--task", task, "--input-ids", in, "--target-ids", tgt)
		_, got, _ := hg(t, "logprobs", ck, "--input-ids", in, "--target-ids", tgt)
		w, g := decodeJSON[refOut](t, want).Logprobs, decodeJSON[refOut](t, got).Logprobs
		if task == "paraphrase" {
			checkLogprobs(t, "exported paraphrase", g, w)
			_, wantIDs, _ := hg(t, "generate", run, "--task", task, "--input-ids", in, "--max-len", "6")
			_, gotIDs, _ := hg(t, "generate", ck, "--input-ids", in, "--max-len", "6")
			if wantIDs != gotIDs {
				t.Errorf("generate: run %s, exported %s", wantIDs, gotIDs)
			}
		} else if math.Abs(w[0]-g[0]) < 1e-6 && math.Abs(w[1]-g[1]) < 1e-6 {
			t.Errorf("the run's sentiment gates give the paraphrase export's logprobs (%v, %s): the test cannot tell the tasks apart", w, errs)
		}
	}
	// Gates computed from each input cannot be folded.
	ft := filepath.Join(dir, "ft")
	if code, _, errs := hg(t, "train", writeRecipe(t, dir, "ft.yaml", tinyTrainRecipe), "--out", ft, "--steps", "1"); code != 0 {
		t.Fatalf("train: %d %s", code, errs)
	}
	if code, _, errs := hg(t, "export", "hf", ft, "--out", filepath.Join(dir, "y")); code != 1 || !strings.Contains(errs, "conditioned on first_token") {
		t.Errorf("export of first_token gates: %d %s", code, errs)
	}
}
