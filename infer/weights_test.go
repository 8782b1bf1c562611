package infer

import (
	"math"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/checkpoint"
)

func testParams() []*autograd.Param {
	emb := autograd.NewParam("embedding", 128, 64)
	gain := autograd.NewParam("norm.weight", 64)
	for i := range emb.Data {
		emb.Data[i] = float32(i)
	}
	for i := range gain.Data {
		gain.Data[i] = 1
	}
	return []*autograd.Param{emb, gain}
}

func TestLoadWeights(t *testing.T) {
	src := testParams()
	good := Tensors(src)
	tests := []struct {
		name    string
		edit    func([]checkpoint.Tensor) []checkpoint.Tensor
		opts    LoadOptions
		wantErr []string
	}{
		{name: "round trip", edit: func(ts []checkpoint.Tensor) []checkpoint.Tensor { return ts }},
		{name: "rows x cols of a vector (earlier checkpoints)", edit: func(ts []checkpoint.Tensor) []checkpoint.Tensor {
			ts[1].Shape = []int{1, 64}
			return ts
		}},
		{name: "transposed shape", edit: func(ts []checkpoint.Tensor) []checkpoint.Tensor {
			ts[0].Shape = []int{64, 128}
			return ts
		}, wantErr: []string{"tensor embedding has shape [64 128], the model's parameter [128 64]"}},
		{name: "missing and unexpected", edit: func(ts []checkpoint.Tensor) []checkpoint.Tensor {
			ts[1].Name = "norm.bias"
			return ts
		}, wantErr: []string{"parameter norm.weight [64] is missing", "tensor norm.bias [64] is not a parameter"}},
		{name: "NaN refused", edit: func(ts []checkpoint.Tensor) []checkpoint.Tensor {
			ts[0].Data[70] = float32(math.NaN())
			return ts
		}, wantErr: []string{`"embedding"`, "not finite"}},
		{name: "NaN allowed", edit: func(ts []checkpoint.Tensor) []checkpoint.Tensor {
			ts[0].Data[70] = float32(math.Inf(1))
			return ts
		}, opts: LoadOptions{AllowNonFinite: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := make([]checkpoint.Tensor, len(good))
			for i, g := range good {
				ts[i] = checkpoint.Tensor{Name: g.Name, Shape: append([]int(nil), g.Shape...), Data: append([]float32(nil), g.Data...)}
			}
			ts = tc.edit(ts)
			dst := testParams()
			for _, p := range dst {
				clear(p.Data)
			}
			err := LoadWeights(dst, ts, "ckpt", tc.opts)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				if dst[0].Data[5] != 0 {
					t.Error("a refused checkpoint was partly loaded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if dst[0].Data[5] != 5 || dst[1].Data[3] != 1 {
				t.Error("weights not copied")
			}
		})
	}
}
