package infer_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hypergrid-go/hypergrid/data/suite"
	"github.com/hypergrid-go/hypergrid/infer"
)

// A batch that mixes tasks gives every example the answer a batch of its own task
// gives it (Predict), whatever the order and however many run together.
func TestAnswerMixedEqualsPerTask(t *testing.T) {
	p, defs := predictor(t, tiny)
	want := map[infer.Item]infer.Prediction{}
	wantScores := map[infer.Item][]float64{} // from a batch of the item's task alone
	var items []infer.Item
	for _, def := range defs {
		exs, err := suite.Load(def.Name, "dev")
		if err != nil {
			t.Fatal(err)
		}
		var inputs []string
		for _, ex := range exs[:7] {
			inputs = append(inputs, ex.Inputs)
		}
		preds, err := p.Predict(def.Name, inputs)
		if err != nil {
			t.Fatal(err)
		}
		var alone []infer.Item
		for i, in := range inputs {
			it := infer.Item{Task: def.Name, Input: in}
			want[it] = preds[i]
			items = append(items, it)
			alone = append(alone, it)
		}
		answers, err := p.Answer(alone)
		if err != nil {
			t.Fatal(err)
		}
		for i, it := range alone {
			wantScores[it] = answers[i].Scores
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	for _, bs := range []int{1, 5, 64} {
		p.BatchSize = bs
		got, err := p.Answer(items)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(items) {
			t.Fatalf("%d answers for %d items", len(got), len(items))
		}
		for i, it := range items {
			if got[i].Prediction != want[it] {
				t.Errorf("batch size %d, %s item %d: mixed %+v, alone %+v", bs, it.Task, i, got[i].Prediction, want[it])
			}
			task, _ := p.Task(it.Task)
			if len(got[i].Scores) != len(task.Candidates) {
				t.Fatalf("%s: %d scores for %d candidates", it.Task, len(got[i].Scores), len(task.Candidates))
			}
			if !slices.Equal(got[i].Scores, wantScores[it]) {
				t.Errorf("batch size %d, %s item %d: mixed scores %v, alone %v", bs, it.Task, i, got[i].Scores, wantScores[it])
			}
			best := 0
			for c, s := range got[i].Scores {
				if s > 0 {
					t.Errorf("%s: log-probability %v > 0", it.Task, s)
				}
				if s > got[i].Scores[best] {
					best = c
				}
			}
			if task.Values[best] != got[i].Value {
				t.Errorf("%s: the best score is candidate %d (%v), the answer %v", it.Task, best, task.Values[best], got[i].Value)
			}
			if got[i].Tokens <= 1 || got[i].Tokens > p.Enc.MaxInputLen {
				t.Errorf("%s: %d input tokens", it.Task, got[i].Tokens)
			}
		}
	}
	_, err := p.Answer([]infer.Item{items[0], {Task: "mnli", Input: "x"}})
	var u *infer.UnknownTaskError
	if !errors.As(err, &u) || u.Task != "mnli" {
		t.Errorf("unknown task in a mixed batch: %v", err)
	}
	if got, err := p.Answer(nil); err != nil || len(got) != 0 {
		t.Errorf("empty batch: %v, %v", got, err)
	}
}

// Generate gives an input the same text alone or in a batch, and cuts it to its own
// limit.
func TestGenerate(t *testing.T) {
	p, _ := predictor(t, tiny)
	exs, err := suite.Load(suite.Sentiment, "dev")
	if err != nil {
		t.Fatal(err)
	}
	var items []infer.GenerateItem
	for i, ex := range exs[:6] {
		items = append(items, infer.GenerateItem{Task: suite.Sentiment, Input: ex.Inputs, MaxNewTokens: 1 + i%3})
	}
	items = append(items, infer.GenerateItem{Input: exs[0].Inputs, MaxNewTokens: 5})
	all, err := p.Generate(items)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		one, err := p.Generate([]infer.GenerateItem{it})
		if err != nil {
			t.Fatal(err)
		}
		if one[0].Text != all[i].Text || !slices.Equal(one[0].IDs, all[i].IDs) {
			t.Errorf("item %d: alone %+v, in a batch %+v", i, one[0], all[i])
		}
		if all[i].OutputTokens > it.MaxNewTokens || all[i].OutputTokens != len(all[i].IDs) {
			t.Errorf("item %d: %d tokens, limit %d", i, all[i].OutputTokens, it.MaxNewTokens)
		}
	}
	if _, err := p.Generate([]infer.GenerateItem{{Input: "x", MaxNewTokens: 0}}); err == nil {
		t.Error("max new tokens 0 accepted")
	}
	if _, err := p.Generate([]infer.GenerateItem{{Task: "mnli", Input: "x", MaxNewTokens: 1}}); err == nil {
		t.Error("unknown task accepted")
	}
}

const tinyEncoder = `
model:
  arch: encoder
  vocab: 300
  d_model: 32
  heads: 2
  d_kv: 16
  encoder_layers: 1
  decoder_layers: 0
  pooling: first_token
  tasks:
    - {name: sentiment, kind: classification, classes: 2}
    - {name: paraphrase, kind: classification, classes: 2}
    - {name: similarity, kind: regression}
  ffn: {type: ffn.hypergrid, d_ff: 64, grid: {rows: 4, cols: 4}, stacks: [encoder]}
`

// An encoder-only model's heads answer a mixed batch as they answer each task's own,
// with the classifiers' log-softmax as scores; it cannot generate.
func TestAnswerMixedEncoder(t *testing.T) {
	p, defs := predictor(t, tinyEncoder)
	var items []infer.Item
	var want []infer.Prediction
	for _, def := range defs {
		exs, err := suite.Load(def.Name, "dev")
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range exs[:3] {
			items = append(items, infer.Item{Task: def.Name, Input: ex.Inputs})
			pr, err := p.Predict(def.Name, []string{ex.Inputs})
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, pr[0])
		}
	}
	items[0], items[len(items)-1] = items[len(items)-1], items[0]
	want[0], want[len(want)-1] = want[len(want)-1], want[0]
	got, err := p.Answer(items)
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		if got[i].Prediction != want[i] {
			t.Errorf("%s item %d: mixed %+v, alone %+v", items[i].Task, i, got[i].Prediction, want[i])
		}
		task, _ := p.Task(items[i].Task)
		if task.Def.IsRegression() != (got[i].Scores == nil) {
			t.Errorf("%s: scores %v", items[i].Task, got[i].Scores)
		}
	}
	if _, err := p.Generate([]infer.GenerateItem{{Input: "x", MaxNewTokens: 1}}); !errors.Is(err, infer.ErrCannotGenerate) {
		t.Errorf("generate with an encoder: %v", err)
	}
}
