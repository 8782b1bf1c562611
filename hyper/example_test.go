package hyper_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
)

// Build a HyperGrid feed-forward layer for one encoder block and list its gate
// parameters.
func ExampleGridConfig_BuildFFN() {
	cfg := hyper.DefaultGridConfig() // LG 32×32 on wo, first-token conditioning
	site := layers.Site{Stack: layers.Encoder, Prefix: "encoder.block.0.ffn", DModel: 256, NumTasks: 1, Init: layers.NewInit(1)}
	ffn, err := cfg.BuildFFN(site)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range ffn.Params() {
		if p.Group == hyper.ParamGroup {
			fmt.Println(p.Name, p.Shape)
		}
	}
	// Output:
	// encoder.block.0.ffn.grid.local_rows [256 32]
	// encoder.block.0.ffn.grid.global_cols [32]
}

// A grid that does not tile the weight is refused with the offending field.
func ExampleGridConfig_Validate() {
	cfg := hyper.DefaultGridConfig()
	cfg.Grid.Rows = 24 // does not divide d_ff = 1024
	for _, err := range cfg.Validate() {
		fmt.Println(err)
	}
	// Output: grid.rows: is 24, which does not divide d_ff (1024) of the gated wo; pick a divisor of d_ff
}
