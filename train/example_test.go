package train_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/registry"
	"github.com/hypergrid-go/hypergrid/train"
)

// Run trains a recipe's model on its tasks (here a tiny HyperGrid T5 on the embedded
// suite, for five steps) and evaluates every task on its dev split.
func ExampleRun() {
	r, err := registry.Loader{Sets: []string{"train.steps=5", "train.eval_limit=8"}}.Parse("tiny.yaml", []byte(tinyRecipe))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := train.Run(r.Train, r.Data, r.Tokenizer, train.Options{
		Threads: 1,
		Build:   func(vocab int) (*model.Model, error) { return r.Build(r.Train.Seed) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("steps:", res.Steps, "losses:", len(res.Losses))
	for _, t := range res.Eval {
		for name := range t.Metrics {
			if name == "accuracy" || name == "pearson" {
				fmt.Println(t.Task, name)
			}
		}
	}
	// Unordered output:
	// steps: 5 losses: 5
	// sentiment accuracy
	// paraphrase accuracy
	// similarity pearson
}

// Validate lists every problem of a train: section, each naming its field.
func ExampleConfig_Validate() {
	c := train.DefaultConfig()
	c.Steps = 0
	c.Schedule = "cosine"
	for _, err := range c.Validate() {
		fmt.Println(err)
	}
	// Output:
	// steps: is 0; want a positive number
	// schedule: is "cosine"; want one of constant, linear_warmup, inverse_sqrt, linear_decay
}
