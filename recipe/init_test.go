package recipe

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
)

var baseSnap = &Snapshot{Main: "base.yaml", Files: map[string]string{"base.yaml": `
model:
  vocab: 500
  d_model: 64
  heads: 4
  d_kv: 16
  ffn: {type: ffn.glu, d_ff: 128, activation: relu, gated: false}
tokenizer: {extra_ids: 100}
train: {steps: 77}
`}}

func initLoader(calls *int) Loader {
	return Loader{Init: func(from string) (*Snapshot, error) {
		*calls++
		if from != "runs/pre" {
			return nil, errors.New("no checkpoint here")
		}
		return baseSnap, nil
	}}
}

// model.init.from takes the checkpoint's architecture and extra ids, with the
// recipe's model: keys on top; a changed ffn type keeps the settings it shares.
func TestInitFromMergesTheCheckpointsModel(t *testing.T) {
	calls := 0
	r, err := initLoader(&calls).Parse("ft.yaml", []byte(`
model:
  init: {from: runs/pre}
  dropout: 0.2
  ffn: {type: ffn.hypergrid, grid: {rows: 4, cols: 4}, gate_init: 1, exact_init: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	g, ok := r.Model.FFN.(*hyper.GridConfig)
	if !ok || g.DFF != 128 || g.Activation != layers.ReLU || g.Gated || !g.ExactInit || g.Grid.Rows != 4 {
		t.Fatalf("ffn %+v", r.Model.FFN)
	}
	if r.Model.Vocab != 500 || r.Model.DModel != 64 || r.Model.Heads != 4 || r.Model.Dropout != 0.2 || r.Tokenizer.ExtraIDs != 100 {
		t.Errorf("model %+v, extra_ids %d", r.Model.Spec, r.Tokenizer.ExtraIDs)
	}
	if r.Train.Steps == 77 {
		t.Error("the checkpoint's train: section leaked into the recipe")
	}
	// The snapshot keeps the checkpoint's recipe: it loads without the checkpoint.
	raw := r.Source.Snapshot().JSON()
	snap, err := ParseSnapshot(raw)
	if err != nil {
		t.Fatal(err)
	}
	if snap.InitFrom != "runs/pre" || snap.Init == nil || !strings.Contains(string(raw), "extra_ids: 100") {
		t.Fatalf("snapshot %s", raw)
	}
	r2, err := snap.Load()
	if err != nil {
		t.Fatal(err)
	}
	if r2.Model.Vocab != 500 || r2.Model.FFN.(*hyper.GridConfig).DFF != 128 {
		t.Errorf("reloaded model %+v", r2.Model.Spec)
	}
	var back Snapshot
	if err := json.Unmarshal(raw, &back); err != nil || back.Init.Main != "base.yaml" {
		t.Errorf("JSON round trip: %v %+v", err, back.Init)
	}
}

func TestInitFromErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"model:\n  init: {from: runs/none}\n", "ft.yaml:2:16: model.init.from: cannot start from runs/none: no checkpoint here"},
		{"model:\n  init: {form: runs/pre}\n", "ft.yaml:2:10: model.init.form: unknown key"},
		{"model:\n  init: {from: [a]}\n", "model.init.from"},
		{"model:\n  init: {from: runs/pre}\n  ffn: {type: ffn.hypergrid, d_ff: 100, grid: {rows: 3, cols: 4}}\n", "grid.rows"},
	} {
		calls := 0
		_, err := initLoader(&calls).Parse("ft.yaml", []byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want an error containing %q", tc.text, err, tc.want)
		}
	}
}
