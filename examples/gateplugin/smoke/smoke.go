// Package smoke trains a model built from a recipe for a few steps on a fixed tiny
// batch, with the framework's own training step (train.Stepper): the check that a
// plugin's layer learns, used by the gateplugin example's test and command. It lives
// apart from the plugin, which needs nothing of the trainer to register its layer.
package smoke

import (
	"fmt"
	"io"

	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/train"
)

// TinyBatch returns a fixed batch of four short input/target sequences with ids below
// vocab.
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

// Train runs steps training steps of m on batch with AdamW at the constant learning
// rate lr (cfg's other settings: clipping, weight decay, seed), writing each loss to
// log when it is not nil, and returns the losses.
func Train(m *model.Model, cfg train.Config, batch *model.Batch, steps int, lr float64, log io.Writer) ([]float64, error) {
	cfg.Steps, cfg.LR, cfg.Schedule, cfg.Optimizer = steps, lr, "constant", "adamw"
	s, err := train.NewStepper(m, cfg)
	if err != nil {
		return nil, err
	}
	losses := make([]float64, 0, steps)
	for step := range steps {
		r, err := s.Step(step, batch)
		if err != nil {
			return losses, err
		}
		losses = append(losses, r.Loss)
		if log != nil {
			fmt.Fprintf(log, "step %d loss %.4f\n", step, r.Loss)
		}
	}
	return losses, nil
}
