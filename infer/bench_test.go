package infer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/data/suite"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/tokenizer"
)

// BenchmarkAnswer measures what a batch mixing tasks costs against batches of one task
// of the same shape: the same 32 inputs (t5-mini-hypergrid, untrained; inputs of 40
// to 64 tokens), asked of one task at a time (single/TASK) and of the three suite
// tasks in turn (mixed). Each task has its own candidates (two label words; the
// similarity grid's 26 values), so the fair reference for mixed is the mean of the
// single-task times:
//
//	go test -run '^$' -bench BenchmarkAnswer -benchtime 10x ./infer/
func BenchmarkAnswer(b *testing.B) {
	r, err := recipe.Load("t5-mini-hypergrid", "model.dropout=0")
	if err != nil {
		b.Fatal(err)
	}
	m, err := r.Build(1)
	if err != nil {
		b.Fatal(err)
	}
	var sentences []string
	tasks := []string{suite.Sentiment, suite.Paraphrase, suite.Similarity}
	for _, name := range tasks {
		exs, err := suite.Load(name, "train")
		if err != nil {
			b.Fatal(err)
		}
		for _, ex := range exs[:300] {
			sentences = append(sentences, ex.Inputs, ex.Targets)
		}
	}
	tok, err := tokenizer.Train(tokenizer.TrainOptions{Sentences: sentences, VocabSize: 2000, Type: tokenizer.Unigram, SoftVocabLimit: true})
	if err != nil {
		b.Fatal(err)
	}
	p, err := infer.NewPredictor(m, infer.Encoder{Tok: tok, MaxInputLen: 64, MaxTargetLen: 8}, 32, suite.Tasks())
	if err != nil {
		b.Fatal(err)
	}
	// 32 inputs from the training text, cut to 40..64 tokens.
	var inputs []string
	for i := 0; len(inputs) < 32; i++ {
		words := strings.Fields(sentences[2*i] + " " + sentences[2*i+2] + " " + sentences[2*i+4])
		n := 40 + i%25
		for len(tok.Encode(strings.Join(words, " "))) > n-1 && len(words) > 1 {
			words = words[:len(words)-1]
		}
		inputs = append(inputs, strings.Join(words, " "))
	}
	run := func(b *testing.B, task func(i int) string) {
		items := make([]infer.Item, len(inputs))
		for i, in := range inputs {
			items[i] = infer.Item{Task: task(i), Input: in}
		}
		if _, err := p.Answer(items); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for range b.N {
			if _, err := p.Answer(items); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(items))/b.Elapsed().Seconds(), "examples/s")
	}
	for _, name := range tasks {
		b.Run(fmt.Sprintf("single/%s", name), func(b *testing.B) { run(b, func(int) string { return name }) })
	}
	b.Run("mixed", func(b *testing.B) { run(b, func(i int) string { return tasks[i%len(tasks)] }) })
}
