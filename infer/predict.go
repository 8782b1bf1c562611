package infer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/metrics"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/registry"
)

// Predictor answers the tasks of one model. It is not safe for concurrent use (it
// reuses one tape); make one per goroutine.
type Predictor struct {
	// Model is the model; Enc its tokenizer and length limits.
	Model *model.Model
	Enc   Encoder
	// BatchSize is the number of inputs run together.
	BatchSize int

	tasks map[string]*Task
	names []string
	tape  *autograd.Tape
}

// NewPredictor returns a predictor of m for the tasks defs (each must be one of the
// model's declared tasks, when it declares any), running batchSize inputs at a time.
func NewPredictor(m *model.Model, enc Encoder, batchSize int, defs []data.TaskDef) (*Predictor, error) {
	if batchSize <= 0 {
		return nil, fmt.Errorf("infer: batch size %d; want a positive number", batchSize)
	}
	if enc.Tok.VocabSize() > m.Spec.Vocab {
		if x := enc.Tok.ExtraIDs(); x > 0 {
			return nil, fmt.Errorf("the tokenizer has %d ids (%d pieces + %d sentinels) but model.vocab is %d: raise model.vocab to %d or lower tokenizer.vocab or tokenizer.extra_ids", enc.Tok.VocabSize(), enc.Tok.Pieces(), x, m.Spec.Vocab, enc.Tok.VocabSize())
		}
		return nil, fmt.Errorf("the tokenizer has %d pieces but model.vocab is %d: raise model.vocab to %d or lower tokenizer.vocab", enc.Tok.VocabSize(), m.Spec.Vocab, enc.Tok.VocabSize())
	}
	p := &Predictor{Model: m, Enc: enc, BatchSize: batchSize, tasks: map[string]*Task{}, tape: autograd.NewTape()}
	for _, def := range defs {
		t, err := NewTask(m, enc, def)
		if err != nil {
			return nil, err
		}
		p.tasks[def.Name] = t
		p.names = append(p.names, def.Name)
	}
	return p, nil
}

// Tasks returns the names of the tasks the predictor answers, in the order given.
func (p *Predictor) Tasks() []string { return slices.Clone(p.names) }

// Task returns the task called name, or an error listing the tasks the predictor
// answers.
func (p *Predictor) Task(name string) (*Task, error) {
	if t, ok := p.tasks[name]; ok {
		return t, nil
	}
	return nil, &UnknownTaskError{Task: name, Known: p.Tasks()}
}

// UnknownTaskError is the error for a task the model was not trained on.
type UnknownTaskError struct {
	Task  string
	Known []string
}

func (e *UnknownTaskError) Error() string {
	msg := fmt.Sprintf("task %q is not one of this model's tasks (%s)", e.Task, strings.Join(e.Known, ", "))
	if c := registry.Closest(e.Task, e.Known); c != "" {
		msg += fmt.Sprintf("; did you mean %q?", c)
	}
	return msg
}

// Prediction is a model's answer for one input of a task.
type Prediction struct {
	// Text is the label word of a classification task, or the value as the task writes
	// its targets (e.g. "3.4").
	Text string `json:"prediction"`
	// Class is the class id of a classification task (-1 for regression).
	Class int `json:"class"`
	// Value is the predicted value of a regression task (the class id otherwise).
	Value float64 `json:"value"`
}

// Predict answers task for each of the inputs (text-to-text inputs, prefix included;
// see data.TaskDef.InputText), in batches of BatchSize.
func (p *Predictor) Predict(task string, inputs []string) ([]Prediction, error) {
	t, err := p.Task(task)
	if err != nil {
		return nil, err
	}
	eos := int32(p.Enc.Tok.EOSID())
	out := make([]Prediction, 0, len(inputs))
	for lo := 0; lo < len(inputs); lo += p.BatchSize {
		encs := make([]*Encoded, min(lo+p.BatchSize, len(inputs))-lo)
		for i := range encs {
			encs[i] = &Encoded{In: p.Enc.Input(inputs[lo+i]), Out: []int32{eos}, Task: t.Index}
		}
		vals, err := p.answer(t, encs)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			if t.Def.IsRegression() {
				out = append(out, Prediction{Text: t.Def.ScoreText(v), Class: -1, Value: v})
			} else {
				out = append(out, Prediction{Text: t.Def.LabelWords[int(v)], Class: int(v), Value: v})
			}
		}
	}
	return out, nil
}

// answer returns the model's answer for each encoded example of task t: a class id, or
// a value.
func (p *Predictor) answer(t *Task, encs []*Encoded) ([]float64, error) {
	b, _ := Fill(p.Model, encs)
	p.tape.Reset()
	out := make([]float64, b.Size)
	if p.Model.Spec.Arch == model.ArchEncoder {
		ps, err := p.Model.Predict(p.tape, b)
		if err != nil {
			return nil, err
		}
		for i, pr := range ps {
			if t.Def.IsRegression() {
				out[i] = float64(pr.Value)
			} else {
				out[i] = float64(pr.Class)
			}
		}
		return out, nil
	}
	// Text-to-text: the most likely of the task's possible outputs, as T5 scores
	// classification tasks. Each candidate ends with EOS, so a longer label cannot win
	// by a likely prefix.
	best, err := p.Model.Classify(p.tape, b, t.Candidates)
	if err != nil {
		return nil, err
	}
	for i, c := range best {
		out[i] = t.Values[c]
	}
	return out, nil
}

// Evaluate scores task on its labelled examples exs (the first limit of them; 0: all)
// with the task's metrics, on the GLUE 0-100 scale.
func (p *Predictor) Evaluate(task string, exs []data.Example, limit int) (metrics.TaskResult, error) {
	t, err := p.Task(task)
	if err != nil {
		return metrics.TaskResult{}, err
	}
	if limit > 0 && len(exs) > limit {
		exs = exs[:limit]
	}
	var pred, ref []float64
	err = p.Batches(t, exs, func(encs []*Encoded, batch []data.Example) error {
		vals, err := p.answer(t, encs)
		if err != nil {
			return fmt.Errorf("evaluating %s: %w", task, err)
		}
		pred = append(pred, vals...)
		for _, ex := range batch {
			if t.Def.IsRegression() {
				ref = append(ref, ex.Score)
			} else {
				ref = append(ref, float64(ex.Label))
			}
		}
		return nil
	})
	if err != nil {
		return metrics.TaskResult{}, err
	}
	res := metrics.TaskResult{Task: task, Metrics: map[string]float64{}}
	for _, name := range t.Def.Metrics {
		v, err := metrics.Score(name, pred, ref)
		if err != nil {
			return metrics.TaskResult{}, err
		}
		res.Metrics[name] = v
	}
	return res, nil
}

// Batches encodes exs of task t and calls f on each batch of at most BatchSize.
func (p *Predictor) Batches(t *Task, exs []data.Example, f func(encs []*Encoded, batch []data.Example) error) error {
	for lo := 0; lo < len(exs); lo += p.BatchSize {
		batch := exs[lo:min(lo+p.BatchSize, len(exs))]
		encs := make([]*Encoded, len(batch))
		for i := range batch {
			encs[i] = t.EncodeExample(p.Enc, &batch[i])
		}
		if err := f(encs, batch); err != nil {
			return err
		}
	}
	return nil
}

// Tape returns the predictor's tape, for callers that run the model themselves on
// batches it lays out (Fill); they must Reset it first.
func (p *Predictor) Tape() *autograd.Tape { return p.tape }

// UseTape makes the predictor run on tape t (a trainer shares its own, so that
// evaluation between steps reuses the training step's buffers).
func (p *Predictor) UseTape(t *autograd.Tape) { p.tape = t }
