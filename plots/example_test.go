package plots_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/hypergrid-go/hypergrid/monitor"
	"github.com/hypergrid-go/hypergrid/plots"
)

// Plots of a metrics log: the training loss and the dev metrics.
func Example() {
	metricsLog := `{"step":1,"kind":"train","loss":4.1,"lr":0.001,"tokens_per_s":5000}
{"step":2,"kind":"train","loss":3.2,"lr":0.001,"tokens_per_s":5000}
{"step":3,"kind":"train","loss":2.9,"lr":0.001,"tokens_per_s":5000}
{"step":3,"kind":"eval","task":"rte","metrics":{"accuracy":55}}
{"step":3,"kind":"eval","task":"mrpc","metrics":{"accuracy":70,"f1":80}}
`
	records, err := monitor.Read(strings.NewReader(metricsLog), "metrics.jsonl")
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "plots")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := plots.Loss(records, filepath.Join(dir, "loss.png")); err != nil {
		log.Fatal(err)
	}
	if err := plots.Metrics(records, filepath.Join(dir, "metrics.png")); err != nil {
		log.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	// Output:
	// loss.png
	// metrics.png
}

// One image per task, one panel per layer.
func ExampleGates() {
	grid := func(layer string, v ...float32) plots.Grid {
		return plots.Grid{Layer: layer, Rows: 2, Cols: 2, Values: v}
	}
	grids := map[string][]plots.Grid{
		"mrpc": {grid("encoder.block.0.ffn.wo", 0.1, 0.9, 0.5, 0.5), grid("decoder.block.0.ffn.wo", 0.2, 0.4, 0.6, 0.8)},
		"sst2": {grid("encoder.block.0.ffn.wo", 1, 1, 0, 0), grid("decoder.block.0.ffn.wo", 0.5, 0.5, 0.5, 0.5)},
	}
	dir, err := os.MkdirTemp("", "gates")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	paths, err := plots.Gates(grids, dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range paths {
		fmt.Println(filepath.Base(p))
	}
	// Output:
	// gates_mrpc.png
	// gates_sst2.png
}
