package model_test

import (
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/recipe"
)

// BenchmarkGenerateT5Mini measures greedy decoding of 8 new tokens for a batch of
// 32 examples of 128 source tokens on one thread, with the t5-mini recipes (dense and
// HyperGrid), incrementally (Generate, with the cache) and by re-running the decoder
// over all tokens at every step (the uncached reference). examples/s counts the
// batch's examples per second of wall time, examples/cpu-s per second of the
// process's CPU time.
func BenchmarkGenerateT5Mini(b *testing.B) {
	const size, srcLen, newTokens = 32, 128, 8
	for _, rc := range []struct{ name, path string }{
		{"dense", "../recipes/t5-mini.yaml"},
		{"hypergrid", "../recipes/t5-mini-hypergrid.yaml"},
	} {
		r, err := recipe.Load(rc.path)
		if err != nil {
			b.Fatal(err)
		}
		m, err := model.New(r.Model.ModelSpec(), 1)
		if err != nil {
			b.Fatal(err)
		}
		batch := randomBatch(size, srcLen, 1, m.Spec.Vocab)
		batch.Targets, batch.TargetLen = nil, 0
		for _, mode := range []struct {
			name string
			gen  func(*autograd.Tape, *model.Batch, int, int32) ([][]int32, error)
		}{{"cached", m.Generate}, {"uncached", m.GenerateUncached}} {
			b.Run(rc.name+"/"+mode.name, func(b *testing.B) {
				defer ops.SetThreads(ops.SetThreads(1))
				tape := autograd.NewTape()
				run := func() {
					tape.Reset()
					out, err := mode.gen(tape, batch, newTokens, -1)
					if err != nil {
						b.Fatal(err)
					}
					if len(out[0]) != newTokens {
						b.Fatalf("%d tokens; want %d", len(out[0]), newTokens)
					}
				}
				run()
				b.ReportAllocs()
				b.ResetTimer()
				cpu0, cpuOK := processCPU()
				for b.Loop() {
					run()
				}
				b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "examples/s")
				if cpu1, ok := processCPU(); ok && cpuOK {
					// The process's CPU time (GC included): steadier than the wall clock
					// when other programs share the machine.
					b.ReportMetric(float64(size)*float64(b.N)/(cpu1-cpu0).Seconds(), "examples/cpu-s")
				}
			})
		}
	}
}
