package autograd_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/autograd/gradcheck"
	"github.com/hypergrid-go/hypergrid/ops"
)

// BenchmarkGatedFFN is the forward and backward pass of one t5-mini feed-forward layer
// (d 256, GEGLU of 1024, output 256) over the encoder's 32 examples of 128 tokens,
// plain (GatedFFN) and with the output weight gated by a 32×32 grid per example
// (GridGatedFFN), and the gated one over the decoder's 32 examples of 8 tokens, at 1 and
// 2 threads. Each iteration runs the layer once in each way in turn (each iteration
// starting one way later), so that a noisy machine slows all of them alike, and it
// reports each way's median milliseconds a pass: with the block height GatedFFN chooses
// here ("auto") and with fixed heights beside it (a fixed height cuts the rows as it is,
// across examples too), and for GridGatedFFN with its own choice of gating ("auto"), the
// weight gated once per example for all its blocks ("copy") or by every block's product
// ("per-block"):
//
//	go test -run '^$' -bench BenchmarkGatedFFN -benchtime 20x ./autograd/
//
// Where another way is clearly faster than "auto" on some CPU, ffnBlocks' or
// newGatedWeights' rule is worth revisiting there.
func BenchmarkGatedFFN(b *testing.B) {
	const d, f, e, gr, gc = 256, 1024, 256, 32, 32
	type way struct {
		rows  int // 0: GatedFFN's choice
		gates int // SetFFNGateCopies' mode
	}
	for _, c := range []struct {
		name   string
		n, L   int
		gated  bool
		ways   []way
		labels []string
	}{
		{"encoder/dense", 32, 128, false, []way{{0, 0}, {40, 0}, {64, 0}, {128, 0}}, []string{"auto", "40", "64", "128"}},
		{"encoder/grid", 32, 128, true, []way{{0, 0}, {0, 1}, {0, -1}, {64, 0}, {128, 0}},
			[]string{"auto", "copy", "per-block", "64", "128"}},
		{"decoder/grid", 32, 8, true, []way{{0, 0}, {0, 1}, {0, -1}}, []string{"auto", "copy", "per-block"}},
	} {
		m := c.n * c.L
		x := gradcheck.Random("x", 1, 1, m, d)
		w0 := gradcheck.Random("w0", 2, 0.06, d, f)
		w1 := gradcheck.Random("w1", 3, 0.06, d, f)
		wo := gradcheck.Random("wo", 4, 0.03, f, e)
		g := gradcheck.Random("g", 5, 1, c.n, gr*gc)
		w := gradcheck.Weights(m*e, 6)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", c.name, threads), func(b *testing.B) {
				defer ops.SetThreads(ops.SetThreads(threads))
				defer autograd.SetFFNBlockRows(autograd.SetFFNBlockRows(0))
				defer autograd.SetFFNGateCopies(autograd.SetFFNGateCopies(0))
				tape := autograd.NewTape()
				pass := func(wy way) time.Duration {
					autograd.SetFFNBlockRows(wy.rows)
					autograd.SetFFNGateCopies(wy.gates)
					start := time.Now()
					tape.Reset()
					for _, p := range []*autograd.Param{x, w0, w1, wo, g} {
						p.Grad = nil
					}
					var out *autograd.Tensor
					if c.gated {
						out = tape.GridGatedFFN(autograd.ActGELU, &x.Tensor, &w0.Tensor, &w1.Tensor, &wo.Tensor, &g.Tensor, c.n, gr, gc)
					} else {
						out = tape.GatedFFN(autograd.ActGELU, &x.Tensor, &w0.Tensor, &w1.Tensor, &wo.Tensor)
					}
					tape.Backward(tape.WeightedSum(out, w))
					return time.Since(start)
				}
				pass(way{}) // untimed: the tape's memory, the gradients' first allocation
				times := make([][]time.Duration, len(c.ways))
				for it := 0; b.Loop(); it++ {
					for j := range c.ways {
						i := (it + j) % len(c.ways)
						times[i] = append(times[i], pass(c.ways[i]))
					}
				}
				for i, label := range c.labels {
					slices.Sort(times[i])
					b.ReportMetric(float64(times[i][len(times[i])/2])/1e6, "ms/"+label)
				}
			})
		}
	}
}
