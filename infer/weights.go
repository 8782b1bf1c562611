package infer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/checkpoint"
)

// Tensors returns the parameters as checkpoint tensors (sharing their data), named
// and shaped as the parameters are.
func Tensors(params []*autograd.Param) []checkpoint.Tensor {
	out := make([]checkpoint.Tensor, len(params))
	for i, p := range params {
		out[i] = checkpoint.Tensor{Name: p.Name, Shape: shapeOf(p), Data: p.Data}
	}
	return out
}

func shapeOf(p *autograd.Param) []int {
	if len(p.Shape) > 0 {
		return slices.Clone(p.Shape)
	}
	return []int{p.Rows, p.Cols}
}

// LoadOptions relax LoadWeights's checks, for debugging.
type LoadOptions struct {
	// AllowNonFinite loads NaN and infinite values instead of refusing them.
	AllowNonFinite bool
}

// LoadWeights copies tensors into params, matching them by name. Every parameter must
// have a tensor of exactly its shape (its logical shape, or rows × cols) and every tensor a parameter; a NaN or infinite
// value is refused (unless opts allow it). All the problems are reported together,
// each naming its tensor; where names the checkpoint in the message.
func LoadWeights(params []*autograd.Param, tensors []checkpoint.Tensor, where string, opts LoadOptions) error {
	byName := make(map[string]*checkpoint.Tensor, len(tensors))
	for i := range tensors {
		byName[tensors[i].Name] = &tensors[i]
	}
	var problems []string
	used := map[string]bool{}
	for _, p := range params {
		t, ok := byName[p.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("parameter %s %v is missing", p.Name, shapeOf(p)))
			continue
		}
		used[p.Name] = true
		// The logical shape, or the stored rows × cols (how earlier checkpoints wrote a
		// vector: [1 n]).
		if want := shapeOf(p); !slices.Equal(t.Shape, want) && !slices.Equal(t.Shape, []int{p.Rows, p.Cols}) {
			problems = append(problems, fmt.Sprintf("tensor %s has shape %v, the model's parameter %v", p.Name, t.Shape, want))
			continue
		}
		if len(t.Data) != len(p.Data) {
			problems = append(problems, fmt.Sprintf("tensor %s has %d values, the model's parameter %d", p.Name, len(t.Data), len(p.Data)))
			continue
		}
		if !opts.AllowNonFinite {
			if err := t.CheckFinite(); err != nil {
				problems = append(problems, err.Error())
				continue
			}
		}
	}
	for _, t := range tensors {
		if !used[t.Name] {
			problems = append(problems, fmt.Sprintf("tensor %s %v is not a parameter of the model", t.Name, t.Shape))
		}
	}
	if len(problems) > 0 {
		const show = 10
		more := ""
		if len(problems) > show {
			more = fmt.Sprintf("\n\t... and %d more", len(problems)-show)
			problems = problems[:show]
		}
		return fmt.Errorf("checkpoint %s does not fit the model (use the recipe the run was trained with):\n\t%s%s", where, strings.Join(problems, "\n\t"), more)
	}
	for _, p := range params {
		copy(p.Data, byName[p.Name].Data)
	}
	return nil
}
