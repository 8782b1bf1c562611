package job

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/train"
)

// The gate maps of a long run are redrawn at its periodic checkpoints, not only at the
// end: a run stopped half-way has them.
func TestGateMapsAtPeriodicCheckpoints(t *testing.T) {
	skipShortJob(t)
	out := t.TempDir()
	r, err := recipe.Loader{Sets: []string{"train.checkpoint_every=2", "train.eval_every=0"}}.Parse("tiny.yaml", []byte(tiny))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Prepare(r, Options{CheckpointDir: filepath.Join(out, checkpoint.CheckpointDir)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Attach(s.Trainer, Output{Dir: out}); err != nil {
		t.Fatal(err)
	}
	var at []string
	s.Trainer.OnCheckpoint(func(c *train.CheckpointInfo) error {
		if _, err := os.Stat(filepath.Join(out, GatesFile)); err == nil {
			at = append(at, c.Reason)
		}
		return nil
	})
	if _, err := s.Trainer.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(at) == 0 || at[0] != "every" {
		t.Fatalf("gates written by the checkpoints: %v; want the first periodic one (step 2) to have them", at)
	}
	if _, err := os.Stat(filepath.Join(out, "gates_sentiment.png")); err != nil {
		t.Error(err)
	}
}
