package suite_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/data/suite"
)

func ExampleLoad() {
	dev, err := suite.Load(suite.Similarity, "dev")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(dev))
	fmt.Println(dev[0].Inputs)
	fmt.Println(dev[0].Targets)
	// Output:
	// 400
	// similarity sentence1: At night, a boy is slicing a tomato on the shore. sentence2: A young boy is cutting a tomato on the beach at night.
	// 5.0
}
