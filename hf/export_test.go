package hf

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
)

// hyperModel builds a small HyperGrid T5 whose gates differ clearly between tasks.
func hyperModel(t *testing.T, comp hyper.Composition, cond hyper.Conditioning, weights []string, stacks []layers.Stack) *model.Model {
	t.Helper()
	s := model.Spec{Arch: model.ArchT5, Vocab: 50, DModel: 16, Heads: 2, DKV: 4, EncoderLayers: 2, DecoderLayers: 3,
		RelativeAttention: model.RelativeAttention{Buckets: 8, MaxDistance: 16}, TieEmbeddings: true, Norm: layers.RMSNormKind, Eps: 1e-6,
		Tasks:     []model.TaskSpec{{Name: "alpha"}, {Name: "beta"}},
		Attention: layers.DefaultT5AttentionConfig(),
		FFN: &hyper.GridConfig{GLUConfig: layers.GLUConfig{DFF: 24, Activation: layers.GELU, Gated: true}, Composition: comp,
			Grid: hyper.Grid{Rows: 4, Cols: 2}, Conditioning: cond, Weights: weights, Stacks: stacks, GateInit: 0.7}}
	m, err := model.New(s, 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		if p.Group == hyper.ParamGroup { // gates far from their initial level
			for i := range p.Data {
				p.Data[i] *= 40
			}
		}
	}
	return m
}

func TestExportFoldsTaskGates(t *testing.T) {
	input, target := ids("5,6,7,8,9,1"), ids("11,12,13,1")
	tests := []struct {
		name    string
		comp    hyper.Composition
		weights []string
		stacks  []layers.Stack
		task    string
		ti      int32
	}{
		{"task_embedding LG on wo, task beta", hyper.LG, []string{hyper.WeightWo}, []layers.Stack{layers.Encoder, layers.Decoder}, "beta", 1},
		{"task_embedding LL on wi and wo, task alpha", hyper.LL, []string{hyper.WeightBoth}, []layers.Stack{layers.Decoder}, "alpha", 0},
		{"GG on wi, no task needed", hyper.GG, []string{hyper.WeightWi}, []layers.Stack{layers.Encoder}, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := hyperModel(t, tt.comp, hyper.TaskEmbedding, tt.weights, tt.stacks)
			want := goRun(t, m, input, target, 12, tt.ti)
			dir := filepath.Join(t.TempDir(), "hf")
			if err := Export(m, dir, ExportOptions{Task: tt.task}); err != nil {
				t.Fatal(err)
			}
			back, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			got := goRun(t, build(t, back), input, target, 12, 0)
			compare(t, tt.name, got, want)
			// The other task gives other logprobs: the fold is the task's.
			if tt.comp != hyper.GG {
				other := goRun(t, m, input, target, 12, 1-tt.ti)
				if math.Abs(other.Logprobs[0]-got.Logprobs[0]) < 1e-3 {
					t.Errorf("the tasks' logprobs agree (%v, %v): the gates do not tell them apart, the test proves nothing", other.Logprobs, got.Logprobs)
				}
			}
		})
	}
}

func TestExportRefuses(t *testing.T) {
	both := []layers.Stack{layers.Encoder, layers.Decoder}
	tests := []struct {
		name  string
		m     func(t *testing.T) *model.Model
		task  string
		wants []string
	}{
		{"first_token conditioning", func(t *testing.T) *model.Model {
			return hyperModel(t, hyper.LG, hyper.FirstToken, []string{hyper.WeightWo}, both)
		}, "alpha", []string{"conditioned on first_token", "depend on each input's hidden states", "task_embedding, or composition: GG"}},
		{"mean conditioning", func(t *testing.T) *model.Model {
			return hyperModel(t, hyper.GL, hyper.Mean, []string{hyper.WeightWo}, []layers.Stack{layers.Encoder})
		}, "", []string{"conditioned on mean"}},
		{"task gates without --task", func(t *testing.T) *model.Model {
			return hyperModel(t, hyper.LG, hyper.TaskEmbedding, []string{hyper.WeightWo}, both)
		}, "", []string{"name one with --task (one of [alpha beta])"}},
		{"an unknown task", func(t *testing.T) *model.Model {
			return hyperModel(t, hyper.LG, hyper.TaskEmbedding, []string{hyper.WeightWo}, both)
		}, "gamma", []string{`--task "gamma": the model's tasks are [alpha beta]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Export(tt.m(t), t.TempDir(), ExportOptions{Task: tt.task})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
