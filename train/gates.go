package train

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/model"
)

// GateMap is one layer's HyperGrid gate grid averaged over a task's examples: what the
// grid learned for the task.
type GateMap struct {
	// Layer names the gated weight ("encoder.block.0.ffn.wo").
	Layer string
	// Rows × Cols values, row-major.
	Rows, Cols int
	Values     []float32
}

// MeanGates runs the model over each task's dev split (at most train.eval_limit
// examples) and averages every gated layer's gates over the task's examples. It maps a
// task's name to its layers' maps, in model order; a model without gates has none.
func (t *Trainer) MeanGates() (map[string][]GateMap, error) {
	out := map[string][]GateMap{}
	tape := t.pred.Tape()
	for _, task := range t.tasks {
		it, err := t.pred.Task(task.Def.Name)
		if err != nil {
			return nil, err
		}
		sums := map[string][]float64{}
		shapes := map[string][2]int{}
		var order []string
		count := 0
		tap := func(name string, batch, rows, cols int, values []float32) {
			s := sums[name]
			if s == nil {
				s = make([]float64, rows*cols)
				sums[name], shapes[name] = s, [2]int{rows, cols}
				order = append(order, name)
			}
			for e := 0; e < batch; e++ {
				for i := range s {
					s[i] += float64(values[e*rows*cols+i])
				}
			}
		}
		dev := task.Dev
		if t.cfg.EvalLimit > 0 && len(dev) > t.cfg.EvalLimit {
			dev = dev[:t.cfg.EvalLimit]
		}
		err = t.pred.Batches(it, dev, func(encs []*infer.Encoded, _ []data.Example) error {
			b, _ := infer.Fill(t.m, encs)
			tape.Reset()
			if _, err := t.m.Loss(tape, b, model.Options{Tap: tap}); err != nil {
				return fmt.Errorf("gates of %s: %w", task.Def.Name, err)
			}
			count += len(encs)
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, name := range order {
			sh := shapes[name]
			vals := make([]float32, len(sums[name]))
			for i, v := range sums[name] {
				vals[i] = float32(v / float64(count))
			}
			out[task.Def.Name] = append(out[task.Def.Name], GateMap{Layer: name, Rows: sh[0], Cols: sh[1], Values: vals})
		}
	}
	return out, nil
}
