package model_test

import (
	"errors"
	"testing"

	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
)

// fuzzSpec builds a spec from fuzzed sizes and a byte of switches.
func fuzzSpec(vocab, dModel, heads, dkv, layersN, dff, grid int64, sw uint16) model.Spec {
	s := model.DefaultSpec()
	s.Vocab, s.DModel, s.Heads, s.DKV = int(vocab), int(dModel), int(heads), int(dkv)
	s.EncoderLayers, s.DecoderLayers = int(layersN), int(layersN)
	s.Dropout = 0
	s.TieEmbeddings = sw&1 != 0
	if sw&2 != 0 {
		s.Norm = layers.LayerNormKind
	}
	if sw&4 != 0 {
		s.RelativeAttention = model.RelativeAttention{}
	} else {
		s.RelativeAttention = model.RelativeAttention{Buckets: 8, MaxDistance: 16}
	}
	tasks := int(sw>>3) & 3
	for i := range tasks {
		s.Tasks = append(s.Tasks, model.TaskSpec{Name: string(rune('a' + i)), Kind: model.Classification, Classes: 2 + i})
	}
	if sw&32 != 0 {
		s.Arch, s.DecoderLayers = model.ArchEncoder, 0
		if len(s.Tasks) > 0 {
			s.Tasks[0].Kind, s.Tasks[0].Classes = model.Regression, 0
		}
		if sw&64 != 0 {
			s.Pooling = model.PoolMean
		}
	}
	glu := layers.GLUConfig{DFF: int(dff), Activation: layers.GELU, Gated: sw&128 != 0}
	if sw&256 == 0 {
		s.FFN = &glu
		return s
	}
	g := hyper.DefaultGridConfig()
	g.GLUConfig = glu
	g.Grid = hyper.Grid{Rows: int(grid), Cols: int(grid>>8) | 1}
	g.Composition = []hyper.Composition{hyper.LG, hyper.GL, hyper.LL, hyper.GG}[sw>>9&3]
	g.Conditioning = []hyper.Conditioning{hyper.FirstToken, hyper.Mean, hyper.TaskEmbedding, hyper.FirstToken}[sw>>11&3]
	g.Weights = [][]string{{hyper.WeightWo}, {hyper.WeightWi}, {hyper.WeightBoth}, {hyper.WeightWi, hyper.WeightWo}}[sw>>13&3]
	if sw&(1<<15) != 0 {
		g.Stacks = []layers.Stack{layers.Encoder}
	}
	s.FFN = g
	return s
}

// small reports whether every size of the spec is small enough to build the model in
// a test whatever its other settings are.
func small(vocab, dModel, heads, dkv, layersN, dff, grid int64) bool {
	return vocab <= 64 && dModel <= 64 && heads <= 8 && dkv <= 16 && layersN <= 3 && dff <= 128 && grid <= 1<<12
}

// FuzzEstimate feeds arbitrary sizes, settings and batch shapes to Spec.Estimate: it
// must never panic; an estimate it gives has no negative count and a consistent
// total; and for models small enough to build, it succeeds exactly when New does and
// counts exactly New's parameters.
func FuzzEstimate(f *testing.F) {
	f.Add(int64(16), int64(16), int64(2), int64(8), int64(2), int64(32), int64(4|4<<8), uint16(0x1ff), int64(2), int64(5), int64(3), uint8(0))
	f.Add(int64(16), int64(16), int64(2), int64(8), int64(1), int64(32), int64(2|8<<8), uint16(0x7fff), int64(1), int64(1), int64(1), uint8(1))
	f.Add(int64(30), int64(12), int64(3), int64(4), int64(2), int64(24), int64(3|3<<8), uint16(0x93a), int64(3), int64(4), int64(2), uint8(2))
	f.Add(int64(2_000_000_000), int64(128), int64(4), int64(32), int64(2), int64(512), int64(8|8<<8), uint16(0x180), int64(32), int64(128), int64(8), uint8(0))
	f.Add(int64(1)<<55, int64(128), int64(4), int64(32), int64(2), int64(512), int64(8), uint16(0), int64(32), int64(128), int64(8), uint8(0))
	f.Add(int64(1)<<62, int64(4), int64(4), int64(32), int64(2), int64(512), int64(8), uint16(0), int64(32), int64(128), int64(8), uint8(0))
	f.Add(int64(512), int64(1)<<40, int64(4), int64(32), int64(2), int64(512), int64(8), uint16(0), int64(32), int64(128), int64(8), uint8(0))
	f.Add(int64(512), int64(128), int64(4), int64(32), int64(1_000_000), int64(512), int64(8), uint16(0), int64(32), int64(128), int64(8), uint8(0))
	f.Add(int64(512), int64(128), int64(4), int64(32), int64(2), int64(1)<<62, int64(8), uint16(0x100), int64(32), int64(128), int64(8), uint8(0))
	f.Add(int64(512), int64(128), int64(4), int64(32), int64(2), int64(512), int64(8), uint16(0), int64(1)<<40, int64(1)<<40, int64(1)<<40, uint8(1))
	f.Add(int64(-1), int64(0), int64(-5), int64(0), int64(-1), int64(-1), int64(-1), uint16(0xffff), int64(-1), int64(0), int64(-1), uint8(3))
	f.Fuzz(func(t *testing.T, vocab, dModel, heads, dkv, layersN, dff, grid int64, sw uint16, batch, inLen, tgtLen int64, opt uint8) {
		spec := fuzzSpec(vocab, dModel, heads, dkv, layersN, dff, grid, sw)
		optimizer := []string{model.OptimizerAdamW, model.OptimizerAdafactor, "", "sgd"}[opt%4]
		e, err := spec.Estimate(int(batch), int(inLen), int(tgtLen), optimizer)
		if err == nil {
			if e.Params <= 0 || e.ParamBytes < 0 || e.GradBytes < 0 || e.OptimizerBytes < 0 || e.ActivationBytes < 0 || e.RuntimeBytes < 0 {
				t.Fatalf("estimate %+v has a negative count", e)
			}
			if e.Total != e.ParamBytes+e.GradBytes+e.OptimizerBytes+e.ActivationBytes+e.RuntimeBytes {
				t.Fatalf("estimate %+v: Total is not the sum", e)
			}
		}
		if errors.Is(err, model.ErrUnsized) {
			t.Fatalf("a framework builder is unsized: %v", err)
		}
		// The model alone: Estimate and New agree when the model is small enough to
		// build here.
		e0, err0 := spec.Estimate(0, 0, 0, "")
		if err0 == nil && e0.Params > 1<<20 {
			return
		}
		if err0 != nil && !small(vocab, dModel, heads, dkv, layersN, dff, grid) {
			return
		}
		m, errNew := model.New(spec, 1)
		switch {
		case (err0 == nil) != (errNew == nil):
			t.Fatalf("Estimate: %v; New: %v", err0, errNew)
		case err0 == nil && e0.Params != int64(m.NumParams()):
			t.Fatalf("Estimate counts %d parameters; New builds %d", e0.Params, m.NumParams())
		}
	})
}
