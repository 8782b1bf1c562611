package gateplugin

import (
	"fmt"
	"io"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/optim"
)

// TinyBatch returns a fixed batch of four short input/target sequences with ids below
// vocab, for smoke-training a model built from a recipe.
func TinyBatch(vocab int) *model.Batch {
	in := []int32{5, 17, 90, 33, 2, 1, 9, 41, 77, 1, 0, 0, 5, 17, 61, 1, 0, 0, 8, 8, 8, 3, 1, 0}
	tgt := []int32{40, 12, 1, 0, 3, 3, 99, 1, 21, 1, 0, 0, 7, 70, 7, 1}
	for i := range in {
		in[i] %= int32(vocab)
	}
	for i := range tgt {
		tgt[i] %= int32(vocab)
	}
	return &model.Batch{Size: 4, Inputs: in, InputLen: 6, Targets: tgt, TargetLen: 4}
}

// Train runs steps AdamW steps (learning rate lr) of m on batch, writing each loss to
// log when it is not nil, and returns the losses.
func Train(m *model.Model, batch *model.Batch, steps int, lr float32, log io.Writer) ([]float64, error) {
	params := make([]optim.Param, 0, len(m.Params()))
	for _, p := range m.Params() {
		params = append(params, optim.Param{Name: p.Name, Value: p.Data, Grad: p.Grad, NoDecay: p.NoDecay})
	}
	opt, err := optim.NewAdamW(optim.DefaultAdamWConfig(), params)
	if err != nil {
		return nil, err
	}
	tape := autograd.NewTape()
	losses := make([]float64, 0, steps)
	for step := range steps {
		tape.Reset()
		loss, err := m.Loss(tape, batch, model.Options{})
		if err != nil {
			return losses, err
		}
		losses = append(losses, float64(loss.Data[0]))
		if log != nil {
			fmt.Fprintf(log, "step %d loss %.4f\n", step, loss.Data[0])
		}
		m.ZeroGrad()
		tape.Backward(loss)
		opt.Step(lr)
	}
	return losses, nil
}
