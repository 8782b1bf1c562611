package hyper_test

import (
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/autograd/gradcheck"
	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
)

// BenchmarkFFN compares one forward+backward pass of the plain GEGLU layer with the
// HyperGrid layer (LG 32×32 on wo) on t5-mini's shape, batch 32×128.
func BenchmarkFFN(b *testing.B) {
	const batch, length, d = 32, 128, 256
	for _, tc := range []struct {
		name string
		cfg  layers.FFNBuilder
	}{{"glu", layers.DefaultGLUConfig()}, {"hypergrid", hyper.DefaultGridConfig()}} {
		b.Run(tc.name, func(b *testing.B) {
			s := layers.Site{Stack: layers.Encoder, Prefix: "ffn", DModel: d, NumTasks: 1, Init: layers.NewInit(1)}
			f, err := tc.cfg.BuildFFN(s)
			if err != nil {
				b.Fatal(err)
			}
			x := gradcheck.Random("x", 1, 1, batch*length, d)
			w := gradcheck.Weights(batch*length*d, 1)
			seq := layers.Seq{Batch: batch, Len: length}
			tape := autograd.NewTape()
			step := func() {
				tape.Reset()
				tape.Backward(tape.WeightedSum(f.Forward(&layers.Context{Tape: tape}, &x.Tensor, seq), w))
			}
			step()
			step() // the second step sizes the arena: from here on it is reused
			b.ReportAllocs()
			for b.Loop() {
				step()
			}
		})
	}
}
