package train_test

import (
	"path/filepath"
	"testing"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/monitor"
)

// With a learning rate too small to change anything, the dev average stops improving
// at once: early stopping ends the run after `patience` evaluations without a rise,
// writes its checkpoint there, and a resumed run stays stopped.
func TestEarlyStoppingStopsWhenTheDevAverageStalls(t *testing.T) {
	out := t.TempDir()
	sets := []string{"train.lr=1e-12", "train.eval_points=10", "train.early_stopping.patience=2", "train.early_stopping.min_delta=1"}
	res := runTiny(t, out, sets...)
	// 40 steps, evaluations every 10: the first sets the best, two more without a rise.
	if !res.EarlyStopped || res.Steps != 30 {
		t.Fatalf("steps %d, early stopped %v; want a stop at step 30", res.Steps, res.EarlyStopped)
	}
	if len(res.Eval) != 3 {
		t.Errorf("%d task results at the stop, want 3", len(res.Eval))
	}
	c, err := checkpoint.Load(filepath.Join(out, checkpoint.CheckpointDir))
	if err != nil {
		t.Fatal(err)
	}
	if c.Step != 30 {
		t.Errorf("checkpoint at step %d, want 30", c.Step)
	}
	recs, err := monitor.ReadFile(filepath.Join(out, job.LogFile))
	if err != nil {
		t.Fatal(err)
	}
	evals := map[int]bool{}
	for _, r := range recs {
		if r.Kind == monitor.KindEval {
			evals[r.Step] = true
		}
	}
	if len(evals) != 3 || !evals[10] || !evals[20] || !evals[30] {
		t.Errorf("evaluated at steps %v, want 10, 20 and 30", evals)
	}
	again, err := runTinyOpts(t, runOpts{out: out, resume: true}, sets...)
	if err != nil {
		t.Fatal(err)
	}
	if !again.EarlyStopped || again.Steps != 30 || len(again.Losses) != 0 {
		t.Errorf("resumed: steps %d, %d new losses, early stopped %v; want it to stay stopped at 30", again.Steps, len(again.Losses), again.EarlyStopped)
	}
	// Without early stopping the same run trains to the end.
	full := runTiny(t, "", "train.lr=1e-12", "train.eval_points=10")
	if full.EarlyStopped || full.Steps != 40 {
		t.Errorf("without early stopping: steps %d, early stopped %v", full.Steps, full.EarlyStopped)
	}
}
