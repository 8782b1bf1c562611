package infer_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/data/suite"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/tokenizer"
)

const tiny = `
model:
  vocab: 300
  d_model: 32
  heads: 2
  d_kv: 16
  encoder_layers: 1
  decoder_layers: 1
  ffn: {type: ffn.hypergrid, d_ff: 64, grid: {rows: 4, cols: 4}}
`

// newPredictor returns a predictor of a small untrained model for the suite's tasks.
func newPredictor(text string) (*infer.Predictor, []data.TaskDef, error) {
	r, err := recipe.Loader{}.Parse("tiny.yaml", []byte(text))
	if err != nil {
		return nil, nil, err
	}
	m, err := r.Build(1)
	if err != nil {
		return nil, nil, err
	}
	var sentences []string
	for _, name := range []string{suite.Sentiment, suite.Paraphrase, suite.Similarity} {
		exs, err := suite.Load(name, "train")
		if err != nil {
			return nil, nil, err
		}
		for _, ex := range exs[:200] {
			sentences = append(sentences, ex.Inputs, ex.Targets)
		}
	}
	tok, err := tokenizer.Train(tokenizer.TrainOptions{Sentences: sentences, VocabSize: 300, Type: tokenizer.Unigram, SoftVocabLimit: true})
	if err != nil {
		return nil, nil, err
	}
	defs := suite.Tasks()
	p, err := infer.NewPredictor(m, infer.Encoder{Tok: tok, MaxInputLen: 32, MaxTargetLen: 6}, 8, defs)
	return p, defs, err
}

func predictor(t testing.TB, text string) (*infer.Predictor, []data.TaskDef) {
	t.Helper()
	p, defs, err := newPredictor(text)
	if err != nil {
		t.Fatal(err)
	}
	return p, defs
}

func TestPredictAndEvaluate(t *testing.T) {
	p, defs := predictor(t, tiny)
	for _, def := range defs {
		exs, err := suite.Load(def.Name, "dev")
		if err != nil {
			t.Fatal(err)
		}
		inputs := []string{exs[0].Inputs, exs[1].Inputs, exs[2].Inputs}
		preds, err := p.Predict(def.Name, inputs)
		if err != nil {
			t.Fatal(err)
		}
		if len(preds) != 3 {
			t.Fatalf("%d predictions for 3 inputs", len(preds))
		}
		for _, pr := range preds {
			if def.IsRegression() {
				if pr.Class != -1 || pr.Text != def.ScoreText(pr.Value) {
					t.Errorf("%s: regression prediction %+v", def.Name, pr)
				}
			} else if pr.Class < 0 || pr.Class >= len(def.LabelWords) || pr.Text != def.LabelWords[pr.Class] {
				t.Errorf("%s: prediction %+v", def.Name, pr)
			}
		}
		// A batch answers each input as it would alone.
		for i, in := range inputs {
			one, err := p.Predict(def.Name, []string{in})
			if err != nil {
				t.Fatal(err)
			}
			if one[0] != preds[i] {
				t.Errorf("%s input %d: alone %+v, in a batch %+v", def.Name, i, one[0], preds[i])
			}
		}
		res, err := p.Evaluate(def.Name, exs, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range def.Metrics {
			if v, ok := res.Metrics[m]; !ok || v < -100 || v > 100 {
				t.Errorf("%s: metric %s = %v (%v)", def.Name, m, v, ok)
			}
		}
	}
	_, err := p.Predict("mnli", []string{"x"})
	var u *infer.UnknownTaskError
	if !errors.As(err, &u) || len(u.Known) != 3 || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("unknown task: %v", err)
	}
	// A misspelled task name gets a suggestion.
	if _, err := p.Predict("sentimnet", []string{"x"}); err == nil || !strings.Contains(err.Error(), `did you mean "sentiment"?`) {
		t.Errorf("misspelled task: %v", err)
	}
}

// A predictor answers the tasks a model was trained for; the answer of a
// classification task is one of its label words.
func ExamplePredictor_Predict() {
	p, _, err := newPredictor(tiny)
	if err != nil {
		fmt.Println(err)
		return
	}
	preds, err := p.Predict("sentiment", []string{"sentiment sentence: a fine , moving film ."})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(preds[0].Text == "positive" || preds[0].Text == "negative")
	// Output: true
}
