package metrics_test

import (
	"fmt"
	"log"

	"github.com/hypergrid-go/hypergrid/metrics"
)

// Scoring two tasks as GLUE does: each task's metrics on the 0-100 scale, each task's
// score, then the mean of the task scores.
func Example() {
	tasks := []struct {
		name          string
		metrics       []string
		preds, labels []float64
	}{
		// MRPC: paraphrase or not (class ids), scored with F1 and accuracy.
		{"mrpc", []string{"f1", "accuracy"}, []float64{1, 1, 0, 1, 0, 0}, []float64{1, 0, 0, 1, 1, 0}},
		// STS-B: similarity scores, scored with Pearson and Spearman.
		{"stsb", []string{"pearson", "spearman"}, []float64{0.5, 2.0, 2.5, 4.0}, []float64{0.0, 2.0, 3.0, 5.0}},
	}
	var results []metrics.TaskResult
	for _, task := range tasks {
		r := metrics.TaskResult{Task: task.name, Metrics: map[string]float64{}}
		fmt.Printf("%s:", r.Task)
		for _, name := range task.metrics {
			v, err := metrics.Score(name, task.preds, task.labels)
			if err != nil {
				log.Fatal(err)
			}
			r.Metrics[name] = v
			fmt.Printf(" %s %.2f", name, v)
		}
		score, _ := metrics.TaskScore(r)
		fmt.Printf(", score %.2f\n", score)
		results = append(results, r)
	}
	avg, ok := metrics.Average(results)
	fmt.Printf("GLUE average: %.2f %v\n", avg, ok)
	// Output:
	// mrpc: f1 66.67 accuracy 66.67, score 66.67
	// stsb: pearson 99.85 spearman 100.00, score 99.92
	// GLUE average: 83.29 true
}

// A constant prediction leaves a correlation undefined; Score counts it as 0.
func ExampleScore() {
	v, err := metrics.Score("pearson", []float64{3, 3, 3}, []float64{1, 2, 5})
	fmt.Println(v, err)
	v, err = metrics.Score("accuracy", []float64{1, 0, 1, 1}, []float64{1, 0, 0, 1})
	fmt.Println(v, err)
	// Output:
	// 0 <nil>
	// 75 <nil>
}

func ExampleCompute() {
	v, err := metrics.Compute("matthews_corr", []float64{1, 0, 1, 1}, []float64{1, 0, 0, 1})
	fmt.Printf("%.4f %v\n", v, err)
	_, err = metrics.Compute("bleu", nil, nil)
	fmt.Println(err)
	// Output:
	// 0.5774 <nil>
	// unknown metric "bleu"; known metrics: accuracy, f1, f1_macro, matthews_corr, pearson, spearman
}
