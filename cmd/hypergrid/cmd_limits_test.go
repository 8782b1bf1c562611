package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/recipe"
)

// TestSizesAreBounded: sizes that overflow, or that would need more memory than the
// machine has, are refused before anything is allocated, with exit status 2 and a
// message naming the value, where it was set and what to do (issue: they died with
// "fatal error: out of memory", a makeslice panic, or 0 parameters).
func TestSizesAreBounded(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"params", "default", "--set", "model.vocab=2000000000"}, []string{"--set model.vocab=2000000000: model.vocab: is 2000000000"}},
		{[]string{"params", "default", "--set", "model.vocab=36028797018963968"}, []string{"model.vocab: is 36028797018963968; want at most 2147483647"}},
		{[]string{"params", "default", "--set", "model.vocab=4611686018427387904"}, []string{"model.vocab: is 4611686018427387904; want at most"}},
		{[]string{"params", "default", "--set", "model.d_model=1099511627776"}, []string{"model.d_model: is 1099511627776; want at most"}},
		{[]string{"params", "default", "--set", "model.encoder_layers=1000000"}, []string{"model.encoder_layers: is 1000000; want at most 4096"}},
		{[]string{"params", "default", "--set", "model.ffn.d_ff=1099511627776"}, []string{"model.ffn.d_ff"}},
		{[]string{"params", "default", "--set", "train.batch_size=100000", "--memory-limit", "4GiB"}, []string{
			"--set train.batch_size=100000: train.batch_size: the model needs about", "more than the 4.0 GiB of --memory-limit", "lower train.batch_size"}},
		{[]string{"train", "default", "--set", "model.d_model=32768", "--set", "model.d_kv=8192", "--memory-limit", "8GiB"}, []string{
			"model: the model needs about", "more than the 8.0 GiB of --memory-limit"}},
		{[]string{"params", "default", "--memory-limit", "lots"}, []string{`--memory-limit: memory limit "lots"`}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Chdir(t.TempDir())
			code, stdout, stderr := hg(t, tc.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\n%s%s", code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestHugeStoredRecipeIsRefused: a checkpoint whose stored recipe describes a model too
// big for the machine verifies (its files are intact) but eval and predict refuse it
// before building the model.
func TestHugeStoredRecipeIsRefused(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	out := filepath.Join(dir, "run")
	if code, stdout, stderr := hg(t, "train", rec, "--out", out, "--threads", "1", "--steps", "1"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	c, cdir, err := checkpoint.LoadResolved(out)
	if err != nil {
		t.Fatal(err)
	}
	snap := &recipe.Snapshot{Main: "big.yaml", Files: map[string]string{"big.yaml": tinyTrainRecipe + "\n"}, Sets: []string{"model.d_model=65536", "model.d_kv=16384"}}
	c.State[job.StateRecipe] = snap.JSON()
	if err := checkpoint.Save(cdir, c); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := hg(t, "inspect", out); code != 0 {
		t.Fatalf("inspect: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, cmd := range [][]string{{"predict", out, "--task", "sentiment", "--memory-limit", "16GiB", "good"}, {"eval", out, "--memory-limit", "16GiB"}} {
		code, _, stderr := hg(t, cmd...)
		if code == 0 || !strings.Contains(stderr, "the model needs about") || !strings.Contains(stderr, "its recipe: big.yaml:") {
			t.Errorf("%s: exit %d, %s", cmd[0], code, stderr)
		}
	}
}
