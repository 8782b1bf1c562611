package registry_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/registry"
)

// A recipe names its pluggable layers by registered ID; --set overrides apply with the
// same strictness as the file.
func ExampleLoader_Parse() {
	recipe := []byte(`
model:
  vocab: 1000
  d_model: 64
  heads: 2
  d_kv: 32
  encoder_layers: 2
  decoder_layers: 2
  ffn:
    type: hyper.grid
    d_ff: 256
    grid: {rows: 8, cols: 8}
`)
	r, err := registry.Loader{Sets: []string{"model.ffn.grid.rows=16"}}.Parse("small.yaml", recipe)
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
	// Output: hyper.grid 427936
}

// Every problem of a recipe is reported at once, each with its file:line:col.
func ExampleLoader_Parse_errors() {
	recipe := []byte(`
model:
  d_modle: 64
  heads: two
  ffn: {type: ffn.gluu}
`)
	_, err := registry.Loader{Sets: []string{"model.dropout=2"}}.Parse("bad.yaml", recipe)
	fmt.Println(err)
	// Output:
	// 4 errors in recipe:
	//	bad.yaml:3:3: model.d_modle: unknown key "d_modle" in model; did you mean "d_model"?
	//	bad.yaml:4:10: model.heads: expected an integer, got string "two"
	//	bad.yaml:5:15: model.ffn.type: unknown layer type "ffn.gluu" (forgotten import?); known: ffn.glu, hyper.grid; did you mean "ffn.glu"?
	//	--set model.dropout=2: model.dropout: is 2; want a rate in [0, 1)
}

// Greeter is a slot of a program's own: any interface can be one. (The framework's
// slots are layers.FFNBuilder and layers.AttentionBuilder; see examples/gateplugin for
// a feed-forward layer plugin.)
type Greeter interface{ Greet() string }

// Formal is a component for the Greeter slot: its configuration struct, with yaml
// tags for the recipe keys.
type Formal struct {
	Name string `yaml:"name"`
}

// Greet implements Greeter.
func (f *Formal) Greet() string { return "Good day, " + f.Name }

// A component registers under a namespaced ID, usually from its package's init
// function; the factory returns its configuration with the defaults filled in.
func ExampleRegister() {
	if _, done := registry.Lookup("greet.formal"); !done { // examples may run twice
		registry.Register("greet.formal", func() any { return &Formal{Name: "world"} })
	}

	g, err := registry.NewAs[Greeter]("greet.formal")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(g.Greet())
	_, err = registry.NewAs[Greeter]("greet.formall")
	fmt.Println(err)
	// Output:
	// Good day, world
	// unknown component type "greet.formall" (forgotten import?); known: greet.formal; did you mean "greet.formal"?
}
