package model_test

import (
	"math"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
)

// A whole model's gradients (HyperGrid and GLU feed-forwards, attention with the
// shared position bias, tied or untied embeddings, RMSNorm and LayerNorm, dropout)
// are the same after DeferZeroGrad, Backward, SettleGrads as after ZeroGrad, Backward,
// whatever the gradients held before (NaN here): the training step's way of zeroing.
func TestDeferZeroGradMatchesZeroGrad(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *model.Spec)
	}{
		{"t5-hypergrid-tied", func(s *model.Spec) { s.FFN = tinyGrid(); s.TieEmbeddings = true }},
		{"t5-glu-layernorm", func(s *model.Spec) {
			s.FFN = &layers.GLUConfig{DFF: 24, Activation: layers.GELU, Gated: true}
			s.Norm, s.Eps = layers.LayerNormKind, 1e-5
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tinySpec(tinyGrid())
			spec.Dropout = 0.2
			tc.edit(&spec)
			grads := func(deferred bool) [][]float32 {
				m, err := model.New(spec, 3)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range m.Params() {
					for i := range p.Grad {
						p.Grad[i] = float32(math.NaN())
					}
				}
				tape, drop := autograd.NewTape(), layers.NewDropoutSource(4)
				drop.SetStep(2)
				loss, err := m.Loss(tape, tinyBatch(), model.Options{Train: true, Dropout: drop})
				if err != nil {
					t.Fatal(err)
				}
				if deferred {
					m.DeferZeroGrad()
					tape.Backward(loss)
					m.SettleGrads()
				} else {
					m.ZeroGrad()
					tape.Backward(loss)
				}
				out := make([][]float32, len(m.Params()))
				for i, p := range m.Params() {
					out[i] = p.Grad
				}
				return out
			}
			want, got := grads(false), grads(true)
			for i := range want {
				for j := range want[i] {
					if got[i][j] != want[i][j] || math.IsNaN(float64(got[i][j])) {
						t.Fatalf("parameter %d, value %d: %v, want %v", i, j, got[i][j], want[i][j])
					}
				}
			}
		})
	}
}
