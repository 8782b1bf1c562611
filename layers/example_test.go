package layers_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
)

// Build T5's GEGLU feed-forward layer for a site and run it on a batch.
func ExampleGLUConfig_BuildFFN() {
	site := layers.Site{Stack: layers.Encoder, Prefix: "encoder.block.0.ffn", DModel: 8, Init: layers.NewInit(1)}
	ffn, err := (&layers.GLUConfig{DFF: 32, Activation: layers.GELU, Gated: true}).BuildFFN(site)
	if err != nil {
		fmt.Println(err)
		return
	}
	tape := autograd.NewTape()
	seq := layers.Seq{Batch: 2, Len: 3}
	y := ffn.Forward(&layers.Context{Tape: tape}, tape.New(seq.Rows(), 8), seq)
	for _, p := range ffn.Params() {
		fmt.Println(p.Name, p.Shape)
	}
	fmt.Println(y)
	// Output:
	// encoder.block.0.ffn.wi0 [8 32]
	// encoder.block.0.ffn.wi1 [8 32]
	// encoder.block.0.ffn.wo [32 8]
	// Tensor[6×8]
}
