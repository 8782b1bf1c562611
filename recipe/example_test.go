package recipe_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/recipe"
)

// A recipe names its pluggable layers by registered ID; --set overrides apply with the
// same strictness as the file.
func ExampleLoader_Parse() {
	text := []byte(`
model:
  vocab: 1000
  d_model: 64
  heads: 2
  d_kv: 32
  encoder_layers: 2
  decoder_layers: 2
  ffn:
    type: ffn.hypergrid
    d_ff: 256
    grid: {rows: 8, cols: 8}
`)
	r, err := recipe.Loader{Sets: []string{"model.ffn.grid.rows=16"}}.Parse("small.yaml", text)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := r.Build(1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Source.Components["model.ffn"], m.NumParams())
	// Output: ffn.hypergrid 427936
}

// Every problem of a recipe is reported at once, each with its file:line:col.
func ExampleLoader_Parse_errors() {
	text := []byte(`
model:
  d_modle: 64
  heads: two
  ffn: {type: ffn.gluu}
`)
	_, err := recipe.Loader{Sets: []string{"model.dropout=2"}}.Parse("bad.yaml", text)
	fmt.Println(err)
	// Output:
	// 4 errors in recipe:
	//	bad.yaml:3:3: model.d_modle: unknown key "d_modle" in model; did you mean "d_model"?
	//	bad.yaml:4:10: model.heads: expected an integer, got string "two"
	//	bad.yaml:5:15: model.ffn.type: unknown layer type "ffn.gluu" (forgotten import?); known: ffn.glu, ffn.hypergrid; did you mean "ffn.glu"?
	//	--set model.dropout=2: model.dropout: is 2; want a rate in [0, 1)
}
