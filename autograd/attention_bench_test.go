package autograd_test

import (
	"fmt"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/autograd/gradcheck"
	"github.com/hypergrid-go/hypergrid/ops"
)

// BenchmarkAttention is the forward and backward pass of one t5-mini self-attention
// (32 examples of 128 tokens, 4 heads of 64, relative bias, padding) at 1 and 2
// threads:
//
//	go test -run '^$' -bench BenchmarkAttention ./autograd/
func BenchmarkAttention(b *testing.B) {
	const n, L, H, dh = 32, 128, 4, 64
	hd := H * dh
	q := gradcheck.Random("q", 1, 1, n*L, hd)
	k := gradcheck.Random("k", 2, 1, n*L, hd)
	v := gradcheck.Random("v", 3, 1, n*L, hd)
	bias := gradcheck.Random("bias", 4, 1, H, L*L)
	w := gradcheck.Random("w", 5, 1, n*L, hd)
	valid := make([]bool, n*L)
	for i := range valid {
		valid[i] = i%L < L-(i/L)%16
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			defer ops.SetThreads(ops.SetThreads(threads))
			tape := autograd.NewTape()
			for range b.N {
				tape.Reset()
				for _, p := range []*autograd.Param{q, k, v, bias} {
					p.Grad = nil
				}
				out := tape.Attention(&q.Tensor, &k.Tensor, &v.Tensor, &bias.Tensor, autograd.AttentionShape{Batch: n, QLen: L, KLen: L, Heads: H, DHead: dh, Scale: 1, KeyValid: valid})
				tape.Backward(tape.WeightedSum(out, w.Data))
			}
			b.ReportMetric(float64(b.N)*6*2*float64(n*H*L*L*dh)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
