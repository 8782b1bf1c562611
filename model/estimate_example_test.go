package model_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/model"
)

// Estimate tells the memory of training t5-mini with AdamW on batches of 32 examples
// of 128 input and 8 target tokens before anything is allocated.
func ExampleSpec_Estimate() {
	spec := model.DefaultSpec()
	e, err := spec.Estimate(32, 128, 8, model.OptimizerAdamW)
	if err != nil {
		fmt.Println(err)
		return
	}
	mib := func(b int64) int64 { return b >> 20 }
	fmt.Printf("parameters: %d\n", e.Params)
	fmt.Printf("MiB: params %d, grads %d, optimizer %d, activations %d, total %d\n",
		mib(e.ParamBytes), mib(e.GradBytes), mib(e.OptimizerBytes), mib(e.ActivationBytes), mib(e.Total))
	// Output:
	// parameters: 13539072
	// MiB: params 51, grads 51, optimizer 103, activations 757, total 996
}
