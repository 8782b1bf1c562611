package model_test

import (
	"testing"

	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
)

// The counts of the PyTorch reference (/work/shared/bench/torch_t5.py) for t5-mini.
func TestParamCountsMatchReference(t *testing.T) {
	tests := []struct {
		name      string
		ffn       layers.FFNBuilder
		total     int
		hypergrid int
	}{
		{"t5-mini", layers.DefaultGLUConfig(), 13539072, 0},
		{"t5-mini-hypergrid", hyper.DefaultGridConfig(), 13604864, 8 * 8224},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := model.DefaultSpec()
			spec.FFN = tc.ffn
			m, err := model.New(spec, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.NumParams(); got != tc.total {
				t.Errorf("total params = %d, want %d", got, tc.total)
			}
			hg := 0
			for _, p := range m.Params() {
				if p.Group == hyper.ParamGroup {
					hg += p.Size()
				}
			}
			if hg != tc.hypergrid {
				t.Errorf("HyperGrid params = %d, want %d", hg, tc.hypergrid)
			}
		})
	}
}
