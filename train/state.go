package train

import (
	"encoding/json"
	"fmt"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/optim"
)

// The files and state sections of a training checkpoint, besides the model's and the
// optimizer's tensors.
const (
	// TokenizerFile is the tokenizer's .model file stored in every checkpoint.
	TokenizerFile = "tokenizer.model"
	// StateSampler, StateOptimizer, StateOptimizerStep and StateSeed are the state
	// sections that make a resumed run continue exactly.
	StateSampler       = "sampler"
	StateOptimizer     = "optimizer"
	StateOptimizerStep = "optimizer_step"
	StateSeed          = "seed"
)

// SaveCheckpoint writes a checkpoint of the run as it is now into dir (atomically; see
// package checkpoint): the weights, the optimizer's state, the data sampler's position,
// the tokenizer, the Options' state sections and the extra ones given.
func (t *Trainer) SaveCheckpoint(dir string, extra map[string]any) error {
	c := &checkpoint.Checkpoint{Step: t.step, State: map[string]json.RawMessage{},
		Files: map[string][]byte{TokenizerFile: t.tok.Marshal()}}
	c.Model = infer.Tensors(t.m.Params())
	vecs, optStep := t.stepper.Optimizer().Export()
	for _, v := range vecs {
		c.Optimizer = append(c.Optimizer, checkpoint.Tensor{Name: v.Name, Shape: []int{len(v.Data)}, Data: v.Data})
	}
	for k, v := range t.opts.State {
		c.State[k] = v
	}
	state := map[string]any{StateSampler: t.sampler.State(), StateOptimizerStep: optStep,
		StateOptimizer: t.stepper.Optimizer().Name(), StateSeed: t.cfg.Seed}
	for k, v := range extra {
		state[k] = v
	}
	for name, v := range state {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		c.State[name] = b
	}
	return checkpoint.Save(dir, c)
}

// Restore loads checkpoint c (read from where) into the run: the weights, the
// optimizer's state and the sampler's position, so that Run continues exactly as the
// run that wrote it would have. The tokenizer is the caller's to restore (it shapes
// the model): use the checkpoint's TokenizerFile.
func (t *Trainer) Restore(c *checkpoint.Checkpoint, where string) error {
	if err := infer.LoadWeights(t.m.Params(), c.Model, where, infer.LoadOptions{}); err != nil {
		return err
	}
	var kind string
	var step int64
	if json.Unmarshal(c.State[StateOptimizer], &kind) != nil || json.Unmarshal(c.State[StateOptimizerStep], &step) != nil {
		return fmt.Errorf("checkpoint %s: the optimizer's state is missing", where)
	}
	if kind != t.cfg.Optimizer {
		return fmt.Errorf("checkpoint %s was trained with %s, the recipe says %s: resume with the recipe the run started with", where, kind, t.cfg.Optimizer)
	}
	vecs := make([]optim.Vector, len(c.Optimizer))
	for i, ts := range c.Optimizer {
		vecs[i] = optim.Vector{Name: ts.Name, Data: ts.Data}
	}
	if err := t.stepper.Optimizer().Import(vecs, step); err != nil {
		return fmt.Errorf("checkpoint %s: %w", where, err)
	}
	var ss data.SamplerState
	if err := json.Unmarshal(c.State[StateSampler], &ss); err != nil {
		return fmt.Errorf("checkpoint %s: sampler position: %w", where, err)
	}
	if err := t.sampler.Restore(ss); err != nil {
		return fmt.Errorf("checkpoint %s: %w", where, err)
	}
	if c.Step > t.cfg.Steps {
		return fmt.Errorf("checkpoint %s is at step %d, past train.steps (%d): raise --steps to train further", where, c.Step, t.cfg.Steps)
	}
	t.step = c.Step
	return t.restoreEarly(c, where)
}
