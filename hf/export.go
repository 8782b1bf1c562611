package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/registry"
)

// ExportOptions says what Export writes.
type ExportOptions struct {
	// Task is the task whose HyperGrid gates are folded into the weights: a name of
	// Spec.Tasks. It is needed only for task-conditioned gates (task_embedding) in a
	// model with more than one task.
	Task string
	// Tokenizer is the .model file written as spiece.model (nil: none), and ExtraIDs
	// its sentinels, written to tokenizer_config.json.
	Tokenizer []byte
	ExtraIDs  int
}

// Export writes m as a Hugging Face T5 folder dir (created if needed): config.json,
// model.safetensors (F32, Hugging Face's names; the embedding once, as
// shared.weight, as save_pretrained writes it), and with a tokenizer spiece.model,
// tokenizer_config.json and special_tokens_map.json. Every file is written
// atomically. A dense model (ffn.glu) exports as it is; a HyperGrid model
// (ffn.hypergrid) exports one task when its gates do not depend on the input
// (task_embedding conditioning, or the GG composition): the task's gates are
// multiplied into the gated weights. Input-conditioned gates are refused.
func Export(m *model.Model, dir string, opts ExportOptions) error {
	tensors, cfg, err := ExportTensors(m, opts.Task)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cb, err := MarshalConfig(cfg)
	if err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, ConfigFile), cb); err != nil {
		return err
	}
	if err := checkpoint.WriteSafetensorsFile(filepath.Join(dir, WeightsFile), tensors, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	if opts.Tokenizer == nil {
		return nil
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, TokenizerFile), opts.Tokenizer); err != nil {
		return err
	}
	special := make([]string, opts.ExtraIDs)
	for i := range special {
		special[i] = fmt.Sprintf("<extra_id_%d>", i)
	}
	tc := map[string]any{"tokenizer_class": "T5Tokenizer", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
		"extra_ids": opts.ExtraIDs, "additional_special_tokens": special, "model_max_length": 512}
	st := map[string]any{"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>", "additional_special_tokens": special}
	for name, v := range map[string]any{TokenizerConfigFile: tc, SpecialTokensFile: st} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		if err := checkpoint.WriteFileAtomic(filepath.Join(dir, name), append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// ExportTensors returns m's weights under Hugging Face's names and layout, with the
// config.json that describes them (see Export).
func ExportTensors(m *model.Model, task string) ([]checkpoint.Tensor, Config, error) {
	s := m.Spec
	var glu layers.GLUConfig
	var grid *hyper.GridConfig
	switch f := s.FFN.(type) {
	case *layers.GLUConfig:
		glu = *f
	case *hyper.GridConfig:
		glu, grid = f.GLUConfig, f
	default:
		return nil, Config{}, fmt.Errorf("model.ffn is %T; only ffn.glu and ffn.hypergrid export to Hugging Face's T5", s.FFN)
	}
	cfg, err := ConfigFor(s, glu)
	if err != nil {
		return nil, Config{}, fmt.Errorf("this model has no Hugging Face T5 equivalent: %w", err)
	}
	params := map[string]*autograd.Param{}
	for _, p := range m.Params() {
		params[p.Name] = p
	}
	folded := map[string][]float32{}
	if grid != nil {
		if folded, err = foldGates(m, grid, params, task); err != nil {
			return nil, Config{}, err
		}
	}
	layout := Layout(s, glu.DFF, glu.Gated)
	out := make([]checkpoint.Tensor, 0, len(layout))
	for _, t := range layout {
		p, ok := params[t.Name]
		if !ok {
			return nil, Config{}, fmt.Errorf("the model has no parameter %s (for %s)", t.Name, t.HF)
		}
		data := p.Data
		if f, ok := folded[t.Name]; ok {
			data = f
		}
		if t.Transposed {
			tr := make([]float32, len(data))
			transpose(tr, data, t.Shape[0], t.Shape[1])
			data = tr
		}
		out = append(out, checkpoint.Tensor{Name: t.HF, Shape: slices.Clone(t.HFShape), Data: data})
	}
	return out, cfg, nil
}

// foldGates returns the gated weights of a HyperGrid model with the gates of task
// multiplied in: W ⊙ φ(G), the weight each example of the task sees. It refuses
// gates that depend on the input.
func foldGates(m *model.Model, grid *hyper.GridConfig, params map[string]*autograd.Param, task string) (map[string][]float32, error) {
	taskDep := grid.Composition != hyper.GG
	if taskDep && grid.Conditioning != hyper.TaskEmbedding {
		return nil, fmt.Errorf("model.ffn is ffn.hypergrid with composition %s conditioned on %s: its gates depend on each input's hidden states, which Hugging Face's T5 cannot compute, so it has no dense equivalent; "+
			"only gates fixed per task export (conditioning: task_embedding, or composition: GG), folded into the weights", grid.Composition, grid.Conditioning)
	}
	ti := 0
	if taskDep {
		names := make([]string, len(m.Spec.Tasks))
		for i, t := range m.Spec.Tasks {
			names[i] = t.Name
		}
		switch {
		case task == "" && len(names) == 1:
		case task == "":
			return nil, fmt.Errorf("the HyperGrid gates depend on the task: name one with --task (one of %v)", names)
		default:
			ti = slices.Index(names, task)
			if ti < 0 {
				msg := fmt.Sprintf("--task %q: the model's tasks are %v", task, names)
				if c := registry.Closest(task, names); c != "" {
					msg += fmt.Sprintf("; did you mean %q?", c)
				}
				return nil, errors.New(msg)
			}
		}
	}
	ctx := &layers.Context{Tape: autograd.NewTape(), Tasks: []int32{int32(ti)}}
	out := map[string][]float32{}
	for _, st := range []struct {
		name   layers.Stack
		layers int
	}{{layers.Encoder, m.Spec.EncoderLayers}, {layers.Decoder, m.Spec.DecoderLayers}} {
		if !slices.Contains(grid.Stacks, st.name) {
			continue
		}
		for i := range st.layers {
			prefix := fmt.Sprintf("%s.block.%d.ffn", st.name, i)
			for _, g := range []struct {
				gate    string
				weights []string
			}{{".grid", []string{".wo"}}, {".grid_wi", []string{".wi0", ".wi1"}}} {
				gate, ok, err := gateOf(params, prefix+g.gate, grid)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
				values := gate.Forward(ctx, nil, 1).Data
				for _, w := range g.weights {
					p, ok := params[prefix+w]
					if !ok {
						continue
					}
					out[p.Name] = applyGrid(p.Data, p.Rows, p.Cols, values, gate.Rows, gate.Cols)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the model is ffn.hypergrid but no gated weight was found (a bug)")
	}
	return out, nil
}

// gateOf rebuilds the gate named prefix ("encoder.block.0.ffn.grid") from its
// parameters; ok is false when the model has none.
func gateOf(params map[string]*autograd.Param, prefix string, grid *hyper.GridConfig) (*hyper.Gate, bool, error) {
	g := &hyper.Gate{Name: prefix, Rows: grid.Grid.Rows, Cols: grid.Grid.Cols, Scale: float32(2 * grid.GateInit)}
	g.TaskRows, g.GlobalRows = params[prefix+".task_rows"], params[prefix+".global_rows"]
	g.TaskCols, g.GlobalCols = params[prefix+".task_cols"], params[prefix+".global_cols"]
	if g.TaskRows == nil && g.GlobalRows == nil && g.TaskCols == nil && g.GlobalCols == nil {
		return nil, false, nil
	}
	if (g.TaskRows == nil) == (g.GlobalRows == nil) || (g.TaskCols == nil) == (g.GlobalCols == nil) {
		return nil, false, fmt.Errorf("the gate %s has not one row and one column factor (a bug)", prefix)
	}
	return g, true, nil
}

// applyGrid returns w (rows×cols) with each block of its rows/gr × cols/gc cells
// multiplied by the grid value of the block (gr×gc, row-major).
func applyGrid(w []float32, rows, cols int, grid []float32, gr, gc int) []float32 {
	out := make([]float32, len(w))
	br, bc := rows/gr, cols/gc
	for i := range rows {
		g := grid[(i/br)*gc : (i/br)*gc+gc]
		row, dst := w[i*cols:(i+1)*cols], out[i*cols:(i+1)*cols]
		for j := range cols {
			dst[j] = row[j] * g[j/bc]
		}
	}
	return out
}
