package registry_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/registry"
)

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
