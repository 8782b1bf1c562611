package infer

import (
	"fmt"
	"math"
	"slices"

	"github.com/hypergrid-go/hypergrid/model"
)

// Item is one input of a mixed-task batch: the task to answer and the input text
// (text-to-text, prefix included; see data.TaskDef.InputText).
type Item struct {
	// Task names one of the predictor's tasks.
	Task string
	// Input is the input text.
	Input string
}

// Answer is the model's answer for one Item.
type Answer struct {
	// Prediction is the label (class id and word) or the value, as Predict gives it.
	Prediction
	// Scores holds the log-probability the model gives each of the task's possible
	// outputs (Candidates), in the order of Task.Values: log-likelihoods of the label
	// words or grid values for a text-to-text model, the log-softmax of the head's
	// logits for an encoder classifier, nil for an encoder's regression head.
	Scores []float64
	// Tokens is the number of input tokens the model read (EOS included).
	Tokens int
}

// InputTokens returns the number of tokens text encodes to, EOS included, before any
// cut to MaxInputLen: what a caller compares with MaxInputLen to refuse or truncate
// an input. It is safe for concurrent use.
func (e Encoder) InputTokens(text string) int { return len(e.Tok.Encode(text)) + 1 }

// Answer answers a batch of items that may mix tasks. It groups the items by task
// (each task has its own possible outputs), sorts each group by input length and runs
// it in batches of at most BatchSize inputs of similar length, so that little of a
// batch is padding. Each item gets the answer Predict gives it: the grouping changes
// which inputs run together, not what an input gets. An unknown task fails the whole
// call with an *UnknownTaskError before anything runs.
func (p *Predictor) Answer(items []Item) ([]Answer, error) {
	groups := map[string][]int{}
	var order []string
	for i, it := range items {
		if _, err := p.Task(it.Task); err != nil {
			return nil, err
		}
		if _, ok := groups[it.Task]; !ok {
			order = append(order, it.Task)
		}
		groups[it.Task] = append(groups[it.Task], i)
	}
	out := make([]Answer, len(items))
	eos := int32(p.Enc.Tok.EOSID())
	for _, name := range order {
		t := p.tasks[name]
		idx := groups[name]
		encs := make([]*Encoded, len(items))
		for _, i := range idx {
			encs[i] = &Encoded{In: p.Enc.Input(items[i].Input), Out: []int32{eos}, Task: t.Index}
		}
		// Buckets: by input length, stable so that equal lengths keep their order.
		slices.SortStableFunc(idx, func(a, b int) int { return len(encs[a].In) - len(encs[b].In) })
		for lo := 0; lo < len(idx); lo += p.BatchSize {
			part := idx[lo:min(lo+p.BatchSize, len(idx))]
			batch := make([]*Encoded, len(part))
			for j, i := range part {
				batch[j] = encs[i]
			}
			scores, vals, err := p.scores(t, batch)
			if err != nil {
				return nil, fmt.Errorf("task %s: %w", name, err)
			}
			for j, i := range part {
				out[i] = Answer{Prediction: t.prediction(vals[j]), Tokens: len(batch[j].In)}
				if scores != nil {
					out[i].Scores = scores[j]
				}
			}
		}
	}
	return out, nil
}

// prediction writes answer v (a class id, or a value) of task t as Predict does.
func (t *Task) prediction(v float64) Prediction {
	if t.Def.IsRegression() {
		return Prediction{Text: t.Def.ScoreText(v), Class: -1, Value: v}
	}
	return Prediction{Text: t.Def.LabelWords[int(v)], Class: int(v), Value: v}
}

// scores runs one batch of task t and returns each example's candidate scores (nil
// for an encoder's regression head) and its answer (a class id or a value), chosen as
// answer chooses it.
func (p *Predictor) scores(t *Task, encs []*Encoded) ([][]float64, []float64, error) {
	b, _ := Fill(p.Model, encs)
	p.tape.Reset()
	vals := make([]float64, b.Size)
	if p.Model.Spec.Arch == model.ArchEncoder {
		ps, err := p.Model.Predict(p.tape, b)
		if err != nil {
			return nil, nil, err
		}
		var scores [][]float64
		for i, pr := range ps {
			if t.Def.IsRegression() {
				vals[i] = float64(pr.Value)
				continue
			}
			vals[i] = float64(pr.Class)
			scores = append(scores, logSoftmax(pr.Logits))
		}
		return scores, vals, nil
	}
	scores, err := p.Model.ScoreCandidates(p.tape, b, t.Candidates)
	if err != nil {
		return nil, nil, err
	}
	// The first of the best, as model.Classify picks it.
	for e, s := range scores {
		best := 0
		for c := range s {
			if s[c] > s[best] {
				best = c
			}
		}
		vals[e] = t.Values[best]
	}
	return scores, vals, nil
}

// logSoftmax returns the log-probabilities of logits.
func logSoftmax(logits []float32) []float64 {
	mx := math.Inf(-1)
	for _, x := range logits {
		mx = max(mx, float64(x))
	}
	var s float64
	for _, x := range logits {
		s += math.Exp(float64(x) - mx)
	}
	out := make([]float64, len(logits))
	for i, x := range logits {
		out[i] = float64(x) - mx - math.Log(s)
	}
	return out
}
