// Command gateplugin-train shows a third-party layer plugin in use: it blank-imports
// the gateplugin example, loads a recipe that names the plugin's layer type, builds the
// model and trains it for a few steps on a fixed tiny batch. It exits with status 1
// when the loss does not fall, so CI can run it as a smoke test:
//
//	go run ./examples/gateplugin/cmd/gateplugin-train [-recipe FILE] [-steps N] [--set KEY=VALUE]...
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/hypergrid-go/hypergrid/recipe"

	"github.com/hypergrid-go/hypergrid/examples/gateplugin"
	"github.com/hypergrid-go/hypergrid/examples/gateplugin/smoke"
)

// sets collects repeated --set flags.
type sets []string

func (s *sets) String() string     { return strings.Join(*s, " ") }
func (s *sets) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	recipeFile := flag.String("recipe", "", "recipe file (default: the example's recipe.yaml, embedded)")
	steps := flag.Int("steps", 30, "training steps")
	lr := flag.Float64("lr", 1e-3, "learning rate")
	var overrides sets
	flag.Var(&overrides, "set", "override a recipe value, KEY=VALUE (repeatable)")
	flag.Parse()

	l := recipe.Loader{Sets: overrides}
	var (
		r   *recipe.Recipe
		err error
	)
	if *recipeFile == "" {
		r, err = l.Parse("examples/gateplugin/recipe.yaml", gateplugin.Recipe)
	} else {
		r, err = l.Load(*recipeFile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	m, err := r.Build(1)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("model: ffn %s, %d parameters\n", r.Source.Components["model.ffn"], m.NumParams())
	losses, err := smoke.Train(m, r.Train, smoke.TinyBatch(r.Model.Vocab), *steps, *lr, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	first, last := losses[0], losses[len(losses)-1]
	if !(last < first) {
		fmt.Fprintf(os.Stderr, "loss did not fall: %.4f -> %.4f\n", first, last)
		os.Exit(1)
	}
	fmt.Printf("loss %.4f -> %.4f\n", first, last)
}
