package model_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/hypergrid-go/hypergrid/registry"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/autograd/gradcheck"
	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
)

func tinySpec(ffn layers.FFNBuilder) model.Spec {
	s := model.DefaultSpec()
	s.Vocab, s.DModel, s.Heads, s.DKV = 16, 16, 2, 8
	s.EncoderLayers, s.DecoderLayers = 2, 2
	s.RelativeAttention = model.RelativeAttention{Buckets: 8, MaxDistance: 16}
	s.Dropout = 0
	s.FFN = ffn
	s.Tasks = []model.TaskSpec{{Name: "a"}, {Name: "b"}}
	return s
}

func tinyGrid() *hyper.GridConfig {
	g := hyper.DefaultGridConfig()
	g.DFF = 32
	g.Grid = hyper.Grid{Rows: 4, Cols: 4}
	return g
}

// A fixed batch: the task prefix (2 or 3) decides the target; eos is 1.
func tinyBatch() *model.Batch {
	return &model.Batch{
		Size:     4,
		InputLen: 6,
		Inputs: []int32{
			2, 7, 8, 9, 0, 0,
			3, 7, 8, 9, 0, 0,
			2, 10, 11, 12, 13, 1,
			3, 10, 11, 12, 1, 0,
		},
		TargetLen: 3,
		Targets: []int32{
			5, 6, 1,
			14, 1, 0,
			6, 5, 1,
			15, 4, 1,
		},
		Tasks: []int32{0, 1, 0, 1},
	}
}

// adam is a minimal Adam for the tests (the real optimizers live in package optim).
type adam struct {
	m, v [][]float32
	step int
}

func (a *adam) update(params []*autograd.Param, lr float64) {
	if a.m == nil {
		for _, p := range params {
			a.m = append(a.m, make([]float32, p.Size()))
			a.v = append(a.v, make([]float32, p.Size()))
		}
	}
	a.step++
	c1 := 1 - math.Pow(0.9, float64(a.step))
	c2 := 1 - math.Pow(0.999, float64(a.step))
	for i, p := range params {
		for j, g := range p.Grad {
			a.m[i][j] = 0.9*a.m[i][j] + 0.1*g
			a.v[i][j] = 0.999*a.v[i][j] + 0.001*g*g
			p.Data[j] -= float32(lr * float64(a.m[i][j]) / c1 / (math.Sqrt(float64(a.v[i][j])/c2) + 1e-8))
		}
	}
}

// train runs steps of Adam on one batch and returns the first and last losses.
func train(t *testing.T, m *model.Model, b *model.Batch, steps int, lr float64, o model.Options) (first, last float32) {
	t.Helper()
	tape := autograd.NewTape()
	var opt adam
	for s := range steps {
		tape.Reset()
		m.ZeroGrad()
		if o.Dropout != nil {
			o.Dropout.SetStep(uint64(s))
		}
		loss, err := m.Loss(tape, b, o)
		if err != nil {
			t.Fatal(err)
		}
		if s == 0 {
			first = loss.Data[0]
		}
		last = loss.Data[0]
		tape.Backward(loss)
		opt.update(m.Params(), lr)
	}
	return first, last
}

// A tiny T5 and a tiny HyperGrid T5 overfit a fixed batch; then greedy decoding
// reproduces the targets and label scoring picks the right candidate.
func TestT5Overfits(t *testing.T) {
	for _, tc := range []struct {
		name string
		ffn  layers.FFNBuilder
	}{
		{"glu", &layers.GLUConfig{DFF: 32, Activation: layers.GELU, Gated: true}},
		{"hypergrid", tinyGrid()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tinySpec(tc.ffn)
			spec.Dropout = 0.1
			m, err := model.New(spec, 7)
			if err != nil {
				t.Fatal(err)
			}
			b := tinyBatch()
			first, last := train(t, m, b, 80, 1e-2, model.Options{Train: true, Dropout: layers.NewDropoutSource(3)})
			t.Logf("loss %.3f -> %.3f", first, last)
			if !(first > 2 && last < 0.25*first && last < 0.5) {
				t.Fatalf("loss went from %.3f to %.3f; want a clear fall below 0.5", first, last)
			}
			tape := autograd.NewTape()
			out, err := m.Generate(tape, b, 5, 1)
			if err != nil {
				t.Fatal(err)
			}
			want := [][]int32{{5, 6}, {14}, {6, 5}, {15, 4}}
			for e := range want {
				if !slices.Equal(out[e], want[e]) {
					t.Errorf("example %d decodes to %v, want %v", e, out[e], want[e])
				}
			}
			tape.Reset()
			best, err := m.Classify(tape, b, [][]int32{{15, 4, 1}, {5, 6, 1}, {14, 1}, {6, 5, 1}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(best, []int{1, 2, 3, 0}) {
				t.Errorf("classified as %v, want [1 2 3 0]", best)
			}
		})
	}
}

func encoderSpec(ffn layers.FFNBuilder) model.Spec {
	s := tinySpec(ffn)
	s.Arch, s.DecoderLayers = model.ArchEncoder, 0
	s.Tasks = []model.TaskSpec{{Name: "cls", Kind: model.Classification, Classes: 3}, {Name: "reg", Kind: model.Regression}}
	return s
}

func encoderBatch() *model.Batch {
	b := tinyBatch()
	b.Targets, b.TargetLen = nil, 0
	b.Labels = []int32{2, 0, 1, 0}
	b.Values = []float32{0, 0.7, 0, -0.4}
	return b
}

// The encoder-only model with a classification and a regression head overfits a
// batch that mixes the two tasks.
func TestEncoderOverfitsMixedTasks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ffn     layers.FFNBuilder
		pooling string
	}{
		{"glu-first", layers.DefaultGLUConfig(), model.PoolFirstToken},
		{"hypergrid-task-mean", func() layers.FFNBuilder {
			g := tinyGrid()
			g.Conditioning, g.Stacks = hyper.TaskEmbedding, []layers.Stack{layers.Encoder}
			return g
		}(), model.PoolMean},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := encoderSpec(tc.ffn)
			spec.Pooling = tc.pooling
			m, err := model.New(spec, 5)
			if err != nil {
				t.Fatal(err)
			}
			b := encoderBatch()
			first, last := train(t, m, b, 60, 1e-2, model.Options{})
			t.Logf("loss %.3f -> %.3f", first, last)
			if !(last < 0.1*first && last < 0.05) {
				t.Fatalf("loss went from %.3f to %.3f; want a clear fall", first, last)
			}
			preds, err := m.Predict(autograd.NewTape(), b)
			if err != nil {
				t.Fatal(err)
			}
			if preds[0].Class != 2 || preds[2].Class != 1 || preds[0].Task != 0 || preds[1].Task != 1 {
				t.Errorf("predictions %+v", preds)
			}
			if math.Abs(float64(preds[1].Value-0.7)) > 0.1 || math.Abs(float64(preds[3].Value+0.4)) > 0.1 {
				t.Errorf("regression predictions %v and %v, want 0.7 and -0.4", preds[1].Value, preds[3].Value)
			}
		})
	}
}

// The whole model's gradients (embeddings, attention with shared position bias,
// HyperGrid gates, norms, output projection) pass finite differences, with dropout.
func TestModelGradients(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *model.Spec)
	}{
		{"t5-hypergrid-tied", func(s *model.Spec) { s.TieEmbeddings = true; s.LabelSmoothing = 0.1 }},
		{"t5-layernorm-glu", func(s *model.Spec) {
			s.Norm, s.Eps = layers.LayerNormKind, 1e-5
			s.FFN = &layers.GLUConfig{DFF: 8, Activation: layers.SiLU, Gated: true}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := hyper.DefaultGridConfig()
			g.DFF, g.Grid, g.Weights = 8, hyper.Grid{Rows: 2, Cols: 2}, []string{hyper.WeightBoth}
			spec := tinySpec(g)
			spec.DModel, spec.DKV, spec.EncoderLayers, spec.DecoderLayers = 8, 4, 2, 1
			spec.Dropout = 0.2
			tc.edit(&spec)
			m, err := model.New(spec, 1)
			if err != nil {
				t.Fatal(err)
			}
			b := tinyBatch()
			drop := layers.NewDropoutSource(9)
			loss := func(tape *autograd.Tape) *autograd.Tensor {
				drop.SetStep(4)
				l, err := m.Loss(tape, b, model.Options{Train: true, Dropout: drop})
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			if err := gradcheck.Check(loss, m.Params(), gradcheck.Options{Step: 1e-2, MaxPerParam: 6}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(s *model.Spec)
		fields []string
	}{
		{"default", func(s *model.Spec) {}, nil},
		{"arch", func(s *model.Spec) { s.Arch = "gpt" }, []string{"arch"}},
		{"shapes", func(s *model.Spec) { s.Vocab, s.DModel, s.Heads, s.DKV = 1, 0, -1, 0 }, []string{"vocab", "d_model", "heads", "d_kv"}},
		{"layers", func(s *model.Spec) { s.EncoderLayers, s.DecoderLayers = 0, 0 }, []string{"encoder_layers", "decoder_layers"}},
		{"encoder with decoder", func(s *model.Spec) {
			s.Arch = model.ArchEncoder
			s.Tasks = []model.TaskSpec{{Name: "x", Kind: model.Regression}}
		}, []string{"decoder_layers"}},
		{"buckets", func(s *model.Spec) { s.RelativeAttention.Buckets = 7 }, []string{"relative_attention.buckets"}},
		{"max distance", func(s *model.Spec) { s.RelativeAttention.MaxDistance = 10 }, []string{"relative_attention.max_distance"}},
		{"norm, eps, dropout", func(s *model.Spec) { s.Norm, s.Eps, s.Dropout = "batch", 0, 1 }, []string{"norm", "eps", "dropout"}},
		{"tasks", func(s *model.Spec) {
			s.Arch, s.DecoderLayers = model.ArchEncoder, 0
			s.Tasks = []model.TaskSpec{{Name: "a", Kind: model.Classification, Classes: 1}, {Name: "a", Kind: "ranking"}, {Kind: model.Regression, Classes: 2}}
		}, []string{"tasks[0].classes", "tasks[1].name", "tasks[1].kind", "tasks[2].name", "tasks[2].classes"}},
		{"ffn fields", func(s *model.Spec) {
			s.FFN = &hyper.GridConfig{GLUConfig: *layers.DefaultGLUConfig(), Composition: "LG", Grid: hyper.Grid{Rows: 3, Cols: 32}, Conditioning: "first_token", Weights: []string{"wo"}, Stacks: []layers.Stack{"encoder"}, GateInit: 0.5}
		}, []string{"ffn.grid.rows"}},
		{"missing builders", func(s *model.Spec) { s.FFN, s.Attention = nil, nil }, []string{"attention", "ffn"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := model.DefaultSpec()
			tc.edit(&s)
			var fields []string
			for _, e := range s.Validate() {
				var fe *registry.FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("%v is not a *registry.FieldError", e)
				}
				fields = append(fields, fe.Path)
			}
			if !slices.Equal(fields, tc.fields) {
				t.Errorf("fields %v, want %v", fields, tc.fields)
			}
			if _, err := model.New(s, 1); (err != nil) != (len(tc.fields) > 0) {
				t.Errorf("New error = %v", err)
			}
		})
	}
}

// Build-time errors of a builder (here: a grid column count that does not divide
// d_model) come back as field errors under "ffn.".
func TestNewReportsBuilderFieldErrors(t *testing.T) {
	g := hyper.DefaultGridConfig()
	g.Grid.Cols = 24 // divides d_ff 1024? no, but divides nothing relevant: d_model 256 % 24 != 0
	g.Grid.Rows = 32
	s := model.DefaultSpec()
	s.FFN = g
	_, err := model.New(s, 1)
	var fe *registry.FieldError
	if !errors.As(err, &fe) || fe.Path != "ffn.grid.cols" {
		t.Fatalf("error %v; want a field error at ffn.grid.cols", err)
	}
}

func TestBatchValidate(t *testing.T) {
	m, err := model.New(tinySpec(tinyGrid()), 1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(b *model.Batch)
	}{
		{"token outside vocabulary", func(b *model.Batch) { b.Inputs[3] = 99 }},
		{"short inputs", func(b *model.Batch) { b.Inputs = b.Inputs[:5] }},
		{"bad task", func(b *model.Batch) { b.Tasks[2] = 5 }},
		{"task count", func(b *model.Batch) { b.Tasks = b.Tasks[:1] }},
		{"target shape", func(b *model.Batch) { b.TargetLen = 4 }},
		{"no targets", func(b *model.Batch) { b.Targets = nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tinyBatch()
			tc.edit(b)
			if _, err := m.Loss(autograd.NewTape(), b, model.Options{}); err == nil {
				t.Fatal("Loss accepted an invalid batch")
			}
		})
	}
}

// Every parameter name is unique and hierarchical; the shared position bias exists
// once per stack.
func TestParamNames(t *testing.T) {
	m, err := model.New(tinySpec(tinyGrid()), 1)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, p := range m.Params() {
		if len(p.Shape) == 0 || p.Size() != p.Rows*p.Cols {
			t.Errorf("%s: shape %v, %d×%d", p.Name, p.Shape, p.Rows, p.Cols)
		}
		if slices.Contains([]string{"relative_bias"}, p.Name[max(0, len(p.Name)-13):]) {
			rel = append(rel, p.Name)
		}
	}
	want := []string{"encoder.block.0.self_attn.relative_bias", "decoder.block.0.self_attn.relative_bias"}
	if !slices.Equal(rel, want) {
		t.Errorf("relative biases %v, want %v", rel, want)
	}
}

// task_embedding conditioning needs declared tasks.
func TestTaskEmbeddingNeedsTasks(t *testing.T) {
	g := tinyGrid()
	g.Conditioning = hyper.TaskEmbedding
	s := tinySpec(g)
	s.Tasks = nil
	_, err := model.New(s, 1)
	var fe *registry.FieldError
	if !errors.As(err, &fe) || fe.Path != "ffn.conditioning" {
		t.Fatalf("error %v; want a field error at ffn.conditioning", err)
	}
}
