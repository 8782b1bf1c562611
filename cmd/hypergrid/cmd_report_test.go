package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/report"
)

// report multitask on runs made in the test: one model on two tasks against a per-task
// model of each, with the gate maps on one fitted colour scale.
func TestReportMultitask(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	train := func(name string, sets ...string) string {
		out := filepath.Join(dir, name)
		args := []string{"train", rec, "--out", out, "--threads", "1", "--steps", "4", "--set", "train.eval_limit=4", "--set", "train.eval_points=0"}
		for _, s := range sets {
			args = append(args, "--set", s)
		}
		if code, stdout, stderr := hg(t, args...); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", name, code, stdout, stderr)
		}
		return out
	}
	multi := train("multi", "data.tasks=[sentiment, paraphrase]")
	sent := train("sentiment", "data.tasks=[sentiment]")
	para := train("paraphrase", "data.tasks=[paraphrase]")
	out := filepath.Join(dir, "report")
	code, stdout, stderr := hg(t, "report", "multitask", multi, "--single", sent, para, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"| sentiment |", "| paraphrase |", "2 per-task models", "one colour scale for all tasks, fitted to the values", "gates_sentiment.png"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, reportJSON))
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Multitask
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Tasks) != 2 || rep.SingleModels != 2 || rep.Multi.Params <= 0 || rep.SingleParams != 2*rep.Multi.Params {
		t.Errorf("report %+v", rep)
	}
	for _, f := range []string{reportTable, "gates_sentiment.png", "gates_paraphrase.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// Errors: a per-task run of no task of the model; a folder without a run.
	code, _, stderr = hg(t, "report", "multitask", sent, "--single", para)
	if code != 1 || !strings.Contains(stderr, "none of the multi-task model's tasks") {
		t.Errorf("unrelated per-task run: exit %d\n%s", code, stderr)
	}
	code, _, stderr = hg(t, "report", "multitask", filepath.Join(dir, "none"), "--single", para)
	if code != 1 || !strings.Contains(stderr, "run "+filepath.Join(dir, "none")) {
		t.Errorf("missing run: exit %d\n%s", code, stderr)
	}
	if code, _, _ = hg(t, "report", "multitask", multi); code != 2 {
		t.Errorf("no per-task runs: exit %d, want 2", code)
	}
	if code, _, _ = hg(t, "report", "transfer"); code != 2 {
		t.Errorf("unknown report: exit %d, want 2", code)
	}
}
