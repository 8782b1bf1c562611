package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/sweep"
)

// sweepArgs sweeps two compositions × two seeds of the tiny recipe, one run at a time.
func sweepArgs(rec, out string) []string {
	return []string{"sweep", rec, "--grid", "model.ffn.composition=LG,GL", "--seeds", "2", "--jobs", "1", "--threads", "1",
		"--steps", "20", "--out", out, "--set", "train.eval_limit=4", "--set", "train.checkpoint_every=4", "--set", "train.eval_points=2"}
}

// The acceptance test of issue 14: a sweep over 2 compositions × 2 seeds on the embedded
// suite, killed with kill -9 in the middle of a run, continues where it stopped when
// run again (the finished run is skipped, the interrupted one resumed from its
// checkpoint) and writes the table (Markdown, JSON) and the plot.
func TestSweepResumesAfterKill(t *testing.T) {
	skipShort(t)
	if runtime.GOOS != "linux" {
		t.Skip("relies on the parent-death signal to end the runs of a killed sweep")
	}
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	out := filepath.Join(dir, "sweep")
	first := filepath.Join(out, "composition-LG_seed-1")
	second := filepath.Join(out, "composition-LG_seed-2")
	var cout, cerr bytes.Buffer
	child, done := startHypergrid(t, &cout, &cerr, sweepArgs(rec, out)...)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case err := <-done:
			t.Fatalf("the sweep ended before it was killed (%v):\n%s%s", err, cout.String(), cerr.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("no run finished in 2 minutes:\n%s%s", cout.String(), cerr.String())
		}
		_, errFirst := os.Stat(filepath.Join(first, sweep.ResultFile))
		_, errCkpt := os.Stat(filepath.Join(second, "checkpoint", "manifest.json"))
		if errFirst == nil && errCkpt == nil {
			break
		}
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-done
	time.Sleep(100 * time.Millisecond) // the kernel kills the sweep's run (its parent died)

	code, stdout, stderr := hg(t, sweepArgs(rec, out)...)
	if code != 0 {
		t.Fatalf("continued sweep: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"continuing sweep of 4 runs (2 grid points × 2 seeds)",
		"composition-LG_seed-1: done already",
		"composition-GL_seed-2: training",
		"| composition=LG |", "| composition=GL |",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	t.Log(stdout)
	if !strings.Contains(stdout, "composition-LG_seed-2: resuming") && !strings.Contains(stdout, "composition-LG_seed-2: done already") {
		t.Errorf("the killed run was neither resumed nor finished:\n%s", stdout)
	}
	// The resumed run logged every step once and reached the end.
	if got := trainLosses(t, second); len(got) != 20 {
		t.Errorf("the resumed run logged %d steps, want 20", len(got))
	}
	b, err := os.ReadFile(filepath.Join(out, sweepJSON))
	if err != nil {
		t.Fatal(err)
	}
	var sum sweep.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Rows) != 2 || len(sum.Missing) != 0 || strings.Join(sum.Tasks, ",") != "sentiment,paraphrase,similarity" {
		t.Fatalf("summary %+v", sum)
	}
	for _, r := range sum.Rows {
		if r.Average.N != 2 || len(r.Runs) != 2 || r.Params <= 0 || r.TokensPerS.N != 2 || r.Tasks["sentiment"].N != 2 {
			t.Errorf("row %+v: want 2 seeds with scores, parameters and tokens/s", r)
		}
	}
	for _, f := range []string{sweepTable, sweepPlot, sweep.ManifestFile} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// A third invocation has nothing left to run.
	code, stdout, _ = hg(t, sweepArgs(rec, out)...)
	if code != 0 || !strings.Contains(stdout, "4 runs (2 grid points × 2 seeds) in "+out+": 0 to run") {
		t.Errorf("third invocation: exit %d\n%s", code, stdout)
	}
}

// The grid is checked against the recipe before anything runs: every bad grid point
// is reported with the recipe loader's error, and no folder is made.
func TestSweepRefusesABadGrid(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	out := filepath.Join(dir, "sweep")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"misspelled key", []string{"--grid", "model.ffn.compositon=LG,GL"},
			[]string{"grid point compositon=LG", "grid point compositon=GL", "compositon"}},
		{"bad value", []string{"--grid", "model.ffn.composition=LG,XY"},
			[]string{"grid point composition=XY", `"XY"; want LG, GL, LL or GG`}},
		{"grid that does not divide d_ff", []string{"--grid", "model.ffn.grid.rows=4,5"},
			[]string{"grid point rows=5", "does not divide d_ff"}},
		{"no grid", nil, []string{"give at least one --grid"}},
		{"empty value", []string{"--grid", "model.ffn.composition=LG,"}, []string{"an empty value"}},
		{"key twice", []string{"--grid", "model.ffn.composition=LG", "--grid", "model.ffn.composition=GL"}, []string{"names model.ffn.composition twice"}},
		{"no seeds", []string{"--grid", "model.ffn.composition=LG", "--seeds", "0"}, []string{"--seeds is 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := hg(t, append([]string{"sweep", rec, "--out", out}, tt.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2\n%s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("the sweep folder was made: %v", err)
			}
		})
	}
	// A folder holding another sweep is refused.
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	m := &sweep.Manifest{Format: sweep.ManifestFormat, Recipe: rec, Grid: []sweep.Axis{{Key: "model.ffn.composition", Values: []string{"LG"}}}, Seeds: []uint64{1}}
	if err := sweep.WriteManifest(out, m); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := hg(t, "sweep", rec, "--out", out, "--grid", "model.ffn.composition=GL")
	if code != 2 || !strings.Contains(stderr, "holds another sweep") {
		t.Errorf("another sweep's folder: exit %d\n%s", code, stderr)
	}
}
