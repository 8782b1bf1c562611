package gateplugin_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/examples/gateplugin"
	"github.com/hypergrid-go/hypergrid/recipe"
)

// A program that imports the plugin can name its layer type in a recipe.
func Example() {
	r, err := recipe.Loader{Sets: []string{"model.ffn.gate=silu"}}.Parse("recipe.yaml", gateplugin.Recipe)
	if err != nil {
		panic(err)
	}
	cfg := r.Model.FFN.(*gateplugin.Config)
	fmt.Printf("%s: %d×%d grid, gate %s(%.0f + r cᵀ)\n", r.Source.Components["model.ffn"], cfg.Grid.Rows, cfg.Grid.Cols, cfg.Gate, cfg.Offset)
	// Output: ffn.gateplugin.grid: 8×8 grid, gate silu(1 + r cᵀ)
}
