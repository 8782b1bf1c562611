package metrics_test

import (
	"fmt"
	"log"

	"github.com/hypergrid-go/hypergrid/metrics"
)

// Scoring two tasks as GLUE does: each task's metrics, then the mean of the task
// scores on the 0-100 scale.
func Example() {
	// MRPC: paraphrase or not (class ids), scored with F1 and accuracy.
	mrpc, err := metrics.Evaluate([]string{"f1", "accuracy"},
		[]float64{1, 1, 0, 1, 0, 0}, // predictions
		[]float64{1, 0, 0, 1, 1, 0}) // labels
	if err != nil {
		log.Fatal(err)
	}
	// STS-B: similarity scores, scored with Pearson and Spearman.
	stsb, err := metrics.Evaluate([]string{"pearson", "spearman"},
		[]float64{0.5, 2.0, 2.5, 4.0},
		[]float64{0.0, 2.0, 3.0, 5.0})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("mrpc:", metrics.Format(mrpc))
	fmt.Println("stsb:", metrics.Format(stsb))
	avg, err := metrics.Average(map[string]map[string]float64{"mrpc": mrpc, "stsb": stsb})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("GLUE average: %.2f\n", avg)
	// Output:
	// mrpc: accuracy 66.67 f1 66.67
	// stsb: pearson 99.85 spearman 100.00
	// GLUE average: 83.29
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
