package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/data/suite"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/monitor"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/train"
)

// TestMain lets a test run the command as a child process (to send it signals): with
// HYPERGRID_MAIN=1 the test binary is hypergrid.
func TestMain(m *testing.M) {
	if os.Getenv("HYPERGRID_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// skipShort skips an end-to-end test (several training runs of the CLI) under -short,
// which CI uses for its slow passes (arm64 under qemu, purego, the race detector); the
// full run of go test ./... runs it.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("trains several runs through the CLI; skipped with -short")
	}
}

// startHypergrid starts the command as a child process (the test binary, see TestMain)
// with stdout and stderr going to the writers; done receives its Wait result.
func startHypergrid(t *testing.T, stdout, stderr io.Writer, args ...string) (*exec.Cmd, <-chan error) {
	t.Helper()
	child := exec.Command(os.Args[0], args...)
	child.Env = append(os.Environ(), "HYPERGRID_MAIN=1")
	child.Stdout, child.Stderr = stdout, stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	return child, done
}

// writeRecipe writes text as a recipe file in dir and returns its path.
func writeRecipe(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// hg runs the command in-process and returns its exit status and output.
func hg(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// trainLosses returns the train losses of a run's metrics log, by step.
func trainLosses(t *testing.T, dir string) map[int]float64 {
	t.Helper()
	recs, err := monitor.ReadFile(filepath.Join(dir, job.LogFile))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]float64{}
	for _, r := range recs {
		if r.Kind == monitor.KindTrain {
			if _, dup := out[r.Step]; dup {
				t.Errorf("step %d is logged twice", r.Step)
			}
			out[r.Step] = r.Loss
		}
	}
	return out
}

// Bug: Ctrl-C lost the run. Now SIGINT finishes the step, writes a checkpoint, says how
// to resume and exits 130; --resume then gives the uninterrupted run's losses.
func TestInterruptCheckpointsAndResumes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sends SIGINT")
	}
	if testing.Short() {
		t.Skip("runs a training process and interrupts it; skipped with -short")
	}
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	const steps = "300"
	out := filepath.Join(dir, "run")
	var cout, cerr bytes.Buffer
	child, done := startHypergrid(t, &cout, &cerr, "train", rec, "--out", out, "--threads", "1", "--steps", steps, "--set", "train.eval_limit=4")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case err := <-done:
			t.Fatalf("the run ended before it was interrupted (%v):\n%s%s", err, cout.String(), cerr.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatal("no progress in 2 minutes")
		}
		if recs, err := monitor.ReadFile(filepath.Join(out, job.LogFile)); err == nil && len(recs) >= 20 {
			break
		}
	}
	if err := child.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		child.Process.Kill()
		t.Fatal("the run did not stop within a minute of SIGINT")
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want status 130\n%s%s", err, cout.String(), cerr.String())
	}
	if want := "continue with: hypergrid train --out " + out + " --resume"; !strings.Contains(cout.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, cout.String())
	}
	if !strings.Contains(cerr.String(), "interrupted") {
		t.Errorf("stderr does not say it was interrupted:\n%s", cerr.String())
	}
	// The recipe file is gone: --resume needs nothing but the run's folder.
	os.Remove(rec)
	code, stdout, stderr := hg(t, "train", "--out", out, "--resume", "--threads", "1")
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"resuming " + out + " at step ", " of 300: recipe " + rec + " (stored in the checkpoint; --set train.eval_limit=4)", "done: 300 steps"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("resume output lacks %q:\n%s", want, stdout)
		}
	}
	rec = writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	full := filepath.Join(dir, "full")
	if code, stdout, stderr := hg(t, "train", rec, "--out", full, "--threads", "1", "--steps", steps, "--set", "train.eval_limit=4"); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s%s", code, stdout, stderr)
	}
	got, want := trainLosses(t, out), trainLosses(t, full)
	if len(got) != 300 || len(want) != 300 {
		t.Fatalf("%d and %d logged steps, want 300", len(got), len(want))
	}
	for s, w := range want {
		if math.Float64bits(got[s]) != math.Float64bits(w) {
			t.Fatalf("step %d: interrupted and resumed run's loss %v, uninterrupted %v", s, got[s], w)
		}
	}
}

// Bug: --out DIR --resume ignored the run's recipe and steps.
func TestResumeUsesTheRunsSettings(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	out := filepath.Join(dir, "run")
	if code, stdout, stderr := hg(t, "train", rec, "--out", out, "--threads", "1", "--steps", "3", "--set", "train.batch_size=2"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	os.Remove(rec)
	code, stdout, stderr := hg(t, "train", "--out", out, "--resume", "--threads", "1", "--steps", "6")
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"at step 3 of 6", "(stored in the checkpoint; --set train.batch_size=2)", "6 steps (given; the run's were 3)", "done: 6 steps"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	// A finished run resumes to its own steps: nothing left but the evaluation.
	code, stdout, stderr = hg(t, "train", "--out", out, "--resume", "--threads", "1")
	if code != 0 || !strings.Contains(stdout, "at step 6 of 6") {
		t.Fatalf("resume of a finished run: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := trainLosses(t, out); len(got) != 6 {
		t.Errorf("the log has %d steps, want 6", len(got))
	}
	code, _, stderr = hg(t, "train", "--out", filepath.Join(dir, "none"), "--resume")
	if code != 1 || !strings.Contains(stderr, "nothing to resume in") {
		t.Errorf("resume of an empty folder: exit %d, %s", code, stderr)
	}
}

// Bug: a run into an existing --out silently overwrote it; runs without --out now get a
// folder of their own, linked as runs/latest.
func TestOutputFolders(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	t.Chdir(dir)
	for i := 0; i < 2; i++ {
		if code, stdout, stderr := hg(t, "train", rec, "--threads", "1", "--steps", "2"); code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
	}
	entries, err := os.ReadDir(runsDir)
	if err != nil {
		t.Fatal(err)
	}
	var runs []string
	for _, e := range entries {
		if e.IsDir() {
			runs = append(runs, e.Name())
		}
	}
	if len(runs) != 2 {
		t.Fatalf("runs/ holds %v, want two run folders and latest", entries)
	}
	target, err := os.Readlink(filepath.Join(runsDir, job.LatestLink))
	if err != nil || target != runs[1] {
		t.Errorf("runs/latest -> %q (%v), want %q", target, err, runs[1])
	}
	if code, stdout, stderr := hg(t, "eval", filepath.Join(runsDir, "latest"), "--json"); code != 0 {
		t.Errorf("eval runs/latest: exit %d\n%s%s", code, stdout, stderr)
	}
	out := filepath.Join(runsDir, runs[0])
	code, _, stderr := hg(t, "train", rec, "--out", out, "--steps", "2")
	if code != 2 || !strings.Contains(stderr, "--resume") || !strings.Contains(stderr, "--force") {
		t.Errorf("train into a run's folder: exit %d, %s", code, stderr)
	}
	if code, stdout, stderr := hg(t, "train", rec, "--out", out, "--steps", "2", "--force", "--threads", "1"); code != 0 {
		t.Errorf("--force: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := trainLosses(t, out); len(got) != 2 {
		t.Errorf("after --force the log has %d steps, want the new run's 2", len(got))
	}
}

// Bug: --steps 0 meant the recipe's steps; --steps -5 did not show the value.
func TestStepsFlag(t *testing.T) {
	for _, v := range []string{"0", "-5"} {
		code, _, stderr := hg(t, "train", "--steps", v)
		if code != 2 || !strings.Contains(stderr, "--steps is "+v) {
			t.Errorf("--steps %s: exit %d, %q", v, code, stderr)
		}
	}
}

// Bugs: predict answered tasks the checkpoint was never trained on and listed every
// registered task; eval printed step 0, needed the train split and forgot --data.
func TestPredictAndEvalUseTheRunsTasksAndData(t *testing.T) {
	dir := t.TempDir()
	glue := filepath.Join(dir, "glue")
	if err := os.CopyFS(glue, suite.FS()); err != nil {
		t.Fatal(err)
	}
	rec := writeRecipe(t, dir, "one.yaml", strings.Replace(tinyTrainRecipe, "tasks: [sentiment, paraphrase, similarity]", "tasks: [sentiment]", 1))
	out := filepath.Join(dir, "run")
	if code, stdout, stderr := hg(t, "train", rec, "--out", out, "--threads", "1", "--data", glue, "--steps", "3"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr := hg(t, "predict", out, "--task", "paraphrase", "a", "b")
	if code != 2 || !strings.Contains(stderr, `task "paraphrase" is not one of this model's tasks (sentiment)`) {
		t.Errorf("predict of a task the model was not trained on: exit %d, %s", code, stderr)
	}
	code, _, stderr = hg(t, "predict", out, "--task", "bogus", "a")
	if code != 2 || !strings.Contains(stderr, "(sentiment)") || strings.Contains(stderr, "mnli") {
		t.Errorf("predict --task bogus: exit %d, %s", code, stderr)
	}
	// eval reads only the dev split, from the run's own --data.
	if err := os.Remove(filepath.Join(glue, "sentiment", "train.tsv")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := hg(t, "eval", out)
	if code != 0 || !strings.Contains(stdout, "eval at step 3") || !strings.Contains(stdout, "step 3: GLUE-style average") {
		t.Fatalf("eval: exit %d\n%s%s", code, stdout, stderr)
	}
	// The run remembers its data: without the folder, eval says what it looked for.
	os.RemoveAll(glue)
	code, _, stderr = hg(t, "eval", out)
	if code != 1 || !strings.Contains(stderr, glue) {
		t.Errorf("eval without the run's data folder: exit %d, %s", code, stderr)
	}
}

// Bug: recipes/encoder-classifier.yaml failed out of the box.
func TestEncoderClassifierRecipeTrains(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	code, stdout, stderr := hg(t, "train", "encoder-classifier", "--out", filepath.Join(dir, "run"), "--steps", "2",
		"--set", "train.eval_limit=8", "--set", "train.batch_size=4", "--set", "tokenizer.vocab=500", "--set", "model.vocab=500")
	if code != 0 || !strings.Contains(stdout, "task similarity") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
}

// bench train and train run one step function: from the same initial weights and the
// same batches, the bench's stepper gives the trainer's losses bit for bit, with one
// model and with model replicas (train.replicas).
func TestBenchTrainRunsTheTrainersStep(t *testing.T) {
	for _, reps := range []string{"1", "2"} {
		t.Run("replicas="+reps, func(t *testing.T) { benchRunsTheTrainersStep(t, reps) })
	}
	code, stdout, stderr := hg(t, "bench", "train", "default", "--threads", "1", "--steps", "1", "--batch", "2", "--src-len", "8", "--tgt-len", "4", "--profile", "--against-threads", "2")
	wants := []string{"optimizer=adamw", "loss_last=", " cores_used=", " examples_per_s=", "\nforward ", "\nbackward ", "\nGemm ", "(outside the kernels)",
		"\nproduct, m×n×k", "\nGemm A", "step_gflop=", "\npairs=1 step_ms_median=", " useful_share_of_gemm_paired=",
		"\ntape operation ", "\nGridGatedFFN ", "\nAttention ", "\nscaling pairs=1 threads=1 against_threads=2 step_ms_median="}
	if ops.ActiveISA() != ops.Generic { // the generic Go products pack nothing
		wants = append(wants, "\n(products' packing) ")
	}
	for _, want := range wants {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("bench train --profile: exit %d, output lacks %q:\n%s%s", code, want, stdout, stderr)
		}
	}
	// One thread: a kernel's time is wall time; at two, the table says how it adds up.
	const sideBySide = "threads a kernel's time is its calls' wall time added up"
	if strings.Contains(stdout, sideBySide) {
		t.Errorf("bench train --threads 1 --profile explains a 2-thread kernel table:\n%s", stdout)
	}
	if !testing.Short() {
		args := []string{"bench", "train", "default", "--threads", "2", "--steps", "1", "--batch", "2", "--src-len", "8", "--tgt-len", "4", "--profile"}
		if code, stdout, stderr := hg(t, args...); code != 0 || !strings.Contains(stdout, "\n(at 2 "+sideBySide) || !strings.Contains(stdout, "cores columns above") {
			t.Errorf("%s: exit %d, output lacks the note on a 2-thread kernel table:\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	// The profile's reference Gemm (1024³) takes a while under qemu: -short leaves the
	// replicas' phase line out.
	args, wants := []string{"bench", "train", "default", "--threads", "1", "--steps", "1", "--batch", "2", "--src-len", "8", "--tgt-len", "4", "--set", "train.replicas=2"}, []string{" replicas=2 "}
	if !testing.Short() {
		args, wants = append(args, "--profile"), append(wants, "\nreplicas ", "side by side, 1 kernel thread(s) each of --threads 1")
	}
	code, stdout, stderr = hg(t, args...)
	for _, want := range wants {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("%s: exit %d, output lacks %q:\n%s%s", strings.Join(args, " "), code, want, stdout, stderr)
		}
	}
	// Replicas are built for --threads: the scaling run refuses them, saying what to set.
	args = append(args[:len(args):len(args)], "--against-threads", "2")
	if code, _, stderr = hg(t, args...); code != 2 || !strings.Contains(stderr, "--against-threads needs train.replicas 1") || !strings.Contains(stderr, "--set train.replicas=1") {
		t.Errorf("%s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
	}
}

func benchRunsTheTrainersStep(t *testing.T, replicas string) {
	r, err := recipe.Loader{Sets: []string{"train.steps=6", "train.optimizer=adafactor", "train.replicas=" + replicas}}.Parse("tiny.yaml", []byte(tinyTrainRecipe))
	if err != nil {
		t.Fatal(err)
	}
	s, err := job.Prepare(r, job.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var batches []*model.Batch
	var losses []float64
	s.Trainer.OnStep(func(i *train.StepInfo) error {
		batches = append(batches, i.Batch)
		losses = append(losses, i.Loss)
		return nil
	})
	if _, err := s.Trainer.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, err := r.Build(r.Train.Seed)
	if err != nil {
		t.Fatal(err)
	}
	stepper, err := benchStepper(m, r)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range batches {
		res, err := stepper.Step(i, b)
		if err != nil {
			t.Fatal(err)
		}
		if math.Float64bits(res.Loss) != math.Float64bits(losses[i]) {
			t.Fatalf("step %d: bench's loss %v, the trainer's %v", i+1, res.Loss, losses[i])
		}
	}
}

// bench score and bench generate run the inference passes on the peer's batch shape
// and print one line ending in the figures the peer prints.
func TestBenchInference(t *testing.T) {
	for _, mode := range []string{"score", "generate"} {
		code, stdout, stderr := hg(t, "bench", mode, "default", "--threads", "1", "--steps", "1", "--batch", "2", "--src-len", "8", "--tgt-len", "3", "--against-threads", "2")
		if code != 0 || !strings.HasPrefix(stdout, "bench_"+mode+" recipe=default") || !strings.Contains(stdout, "examples_per_s=") || !strings.Contains(stdout, "peak_rss_mb=") || !strings.Contains(stdout, " cores_used=") ||
			!strings.Contains(stdout, "\nscaling pairs=1 threads=1 against_threads=2 batch_ms_median=") {
			t.Errorf("bench %s --against-threads 2: exit %d\n%s%s", mode, code, stdout, stderr)
		}
	}
	code, stdout, stderr := hg(t, "bench", "generate", "default", "--threads", "1", "--steps", "1", "--batch", "2", "--src-len", "8", "--tgt-len", "3", "--profile")
	for _, want := range []string{"bench_generate recipe=default", "\nkernel ", "calls/batch", "\nGemm ", "(outside the kernels)", "\nproduct, m×n×k", "batch_gflop=", "\npairs=1 batch_ms_median="} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("bench generate --profile: exit %d, output lacks %q:\n%s%s", code, want, stdout, stderr)
		}
	}
	if code, _, stderr := hg(t, "bench", "score", "encoder-classifier"); code != 2 || !strings.Contains(stderr, "encoder-decoder") {
		t.Errorf("bench score of an encoder model: exit %d, %s", code, stderr)
	}
}
