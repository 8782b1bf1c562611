package model_test

import (
	"math/rand/v2"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
)

func randomBatch(size, inLen, tgtLen, vocab int) *model.Batch {
	rng := rand.New(rand.NewPCG(1, 2))
	b := &model.Batch{Size: size, InputLen: inLen, TargetLen: tgtLen,
		Inputs: make([]int32, size*inLen), Targets: make([]int32, size*tgtLen), Tasks: make([]int32, size)}
	for i := range b.Inputs {
		b.Inputs[i] = 1 + rng.Int32N(int32(vocab-1))
	}
	for i := range b.Targets {
		b.Targets[i] = 1 + rng.Int32N(int32(vocab-1))
	}
	return b
}

// benchTrainStep measures one training step (forward, backward, SGD update) on a
// reused tape; allocs/op is the steady-state allocation count per step.
func benchTrainStep(b *testing.B, spec model.Spec, batch *model.Batch) {
	m, err := model.New(spec, 1)
	if err != nil {
		b.Fatal(err)
	}
	tape := autograd.NewTape()
	drop := layers.NewDropoutSource(1)
	params := m.Params()
	step := func(s int) {
		tape.Reset()
		m.ZeroGrad()
		drop.SetStep(uint64(s))
		loss, err := m.Loss(tape, batch, model.Options{Train: true, Dropout: drop})
		if err != nil {
			b.Fatal(err)
		}
		tape.Backward(loss)
		for _, p := range params {
			for j, g := range p.Grad {
				p.Data[j] -= 1e-3 * g
			}
		}
	}
	step(0)
	step(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		step(i + 2)
	}
	b.ReportMetric(float64(batch.Size*batch.InputLen)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkTrainStep is a small HyperGrid T5 (d_model 64, 2+2 layers, batch 8×32).
func BenchmarkTrainStep(b *testing.B) {
	g := tinyGrid()
	g.DFF, g.Grid = 256, hyper.Grid{Rows: 16, Cols: 16}
	spec := model.DefaultSpec()
	spec.Vocab, spec.DModel, spec.Heads, spec.DKV = 512, 64, 4, 16
	spec.EncoderLayers, spec.DecoderLayers = 2, 2
	spec.FFN = g
	benchTrainStep(b, spec, randomBatch(8, 32, 8, spec.Vocab))
}

// BenchmarkTrainStepT5Mini is the reference shape of /work/shared/bench/torch_t5.py
// (t5-mini, batch 32×128, targets 8) with the dense or the HyperGrid feed-forward.
func BenchmarkTrainStepT5Mini(b *testing.B) {
	for _, tc := range []struct {
		name string
		ffn  layers.FFNBuilder
	}{{"dense", layers.DefaultGLUConfig()}, {"hypergrid", hyper.DefaultGridConfig()}} {
		b.Run(tc.name, func(b *testing.B) {
			spec := model.DefaultSpec()
			spec.FFN = tc.ffn
			benchTrainStep(b, spec, randomBatch(32, 128, 8, spec.Vocab))
		})
	}
}
