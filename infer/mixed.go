package infer

import (
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

// Answer answers a batch of items that may mix tasks. It sorts the items by input
// length and runs them in batches of at most BatchSize inputs of similar length, so
// that little of a batch is padding; a batch mixes tasks freely (each example brings
// its own task's HyperGrid gates, and the decoder scores each example's own label
// words: see model.ScoreCandidateSets), so a mixed batch costs about what a
// single-task batch of the same shape costs. Each item gets the answer Predict gives
// it: the batching changes which inputs run together, not what an input gets. An
// unknown task fails the whole call with an *UnknownTaskError before anything runs.
func (p *Predictor) Answer(items []Item) ([]Answer, error) {
	tasks := make([]*Task, len(items))
	for i, it := range items {
		t, err := p.Task(it.Task)
		if err != nil {
			return nil, err
		}
		tasks[i] = t
	}
	out := make([]Answer, len(items))
	eos := int32(p.Enc.Tok.EOSID())
	encs := make([]*Encoded, len(items))
	idx := make([]int, len(items))
	for i, it := range items {
		encs[i] = &Encoded{In: p.Enc.Input(it.Input), Out: []int32{eos}, Task: tasks[i].Index}
		idx[i] = i
	}
	// Buckets: by input length, stable so that equal lengths keep their order.
	slices.SortStableFunc(idx, func(a, b int) int { return len(encs[a].In) - len(encs[b].In) })
	for lo := 0; lo < len(idx); lo += p.BatchSize {
		part := idx[lo:min(lo+p.BatchSize, len(idx))]
		batch := make([]*Encoded, len(part))
		ts := make([]*Task, len(part))
		for j, i := range part {
			batch[j], ts[j] = encs[i], tasks[i]
		}
		scores, vals, err := p.scores(ts, batch)
		if err != nil {
			return nil, err
		}
		for j, i := range part {
			out[i] = Answer{Prediction: ts[j].prediction(vals[j]), Tokens: len(batch[j].In)}
			if scores != nil {
				out[i].Scores = scores[j]
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

// scores runs one batch, example j of task ts[j], and returns each example's candidate
// scores (nil for an encoder's regression head) and its answer (a class id or a value),
// chosen as answer chooses it.
func (p *Predictor) scores(ts []*Task, encs []*Encoded) ([][]float64, []float64, error) {
	b, _ := Fill(p.Model, encs)
	p.tape.Reset()
	vals := make([]float64, b.Size)
	scores := make([][]float64, b.Size)
	if p.Model.Spec.Arch == model.ArchEncoder {
		ps, err := p.Model.Predict(p.tape, b)
		if err != nil {
			return nil, nil, err
		}
		for i, pr := range ps {
			if ts[i].Def.IsRegression() {
				vals[i] = float64(pr.Value)
				continue
			}
			vals[i] = float64(pr.Class)
			scores[i] = logSoftmax(pr.Logits)
		}
		return scores, vals, nil
	}
	// One candidate set per task of the batch.
	var sets [][][]int32
	setOf := make([]int, b.Size)
	set := map[*Task]int{}
	for i, t := range ts {
		k, ok := set[t]
		if !ok {
			k = len(sets)
			set[t] = k
			sets = append(sets, t.Candidates)
		}
		setOf[i] = k
	}
	scores, err := p.Model.ScoreCandidateSets(p.tape, b, sets, setOf)
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
		vals[e] = ts[e].Values[best]
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
