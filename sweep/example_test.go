package sweep_test

import (
	"fmt"
	"log"

	"github.com/hypergrid-go/hypergrid/sweep"
)

// The runs of a sweep over two compositions and two grid sizes, two seeds each: each
// run's folder name, and the --set flags of its grid point.
func ExamplePoints() {
	var axes []sweep.Axis
	for _, flag := range []string{"model.ffn.composition=LG,GL", "model.ffn.grid.rows=8,32"} {
		a, err := sweep.ParseAxis(flag)
		if err != nil {
			log.Fatal(err)
		}
		axes = append(axes, a)
	}
	points, err := sweep.Points(axes, []uint64{1, 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range points[:3] {
		fmt.Println(p.Name, p.Sets)
	}
	fmt.Println(len(points), "runs; the first averages over seeds as", points[0].Group(axes))
	// Output:
	// composition-LG_rows-8_seed-1 [model.ffn.composition=LG model.ffn.grid.rows=8]
	// composition-LG_rows-8_seed-2 [model.ffn.composition=LG model.ffn.grid.rows=8]
	// composition-LG_rows-32_seed-1 [model.ffn.composition=LG model.ffn.grid.rows=32]
	// 8 runs; the first averages over seeds as composition=LG rows=8
}
