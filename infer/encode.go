package infer

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/tokenizer"
)

// Encoder turns text into the model's token ids: the tokenizer's pieces, cut to a
// maximum length, then EOS.
type Encoder struct {
	// Tok is the model's tokenizer.
	Tok *tokenizer.Model
	// MaxInputLen and MaxTargetLen bound the encoded inputs and targets, EOS included.
	MaxInputLen, MaxTargetLen int
}

// Encode returns text's ids, at most max of them, the last one EOS.
func (e Encoder) Encode(text string, max int) []int32 {
	eos := int32(e.Tok.EOSID())
	ids := e.Tok.Encode(text)
	n := min(len(ids), max-1)
	out := make([]int32, n+1)
	for i := range n {
		out[i] = int32(ids[i])
	}
	out[n] = eos
	return out
}

// Input encodes an input text (MaxInputLen).
func (e Encoder) Input(text string) []int32 { return e.Encode(text, e.MaxInputLen) }

// Target encodes a target text (MaxTargetLen).
func (e Encoder) Target(text string) []int32 { return e.Encode(text, e.MaxTargetLen) }

// Task is one task as a model answers it: its definition, its index among the model's
// declared tasks, and the token sequences of its possible outputs.
type Task struct {
	// Def is the task's definition.
	Def data.TaskDef
	// Index is the task's index in the model's tasks (model.Spec.Tasks), or -1 when
	// the model declares none (a T5 model reads the task from the input's prefix).
	Index int32
	// Candidates are the encoded possible outputs: the label words of a
	// classification task, the values of a regression task's grid (range and
	// rounding step). Values[i] is what Candidates[i] stands for: a class id, or a
	// value.
	Candidates [][]int32
	Values     []float64
}

// NewTask encodes def's possible outputs and finds its index among m's tasks. A model
// that declares tasks (model.tasks) must declare def's.
func NewTask(m *model.Model, enc Encoder, def data.TaskDef) (*Task, error) {
	t := &Task{Def: def, Index: -1}
	if len(m.Spec.Tasks) > 0 {
		for i, ts := range m.Spec.Tasks {
			if ts.Name == def.Name {
				t.Index = int32(i)
			}
		}
		if t.Index < 0 {
			return nil, fmt.Errorf("task %s is not one of the model's tasks (model.tasks: %s); add it there or drop it from data.tasks", def.Name, taskNames(m))
		}
	} else if m.Spec.Arch == model.ArchEncoder {
		return nil, fmt.Errorf("an encoder-only model needs model.tasks, one head per task")
	}
	if def.IsRegression() {
		lo, hi, step := 0.0, 5.0, def.Round
		if len(def.Range) == 2 {
			lo, hi = def.Range[0], def.Range[1]
		}
		if step <= 0 {
			step = (hi - lo) / 25
		}
		for v := lo; v <= hi+step/2; v += step {
			t.Values = append(t.Values, v)
			t.Candidates = append(t.Candidates, enc.Target(def.ScoreText(v)))
		}
	} else {
		for i, w := range def.LabelWords {
			t.Values = append(t.Values, float64(i))
			t.Candidates = append(t.Candidates, enc.Target(w))
		}
	}
	return t, nil
}

func taskNames(m *model.Model) string {
	s := ""
	for i, t := range m.Spec.Tasks {
		if i > 0 {
			s += ", "
		}
		s += t.Name
	}
	return s
}

// Encoded is one encoded example: its input and target ids, and for an encoder model
// its class id or value.
type Encoded struct {
	// In and Out are the input and target ids (EOS-terminated).
	In, Out []int32
	// Task is the example's index among the model's tasks (-1: none declared).
	Task int32
	// Label is the class id (classification) and Value the regression target.
	Label int32
	Value float32
}

// Fill lays out encs as a padded batch for m: inputs and targets padded with 0 to
// the longest of the batch. It returns the batch and its number of real tokens.
func Fill(m *model.Model, encs []*Encoded) (*model.Batch, int) {
	b := &model.Batch{Size: len(encs)}
	for _, e := range encs {
		b.InputLen, b.TargetLen = max(b.InputLen, len(e.In)), max(b.TargetLen, len(e.Out))
	}
	b.Inputs = make([]int32, b.Size*b.InputLen)
	b.Targets = make([]int32, b.Size*b.TargetLen)
	if len(m.Spec.Tasks) > 0 {
		b.Tasks = make([]int32, b.Size)
	}
	if m.Spec.Arch == model.ArchEncoder {
		b.Labels, b.Values = make([]int32, b.Size), make([]float32, b.Size)
	}
	tokens := 0
	for i, e := range encs {
		copy(b.Inputs[i*b.InputLen:], e.In)
		copy(b.Targets[i*b.TargetLen:], e.Out)
		tokens += len(e.In) + len(e.Out)
		if b.Tasks != nil {
			b.Tasks[i] = max(e.Task, 0)
		}
		if b.Labels != nil {
			b.Labels[i] = max(e.Label, 0)
			b.Values[i] = e.Value
		}
	}
	return b, tokens
}

// EncodeExample encodes a labelled example of task t.
func (t *Task) EncodeExample(enc Encoder, ex *data.Example) *Encoded {
	return &Encoded{In: enc.Input(ex.Inputs), Out: enc.Target(ex.Targets), Task: t.Index, Label: int32(ex.Label), Value: float32(ex.Score)}
}
