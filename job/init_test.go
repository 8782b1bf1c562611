package job

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/recipe"
)

const denseTiny = `
model:
  vocab: 300
  d_model: 32
  heads: 2
  d_kv: 16
  encoder_layers: 1
  decoder_layers: 1
  ffn: {type: ffn.glu, d_ff: 64, activation: relu, gated: false}
data:
  tasks: [sentiment]
  train_limit: 50
tokenizer:
  vocab: 300
  extra_ids: 8
train:
  steps: 2
  batch_size: 4
  max_input_len: 32
  max_target_len: 6
  eval_limit: 4
`

// fineTune adds HyperGrid gates to the dense checkpoint at from.
func fineTune(from, ffn string) string {
	return `
model:
  init: {from: ` + from + `}
  ffn: ` + ffn + `
data:
  tasks: [sentiment, paraphrase]
  train_limit: 50
train:
  steps: 2
  batch_size: 4
  max_input_len: 32
  max_target_len: 6
  eval_limit: 4
  seed: 9
`
}

// trainTiny trains recipe text into out and returns the run's setup.
func trainTiny(t *testing.T, name, text, out string) *Setup {
	t.Helper()
	r, err := recipe.Loader{}.Parse(name, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Prepare(r, Options{CheckpointDir: filepath.Join(out, checkpoint.CheckpointDir)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Trainer.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// scores returns the log-likelihood of a few target sequences for a few inputs.
func scores(t *testing.T, m *model.Model) [][]float64 {
	t.Helper()
	b := &model.Batch{Size: 2, InputLen: 5, Inputs: []int32{5, 9, 17, 42, 1, 7, 299, 3, 1, 0}, Tasks: []int32{0, 0}}
	s, err := m.ScoreCandidates(autograd.NewTape(), b, [][]int32{{4, 8, 1}, {292, 299, 6, 1}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A HyperGrid model started from a dense checkpoint (model.init.from, exact_init,
// gate_init 1) gives the dense model's log-probabilities exactly at step 0, takes its
// architecture and tokenizer (with its extra ids), and then trains its gates.
func TestInitFromDenseExactThenTrains(t *testing.T) {
	skipShortJob(t)
	defer ops.SetThreads(ops.SetThreads(1))
	dense := t.TempDir()
	trainTiny(t, "dense.yaml", denseTiny, dense)
	pre, err := Open(dense, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pre.Tokenizer.ExtraIDs() != 8 {
		t.Fatalf("the dense run's tokenizer has %d extra ids; want 8", pre.Tokenizer.ExtraIDs())
	}

	text := fineTune(dense, "{type: ffn.hypergrid, grid: {rows: 4, cols: 4}, gate_init: 1, exact_init: true}")
	r, err := recipe.Loader{}.Parse("ft.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	g, ok := r.Model.FFN.(*hyper.GridConfig)
	if !ok || g.DFF != 64 || g.Activation != "relu" || g.Gated || r.Model.Vocab != 300 || r.Model.DModel != 32 || r.Tokenizer.ExtraIDs != 8 {
		t.Fatalf("the architecture is not the checkpoint's with the gates on top: %+v, ffn %+v, extra_ids %d", r.Model.Spec, r.Model.FFN, r.Tokenizer.ExtraIDs)
	}
	out := t.TempDir()
	s, err := Prepare(r, Options{CheckpointDir: filepath.Join(out, checkpoint.CheckpointDir)})
	if err != nil {
		t.Fatal(err)
	}
	if s.Init == nil || len(s.Init.Unused) != 0 || len(s.Init.Loaded) != len(pre.Model.Params()) {
		t.Fatalf("init report %+v; want every one of the %d dense parameters loaded", s.Init, len(pre.Model.Params()))
	}
	for _, name := range s.Init.Fresh {
		if !strings.Contains(name, ".grid.") {
			t.Errorf("parameter %s kept its fresh init; only the gates should", name)
		}
	}
	if len(s.Init.Fresh) == 0 {
		t.Error("no fresh gate parameters")
	}
	if s.Tokenizer.ExtraIDs() != 8 || s.Tokenizer.Pieces() != pre.Tokenizer.Pieces() {
		t.Errorf("tokenizer: %d pieces + %d extra ids; want the checkpoint's %d + 8", s.Tokenizer.Pieces(), s.Tokenizer.ExtraIDs(), pre.Tokenizer.Pieces())
	}
	want, got := scores(t, pre.Model), scores(t, s.Model)
	for e := range want {
		for c := range want[e] {
			if math.Float64bits(got[e][c]) != math.Float64bits(want[e][c]) {
				t.Fatalf("score[%d][%d] = %v at step 0; the dense checkpoint gives %v", e, c, got[e][c], want[e][c])
			}
		}
	}
	before := map[string][]float32{}
	for _, p := range s.Model.Params() {
		before[p.Name] = append([]float32(nil), p.Data...)
	}
	if _, err := s.Trainer.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, p := range s.Model.Params() {
		if p.Group == hyper.ParamGroup && !equal32(before[p.Name], p.Data) {
			moved++
		}
	}
	if moved == 0 {
		t.Error("training did not change any gate parameter")
	}
	// The run reopens from its own checkpoint, without the one it started from.
	if err := os.RemoveAll(dense); err != nil {
		t.Fatal(err)
	}
	ft, err := Open(out, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ft.Tokenizer.ExtraIDs() != 8 || ft.Recipe.Model.Vocab != 300 {
		t.Errorf("reopened: extra ids %d, vocab %d", ft.Tokenizer.ExtraIDs(), ft.Recipe.Model.Vocab)
	}
}

func equal32(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// Shapes that differ are an error naming every tensor; tensors the model does not
// use are a warning; an init.from that is no checkpoint is an error at its line.
func TestInitFromErrors(t *testing.T) {
	skipShortJob(t)
	defer ops.SetThreads(ops.SetThreads(1))
	dense := t.TempDir()
	trainTiny(t, "dense.yaml", denseTiny, dense)

	r, err := recipe.Loader{}.Parse("ft.yaml", []byte(fineTune(dense, "{type: ffn.glu, d_ff: 32, activation: relu, gated: false}")))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Prepare(r, Options{})
	if err == nil || !strings.Contains(err.Error(), "encoder.block.0.ffn.wi.weight") && !strings.Contains(err.Error(), "has shape") {
		t.Fatalf("d_ff 32 on a d_ff 64 checkpoint: %v", err)
	}
	for _, want := range []string{"ft.yaml:3:", "model.init.from", "decoder.block.0.ffn", "encoder.block.0.ffn", "[32 64]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if strings.Count(err.Error(), "model.init.from:") != 1 {
		t.Errorf("error %q repeats its key", err)
	}
	// Another vocabulary (as an include's model.vocab brings) gets a hint saying so.
	r, err = recipe.Loader{}.Parse("ft.yaml", []byte(strings.Replace(fineTune(dense, "{type: ffn.glu, d_ff: 64, activation: relu, gated: false}"), "model:\n", "model:\n  vocab: 320\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err = Prepare(r, Options{}); err == nil || !strings.Contains(err.Error(), "model.vocab is 320 here but 300 in the checkpoint: set model.vocab: 300") {
		t.Errorf("another vocabulary: %v", err)
	}

	// A dense model started from a HyperGrid run leaves the gates out, with a warning.
	hg := t.TempDir()
	trainTiny(t, "hg.yaml", fineTune(dense, "{type: ffn.hypergrid, grid: {rows: 4, cols: 4}, gate_init: 1, exact_init: true}"), hg)
	r, err = recipe.Loader{}.Parse("back.yaml", []byte(fineTune(hg, "{type: ffn.glu}")))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Prepare(r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := s.Init.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], ".grid.local_rows") || !strings.Contains(w[0], "not parameters of this model") {
		t.Errorf("warnings %q", w)
	}

	_, err = recipe.Loader{}.Parse("none.yaml", []byte(fineTune(filepath.Join(t.TempDir(), "nothing"), "{type: ffn.glu}")))
	if err == nil || !strings.Contains(err.Error(), "none.yaml:3:") || !strings.Contains(err.Error(), "cannot start from") {
		t.Errorf("init.from of a missing folder: %v", err)
	}
}

func skipShortJob(t *testing.T) {
	if testing.Short() {
		t.Skip("trains models: skipped in -short runs")
	}
}
