package job_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/recipe"
)

// A task of one's own, defined in a recipe and trained end to end: CSV files with a
// header, a 3-class label, two input fields. The run's checkpoint stores the
// definition with its recipe, so job.Open (what eval, predict and serve use) knows
// the task with no Go code registering it.
func Example_recipeDefinedTask() {
	dir, _ := os.MkdirTemp("", "topic")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	rows := "title,body,label\n" +
		"Cup final,\"the keeper saved a penalty, then another\",sports\n" +
		"Vote today,the minister resigned after the vote,politics\n" +
		"\"Mars, again\",the probe sent images of the red planet,science\n"
	for _, split := range []string{"train", "dev"} {
		os.WriteFile(filepath.Join(dir, "data", split+".csv"), []byte(rows), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "topic.yaml"), []byte(`
model: {vocab: 200, d_model: 16, heads: 2, d_kv: 8, encoder_layers: 1, decoder_layers: 1,
        ffn: {type: ffn.hypergrid, d_ff: 32, grid: {rows: 2, cols: 2}}}
data:
  tasks:
    - name: topic
      prefix: topic
      format: csv
      dir: data                      # relative to this file
      inputs: [{name: title}, {name: text, column: body}]
      label: label
      label_words: [sports, politics, science]
      metrics: [accuracy, f1_macro]
tokenizer: {vocab: 200}
train: {steps: 2, batch_size: 2}
`), 0o644)

	r, err := recipe.Load(filepath.Join(dir, "topic.yaml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	run := filepath.Join(dir, "run")
	s, err := job.Prepare(r, job.Options{CheckpointDir: filepath.Join(run, "checkpoint")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Tasks[0].Train[0].Inputs, "->", s.Tasks[0].Train[0].Targets)
	res, err := s.Trainer.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("steps:", res.Steps, "metrics:", len(res.Eval[0].Metrics))

	tr, err := job.Open(run, job.OpenOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := tr.Predictor()
	out, err := p.Predict("topic", []string{"topic title: Derby day text: fans sang as the team won"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("tasks:", p.Tasks(), "answer is a label word:", slices.Contains([]string{"sports", "politics", "science"}, out[0].Text))
	// Output:
	// topic title: Cup final text: the keeper saved a penalty, then another -> sports
	// steps: 2 metrics: 2
	// tasks: [topic] answer is a label word: true
}
