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

// BenchmarkGatedFFN is the forward and backward pass of one t5-mini encoder
// feed-forward layer (32 examples of 128 tokens, d 256, GEGLU of 1024, output 256),
// plain (GatedFFN) and with the output weight gated by a 32×32 grid per example
// (GridGatedFFN), at 1 and 2 threads. Each iteration runs the layer once in each way
// in turn (each iteration starting one way later), so that a noisy machine slows all
// of them alike, and it reports each way's median milliseconds a pass: with the block
// height GatedFFN chooses here ("auto") and with fixed heights beside it (a fixed
// height cuts the rows as it is, across examples too), and for GridGatedFFN with the
// weight gated once per example ("copy", its way) or by every block's product
// ("per-block"):
//
//	go test -run '^$' -bench BenchmarkGatedFFN -benchtime 20x ./autograd/
//
// Where another way is clearly faster than "auto" on some CPU, ffnBlocks' rule is
// worth revisiting there.
func BenchmarkGatedFFN(b *testing.B) {
	const n, L, d, f, e, gr, gc = 32, 128, 256, 1024, 256, 32, 32
	x := gradcheck.Random("x", 1, 1, n*L, d)
	w0 := gradcheck.Random("w0", 2, 0.06, d, f)
	w1 := gradcheck.Random("w1", 3, 0.06, d, f)
	wo := gradcheck.Random("wo", 4, 0.03, f, e)
	g := gradcheck.Random("g", 5, 1, n, gr*gc)
	w := gradcheck.Weights(n*L*e, 6)
	type way struct {
		rows int // 0: GatedFFN's choice
		copy bool
	}
	for _, gated := range []bool{false, true} {
		name := "dense"
		ways := []way{{0, true}, {40, true}, {64, true}, {128, true}}
		if gated {
			name = "grid"
			ways = append(ways, way{0, false}, way{128, false})
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", name, threads), func(b *testing.B) {
				defer ops.SetThreads(ops.SetThreads(threads))
				defer autograd.SetFFNBlockRows(autograd.SetFFNBlockRows(0))
				defer autograd.SetFFNGateCopies(autograd.SetFFNGateCopies(true))
				tape := autograd.NewTape()
				pass := func(wy way) time.Duration {
					autograd.SetFFNBlockRows(wy.rows)
					autograd.SetFFNGateCopies(wy.copy)
					start := time.Now()
					tape.Reset()
					for _, p := range []*autograd.Param{x, w0, w1, wo, g} {
						p.Grad = nil
					}
					var out *autograd.Tensor
					if gated {
						out = tape.GridGatedFFN(autograd.ActGELU, &x.Tensor, &w0.Tensor, &w1.Tensor, &wo.Tensor, &g.Tensor, n, gr, gc)
					} else {
						out = tape.GatedFFN(autograd.ActGELU, &x.Tensor, &w0.Tensor, &w1.Tensor, &wo.Tensor)
					}
					tape.Backward(tape.WeightedSum(out, w))
					return time.Since(start)
				}
				pass(way{}) // untimed: the tape's memory, the gradients' first allocation
				times := make([][]time.Duration, len(ways))
				for it := 0; b.Loop(); it++ {
					for j := range ways {
						i := (it + j) % len(ways)
						times[i] = append(times[i], pass(ways[i]))
					}
				}
				for i, wy := range ways {
					label := "auto"
					if wy.rows > 0 {
						label = fmt.Sprint(wy.rows)
					}
					if gated && wy.copy {
						label += ",copy"
					} else if gated {
						label += ",per-block"
					}
					slices.Sort(times[i])
					b.ReportMetric(float64(times[i][len(times[i])/2])/1e6, "ms/rows="+label)
				}
			})
		}
	}
}
