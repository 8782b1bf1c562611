package job

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/train"
)

// fuzzBase is a real checkpoint of the tiny recipe, made once per test binary.
var fuzzBase = sync.OnceValues(func() (*checkpoint.Checkpoint, error) {
	dir, err := os.MkdirTemp("", "hypergrid-fuzz-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	r, err := recipe.Loader{Sets: fuzzSets}.Parse("tiny.yaml", []byte(tiny))
	if err != nil {
		return nil, err
	}
	s, err := Prepare(r, Options{})
	if err != nil {
		return nil, err
	}
	// A checkpoint as the trainer writes it, at step 0 (no training: fuzz workers each
	// make their own, and must start fast).
	if err := s.Trainer.SaveCheckpoint(filepath.Join(dir, "checkpoint"), nil); err != nil {
		return nil, err
	}
	c, _, err := checkpoint.LoadResolved(dir)
	return c, err
})

// fuzzSets keep the fuzzed runs small: one task, few examples.
var fuzzSets = []string{"train.steps=2", "data.tasks=[sentiment]", "data.train_limit=20", "tokenizer.vocab=200", "model.vocab=300"}

// FuzzOpenCheckpoint loads a whole checkpoint end to end — manifest, safetensors, the
// stored recipe, the run's settings, the tokenizer, the sampler's position and the
// optimizer's state — after replacing its state sections and reshaping a tensor with
// fuzzed values, as Open (eval, predict) and a resume do. Whatever the input, the load
// must fail with an error or succeed; never panic or hang.
func FuzzOpenCheckpoint(f *testing.F) {
	base, err := fuzzBase()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(base.State[StateRecipe]), string(base.State[StateRun]), string(base.State[train.StateSampler]), string(base.State[train.StateOptimizerStep]), uint8(0), 0, 0)
	f.Add(`{"main":"a.yaml","files":{"a.yaml":"include: /etc/passwd\n"}}`, `{"steps":-1}`, `{}`, `-5`, uint8(3), 64, 128)
	f.Add(`{"main":"a.yaml","files":{"a.yaml":"model: {vocab: 1}\n"}}`, `null`, `{"epoch":1e99}`, `"x"`, uint8(1), -1, 0)
	f.Fuzz(func(t *testing.T, recipeJSON, runJSON, samplerJSON, optStepJSON string, which uint8, rows, cols int) {
		defer ops.SetThreads(ops.SetThreads(1))
		c := *base
		c.State = map[string]json.RawMessage{}
		for k, v := range base.State {
			c.State[k] = v
		}
		for k, v := range map[string]string{StateRecipe: recipeJSON, StateRun: runJSON, train.StateSampler: samplerJSON, train.StateOptimizerStep: optStepJSON} {
			if json.Valid([]byte(v)) {
				c.State[k] = json.RawMessage(v)
			}
		}
		c.Model = append([]checkpoint.Tensor(nil), base.Model...)
		if rows > 0 && cols > 0 && rows*cols < 1<<20 {
			i := int(which) % len(c.Model)
			c.Model[i] = checkpoint.Tensor{Name: c.Model[i].Name, Shape: []int{rows, cols}, Data: make([]float32, rows*cols)}
		}
		dir := t.TempDir()
		if err := checkpoint.Save(filepath.Join(dir, checkpoint.CheckpointDir), &c); err != nil {
			return // not a checkpoint Save writes
		}
		tr, err := Open(dir, OpenOptions{})
		if err != nil {
			return
		}
		if _, err := tr.Predictor(); err != nil {
			return
		}
		// Resume it as train --resume does.
		loaded, cdir, err := checkpoint.LoadResolved(dir)
		if err != nil {
			t.Fatalf("Open succeeded but loading again failed: %v", err)
		}
		info, snap, err := Stored(loaded)
		if err != nil {
			return
		}
		r, err := snap.Load()
		if err != nil || len(r.Data.Tasks) != 1 || r.Data.TrainLimit > 20 || info.DataDir != "" {
			return // a stored recipe the fuzzer rewrote: Open above has read it; a resume would read other data
		}
		_, _ = Prepare(r, Options{Steps: info.Steps, Resume: loaded, ResumeDir: cdir})
	})
}
