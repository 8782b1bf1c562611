package train_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/monitor"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/recipe"
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
    type: ffn.hypergrid
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
	res, err := runTinyOpts(t, runOpts{out: out}, sets...)
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
	for _, f := range []string{"metrics.jsonl", "loss.png", "checkpoint/manifest.json", "best/manifest.json", "gates_sentiment.png", "gates_similarity.png"} {
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
	d.Tasks = []train.TaskRef{train.TaskByName("sentiment"), train.TaskByName("no-such-task")}
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

// runOpts are how a test runs the tiny recipe: into the output folder out (with the
// CLI's hooks: log, plots, best checkpoint) or nowhere, resuming from out's checkpoint.
type runOpts struct {
	out    string
	resume bool
}

func runTinyOpts(t *testing.T, o runOpts, sets ...string) (*train.Result, error) {
	t.Helper()
	r, err := recipe.Loader{Sets: sets}.Parse("tiny.yaml", []byte(tinyRecipe))
	if err != nil {
		t.Fatal(err)
	}
	defer ops.SetThreads(ops.SetThreads(1))
	var opts job.Options
	if o.out != "" {
		opts.CheckpointDir = filepath.Join(o.out, checkpoint.CheckpointDir)
	}
	if o.resume {
		if opts.Resume, opts.ResumeDir, err = checkpoint.LoadResolved(o.out); err != nil {
			return nil, err
		}
	}
	s, err := job.Prepare(r, opts)
	if err != nil {
		return nil, err
	}
	if o.out != "" {
		mon, err := job.Attach(s.Trainer, job.Output{Dir: o.out, Best: true})
		if err != nil {
			return nil, err
		}
		defer mon.Close()
	}
	return s.Trainer.Run(context.Background())
}

// TestResumeContinuesExactly: 10 steps, then a resumed run to 20, give the losses of an
// uninterrupted 20-step run, bit for bit.
func TestResumeContinuesExactly(t *testing.T) {
	// -short (qemu, race, purego): 8 steps, resumed at 4, without the check that the
	// loss falls.
	n, every := 20, 5
	if testing.Short() {
		n, every = 8, 4
	}
	steps := func(k int) string { return fmt.Sprintf("train.steps=%d", k) }
	ckpt := fmt.Sprintf("train.checkpoint_every=%d", every)
	for _, optimizer := range []string{"adamw", "adafactor"} {
		t.Run(optimizer, func(t *testing.T) {
			o := "train.optimizer=" + optimizer
			full, err := runTinyOpts(t, runOpts{out: t.TempDir()}, steps(n), ckpt, o)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			first, err := runTinyOpts(t, runOpts{out: dir}, steps(n/2), ckpt, o)
			if err != nil {
				t.Fatal(err)
			}
			second, err := runTinyOpts(t, runOpts{out: dir, resume: true}, steps(n), ckpt, o)
			if err != nil {
				t.Fatal(err)
			}
			got := append(append([]float64(nil), first.Losses...), second.Losses...)
			if len(got) != n {
				t.Fatalf("%d losses after resuming, want %d", len(got), n)
			}
			for i := range got {
				if math.Float64bits(got[i]) != math.Float64bits(full.Losses[i]) {
					t.Fatalf("step %d: resumed run's loss %v, uninterrupted run's %v", i+1, got[i], full.Losses[i])
				}
			}
			if !testing.Short() && !(mean(full.Losses[15:]) < mean(full.Losses[:5])) {
				t.Errorf("%s: loss did not fall (%v)", optimizer, full.Losses)
			}
		})
	}
}

// TestResumeRefusesCorruptCheckpoint: a flipped byte in the saved weights stops the resume
// with an error naming the file.
func TestResumeRefusesCorruptCheckpoint(t *testing.T) {
	dir := t.TempDir()
	if _, err := runTinyOpts(t, runOpts{out: dir}, "train.steps=4"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, checkpoint.CheckpointDir, "model.safetensors")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-5] ^= 1
	os.WriteFile(path, b, 0o644)
	_, err = runTinyOpts(t, runOpts{out: dir, resume: true}, "train.steps=8")
	if err == nil || !strings.Contains(err.Error(), "model.safetensors") || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("resuming from a corrupted checkpoint: error %v, want a SHA-256 mismatch naming model.safetensors", err)
	}
}

// TestKilledRunResumesExactly kills a training run with SIGKILL part way, resumes it, and
// checks that the loss of every step equals an uninterrupted run's.
func TestKilledRunResumesExactly(t *testing.T) {
	sets := []string{"train.steps=120", "train.checkpoint_every=10", "train.eval_limit=8"}
	if dir := os.Getenv("HYPERGRID_TRAIN_CHILD"); dir != "" {
		// The child: train until killed.
		if _, err := runTinyOpts(t, runOpts{out: dir}, sets...); err != nil {
			t.Fatal(err)
		}
		return
	}
	if testing.Short() {
		t.Skip("runs a training process and kills it; skipped with -short")
	}
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestKilledRunResumesExactly$", "-test.count=1")
	child.Env = append(os.Environ(), "HYPERGRID_TRAIN_CHILD="+dir)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	killedAt := 0
	for deadline := time.Now().Add(2 * time.Minute); killedAt == 0; {
		select {
		case err := <-done:
			t.Fatalf("the training process ended before it could be killed (%v): make the run longer", err)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatal("the training process made no progress in 2 minutes")
		}
		if s := lastStep(filepath.Join(dir, "metrics.jsonl")); s >= 35 {
			if err := child.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-done
			killedAt = s
		}
	}
	if _, err := runTinyOpts(t, runOpts{out: dir, resume: true}, sets...); err != nil {
		t.Fatal(err)
	}
	full, err := runTinyOpts(t, runOpts{out: t.TempDir()}, sets...)
	if err != nil {
		t.Fatal(err)
	}
	got := lossesByStep(t, filepath.Join(dir, "metrics.jsonl"))
	if len(got) != 120 {
		t.Fatalf("the resumed run's log has %d steps, want 120", len(got))
	}
	for i, want := range full.Losses {
		if math.Float64bits(got[i+1]) != math.Float64bits(want) {
			t.Fatalf("killed at step %d and resumed: step %d loss %v, uninterrupted run %v", killedAt, i+1, got[i+1], want)
		}
	}
	t.Logf("killed at step %d; all 120 losses equal the uninterrupted run's", killedAt)
}

// lastStep returns the last train step in a metrics log (0 when none can be read yet).
func lastStep(path string) int {
	recs, err := monitor.ReadFile(path)
	if err != nil {
		return 0
	}
	last := 0
	for _, r := range recs {
		if r.Kind == monitor.KindTrain {
			last = r.Step
		}
	}
	return last
}

// lossesByStep reads the train losses of a metrics log; a step logged twice (redone after
// a resume) keeps its last value.
func lossesByStep(t *testing.T, path string) map[int]float64 {
	recs, err := monitor.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]float64{}
	for _, r := range recs {
		if r.Kind == monitor.KindTrain {
			out[r.Step] = r.Loss
		}
	}
	return out
}

// TestNonFiniteStepsStopTheRun: a learning rate that blows the weights up makes the
// loss non-finite; those steps are skipped and the run stops after max_bad_steps in a
// row with an error that says what to do.
func TestNonFiniteStepsStopTheRun(t *testing.T) {
	res, err := runTinyOpts(t, runOpts{}, "train.lr=1e30", "train.clip_norm=0", "train.schedule=constant",
		"train.max_bad_steps=3", "train.steps=40")
	if err == nil || !strings.Contains(err.Error(), "3 steps in a row") || !strings.Contains(err.Error(), "train.lr") {
		t.Fatalf("err = %v, want the NaN guard to stop the run", err)
	}
	if res == nil || res.Skipped != 3 || res.Steps >= 40 {
		t.Fatalf("result %+v: want 3 skipped steps and an early stop", res)
	}
	if len(res.Losses) != res.Steps+3 {
		t.Errorf("%d losses for %d steps taken and 3 skipped", len(res.Losses), res.Steps)
	}
}
