package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/internal/golden"
)

// The submission files as the GLUE server reads them: label values (MNLI, RTE words;
// SST-2 class ids), STS-B values clamped to 0-5 with 3 decimals, the id column or row
// number as the index.
func TestGlueRowsGolden(t *testing.T) {
	tests := []struct {
		task  string
		ids   []string
		preds []infer.Prediction
	}{
		{"sst2", nil, []infer.Prediction{{Text: "negative", Class: 0}, {Text: "positive", Class: 1}}},
		{"stsb", []string{"0", "1", "2"}, []infer.Prediction{{Text: "3.4", Class: -1, Value: 3.4}, {Class: -1, Value: 5.2}, {Class: -1, Value: -0.0004}}},
		{"rte", []string{"10", "11"}, []infer.Prediction{{Text: "not_entailment", Class: 1}, {Text: "entailment", Class: 0}}},
		{"mnli_matched", []string{"7", "8", "9"}, []infer.Prediction{{Class: 0}, {Class: 1}, {Class: 2}}},
		{"wnli", nil, []infer.Prediction{{Text: "entailment", Class: 1}}},
	}
	var all bytes.Buffer
	for _, tt := range tests {
		def, ok := data.Lookup(tt.task)
		if !ok {
			t.Fatalf("task %s not registered", tt.task)
		}
		exs := make([]data.Example, len(tt.preds))
		for i := range exs {
			exs[i] = data.Example{Task: tt.task, Index: i, Line: i + 2}
			if tt.ids != nil {
				exs[i].ID = tt.ids[i]
			}
		}
		b, err := glueRows(def, exs, tt.preds)
		if err != nil {
			t.Fatalf("%s: %v", tt.task, err)
		}
		fmt.Fprintf(&all, "== %s (%s)\n%s", tt.task, glueSubmission[tt.task][0].name, b)
	}
	golden.Check(t, filepath.Join("testdata", "glue_submit.golden"), all.Bytes())

	def, _ := data.Lookup("sst2")
	if _, err := glueRows(def, []data.Example{{Line: 2}}, []infer.Prediction{{Text: "maybe", Class: -1}}); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a prediction that is no class: %v", err)
	}
	if _, err := glueRows(def, []data.Example{{}}, nil); err == nil {
		t.Error("fewer predictions than examples: no error")
	}
}

// predict --glue-submit on a run trained on GLUE-layout data (a small fixture with
// test files): one file per task, named as GLUE expects, a row per test example.
func TestPredictGlueSubmit(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	run := filepath.Join(dir, "run")
	glue := filepath.Join("testdata", "glue")
	if code, stdout, stderr := hg(t, "train", rec, "--out", run, "--threads", "1", "--steps", "2", "--data", glue,
		"--set", "data.tasks=[sst2, stsb]", "--set", "train.eval_points=0"); code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	out := filepath.Join(dir, "submit")
	code, stdout, stderr := hg(t, "predict", run, "--glue-submit", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	check := func(name string, rows int, value func(string) bool) {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if lines[0] != "index\tprediction" || len(lines) != rows+1 {
			t.Fatalf("%s: header %q, %d rows; want index<TAB>prediction and %d rows", name, lines[0], len(lines)-1, rows)
		}
		for i, l := range lines[1:] {
			idx, v, _ := strings.Cut(l, "\t")
			if idx != strconv.Itoa(i) || !value(v) {
				t.Errorf("%s row %d: %q", name, i, l)
			}
		}
	}
	check("SST-2.tsv", 7, func(v string) bool { return v == "0" || v == "1" })
	check("STS-B.tsv", 5, func(v string) bool {
		x, err := strconv.ParseFloat(v, 64)
		return err == nil && x >= 0 && x <= 5 && strings.Count(v, ".") == 1 && len(v) == 5
	})
	// Only the tasks asked for.
	only := filepath.Join(dir, "only")
	if code, _, stderr := hg(t, "predict", run, "--glue-submit", only, "--task", "stsb"); code != 0 {
		t.Fatalf("--task stsb: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(only, "SST-2.tsv")); !os.IsNotExist(err) {
		t.Errorf("--task stsb wrote SST-2.tsv (%v)", err)
	}
	// A data folder without test files names the file.
	code, _, stderr = hg(t, "predict", run, "--glue-submit", out, "--data", dir)
	if code != 1 || !strings.Contains(stderr, filepath.Join(dir, "SST-2", "test.tsv")) {
		t.Errorf("missing test file: exit %d\n%s", code, stderr)
	}
	// Texts do not go with --glue-submit.
	if code, _, _ = hg(t, "predict", run, "--glue-submit", out, "some text"); code != 2 {
		t.Errorf("texts with --glue-submit: exit %d, want 2", code)
	}
}

// A run on the embedded suite has no GLUE task: a clear error, not empty files.
func TestPredictGlueSubmitRefusesOtherTasks(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	run := filepath.Join(dir, "run")
	if code, stdout, stderr := hg(t, "train", rec, "--out", run, "--threads", "1", "--steps", "1", "--set", "train.eval_points=0", "--set", "data.tasks=[sentiment]"); code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr := hg(t, "predict", run, "--glue-submit", filepath.Join(dir, "submit"))
	if code != 2 || !strings.Contains(stderr, "(sentiment) are not GLUE tasks") || !strings.Contains(stderr, "sst2") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}
