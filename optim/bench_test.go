package optim

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hypergrid-go/hypergrid/ops"
)

// t5MiniParams are the matrices of a t5-mini-sized model (13.5M values): the
// embedding and LM head, and per block the attention and feed-forward weights.
func t5MiniParams() []Param {
	rng := rand.New(rand.NewPCG(1, 2))
	var ps []Param
	add := func(name string, r, c int) {
		w, g := make([]float32, r*c), make([]float32, r*c)
		for i := range w {
			w[i] = float32(rng.NormFloat64()) * 0.05
			g[i] = float32(rng.NormFloat64()) * 1e-3
		}
		ps = append(ps, Param{Name: name, Value: w, Grad: g, Rows: r, Cols: c})
	}
	add("embedding", 8000, 256)
	add("lm_head", 256, 8000)
	for b := range 8 {
		add(fmt.Sprint(b, ".wi0"), 256, 1024)
		add(fmt.Sprint(b, ".wi1"), 256, 1024)
		add(fmt.Sprint(b, ".wo"), 1024, 256)
		add(fmt.Sprint(b, ".qkvo"), 256, 1024)
		add(fmt.Sprint(b, ".norm"), 1, 256)
	}
	return ps
}

// BenchmarkOptimizers times one update of every kind over t5-mini-sized parameters,
// at 1 and 2 threads (the parameters fit a large L3; in a training step they come
// from memory):
//
//	go test -run '^$' -bench Optimizers ./optim
func BenchmarkOptimizers(b *testing.B) {
	for _, kind := range Kinds {
		ps := t5MiniParams()
		o, err := New(kind, Options{WeightDecay: 0.01}, ps)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, p := range ps {
			n += len(p.Value)
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", kind, threads), func(b *testing.B) {
				defer ops.SetThreads(ops.SetThreads(threads))
				for b.Loop() {
					o.Step(1e-3)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/value")
			})
		}
	}
}
