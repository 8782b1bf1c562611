package infer

import (
	"errors"
	"fmt"
	"slices"

	"github.com/hypergrid-go/hypergrid/model"
)

// GenerateItem is one input to decode freely (text-to-text), not restricted to a
// task's possible outputs.
type GenerateItem struct {
	// Task names one of the predictor's tasks, whose index the model is given (a
	// model that declares tasks conditions on it); "" gives the first task's index,
	// for a model that reads the task from the input's prefix.
	Task string
	// Input is the input text, prefix included.
	Input string
	// MaxNewTokens bounds the output's tokens (EOS excluded); at least 1.
	MaxNewTokens int
}

// Generation is the greedy output for one GenerateItem.
type Generation struct {
	// Text is the decoded output; IDs its token ids (EOS excluded).
	Text string
	IDs  []int32
	// InputTokens and OutputTokens count the tokens read and written.
	InputTokens, OutputTokens int
}

// ErrCannotGenerate is returned by Generate for an encoder-only model.
var ErrCannotGenerate = errors.New("this model is encoder-only: it answers its tasks' labels or values but cannot generate text")

// Generate decodes each item greedily (model.Generate) until EOS or its
// MaxNewTokens, in batches of at most BatchSize inputs of similar length. Greedy
// decoding reads only an input's own tokens, so an item gets the same output whatever
// else runs with it; a batch runs to the largest MaxNewTokens among its items and cuts
// each output to its own limit.
func (p *Predictor) Generate(items []GenerateItem) ([]Generation, error) {
	if p.Model.Spec.Arch != model.ArchT5 {
		return nil, ErrCannotGenerate
	}
	encs := make([]*Encoded, len(items))
	for i, it := range items {
		if it.MaxNewTokens <= 0 {
			return nil, fmt.Errorf("infer: item %d: max new tokens %d; want at least 1", i, it.MaxNewTokens)
		}
		idx := int32(-1)
		if it.Task != "" {
			t, err := p.Task(it.Task)
			if err != nil {
				return nil, err
			}
			idx = t.Index
		}
		encs[i] = &Encoded{In: p.Enc.Input(it.Input), Out: []int32{int32(p.Enc.Tok.EOSID())}, Task: idx}
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(encs[a].In) - len(encs[b].In) })
	out := make([]Generation, len(items))
	eos := int32(p.Enc.Tok.EOSID())
	for lo := 0; lo < len(order); lo += p.BatchSize {
		part := order[lo:min(lo+p.BatchSize, len(order))]
		batch := make([]*Encoded, len(part))
		maxLen := 0
		for j, i := range part {
			batch[j] = encs[i]
			maxLen = max(maxLen, items[i].MaxNewTokens)
		}
		b, _ := Fill(p.Model, batch)
		b.Targets, b.TargetLen = nil, 0
		p.tape.Reset()
		seqs, err := p.Model.Generate(p.tape, b, maxLen, eos)
		if err != nil {
			return nil, err
		}
		for j, i := range part {
			ids := seqs[j]
			if len(ids) > items[i].MaxNewTokens {
				ids = ids[:items[i].MaxNewTokens]
			}
			ints := make([]int, 0, len(ids))
			for _, id := range ids {
				if id != 0 {
					ints = append(ints, int(id))
				}
			}
			out[i] = Generation{Text: p.Enc.Tok.Decode(ints), IDs: slices.Clone(ids), InputTokens: len(batch[j].In), OutputTokens: len(ids)}
		}
	}
	return out, nil
}
