package train_test

import (
	"context"
	"fmt"

	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/train"
)

// A Trainer trains a model on its tasks (here a tiny HyperGrid T5 on the embedded
// suite, for five steps) and evaluates every task on its dev split; hooks see every
// step and evaluation.
func ExampleTrainer() {
	r, err := recipe.Loader{Sets: []string{"train.steps=5", "train.eval_limit=8"}}.Parse("tiny.yaml", []byte(tinyRecipe))
	if err != nil {
		fmt.Println(err)
		return
	}
	tasks, err := train.ReadTasks(r.Data, train.SplitTrain, train.SplitDev)
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := train.BuildTokenizer(r.Tokenizer, tasks)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := r.Build(r.Train.Seed)
	if err != nil {
		fmt.Println(err)
		return
	}
	tr, err := train.New(m, tok, tasks, r.Train, r.Data, train.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	steps := 0
	tr.OnStep(func(*train.StepInfo) error { steps++; return nil })
	res, err := tr.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("steps:", res.Steps, "losses:", len(res.Losses), "hook calls:", steps)
	for _, t := range res.Eval {
		for name := range t.Metrics {
			if name == "accuracy" || name == "pearson" {
				fmt.Println(t.Task, name)
			}
		}
	}
	// Unordered output:
	// steps: 5 losses: 5 hook calls: 5
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
