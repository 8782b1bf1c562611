package model_test

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/model"
)

// Build t5-mini with the paper's HyperGrid feed-forward layer and count its
// parameters.
func ExampleNew() {
	spec := model.DefaultSpec()
	spec.FFN = hyper.DefaultGridConfig()
	m, err := model.New(spec, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	hg := 0
	for _, p := range m.Params() {
		if p.Group == hyper.ParamGroup {
			hg += p.Size()
		}
	}
	fmt.Println("total", m.NumParams(), "hypergrid", hg)
	// Output: total 13604864 hypergrid 65792
}

// One training step: the loss of a batch, its gradients, and an SGD update.
func ExampleModel_Loss() {
	spec := model.DefaultSpec()
	spec.Vocab, spec.DModel, spec.Heads, spec.DKV, spec.EncoderLayers, spec.DecoderLayers = 32, 16, 2, 8, 1, 1
	m, err := model.New(spec, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	batch := &model.Batch{
		Size: 2, InputLen: 4, TargetLen: 2,
		Inputs:  []int32{5, 6, 7, 1, 8, 9, 1, 0}, // padded with 0
		Targets: []int32{3, 1, 4, 1},
	}
	tape := autograd.NewTape()
	m.ZeroGrad()
	loss, err := m.Loss(tape, batch, model.Options{Train: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	tape.Backward(loss)
	for _, p := range m.Params() {
		for i, g := range p.Grad {
			p.Data[i] -= 0.01 * g
		}
	}
	fmt.Printf("loss > 0: %v\n", loss.Data[0] > 0)
	// Output: loss > 0: true
}

// Pick each example's label among a task's candidate label words.
func ExampleModel_Classify() {
	spec := model.DefaultSpec()
	spec.Vocab, spec.DModel, spec.Heads, spec.DKV, spec.EncoderLayers, spec.DecoderLayers = 32, 16, 2, 8, 1, 1
	m, _ := model.New(spec, 1)
	batch := &model.Batch{Size: 1, InputLen: 3, Inputs: []int32{5, 6, 1}}
	best, err := m.Classify(autograd.NewTape(), batch, [][]int32{{10, 1}, {11, 1}})
	fmt.Println(len(best), err)
	// Output: 1 <nil>
}
