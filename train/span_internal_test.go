package train

import (
	"slices"
	"testing"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/tokenizer"
)

// Every pass over a span-corruption task draws new noise (T5 corrupts each epoch
// afresh): pass 0 gives the precomputed examples, later passes others, each the same
// every time, and every pass keeps the chunk's tokens (inputs and targets together
// hold them all, in order, around the sentinels).
func TestSpanCorpusNoisePerPass(t *testing.T) {
	var docs []data.Example
	for i := range 40 {
		docs = append(docs, data.Example{Line: i + 1, Inputs: "the film is not clever , but the acting is very charming and the story feels honest"})
	}
	tok, err := tokenizer.Train(tokenizer.TrainOptions{Sentences: []string{docs[0].Inputs}, VocabSize: 25})
	if err != nil {
		t.Fatal(err)
	}
	if tok, err = tok.WithExtraIDs(20); err != nil {
		t.Fatal(err)
	}
	task := TaskData{Def: data.TaskDef{Name: "pretrain", Kind: data.KindSpanCorruption}, Train: docs}
	sc, err := newSpanCorpus(tok, task, Config{Seed: 3, MaxInputLen: 32, MaxTargetLen: 12})
	if err != nil {
		t.Fatal(err)
	}
	differ := 0
	for i, ex := range sc.examples {
		e0 := sc.example(ex)
		if e0 != sc.first[i] {
			t.Fatalf("pass 0 of chunk %d is not the precomputed example", i)
		}
		ex.Epoch = 2
		e2, again := sc.example(ex), sc.example(ex)
		if !slices.Equal(e2.In, again.In) || !slices.Equal(e2.Out, again.Out) {
			t.Fatalf("chunk %d, pass 2: two draws differ", i)
		}
		if !slices.Equal(e0.In, e2.In) {
			differ++
		}
		if got, want := uncorrupt(tok, e2), sc.chunks[i].toks; !slices.Equal(got, want) {
			t.Fatalf("chunk %d, pass 2: %v and %v rebuild %v, not %v", i, e2.In, e2.Out, got, want)
		}
	}
	if differ < len(sc.examples)/2 {
		t.Errorf("pass 2 differs from pass 0 in %d of %d chunks", differ, len(sc.examples))
	}
}

// uncorrupt rebuilds a chunk's tokens from its span-corrupted inputs and targets.
func uncorrupt(tok *tokenizer.Model, e *infer.Encoded) []int32 {
	spans := map[int32][]int32{}
	var cur int32 = -1
	for _, id := range e.Out[:len(e.Out)-1] {
		if int(id) >= tok.Pieces() {
			cur = id
			continue
		}
		spans[cur] = append(spans[cur], id)
	}
	var out []int32
	for _, id := range e.In[:len(e.In)-1] {
		if int(id) >= tok.Pieces() {
			out = append(out, spans[id]...)
			continue
		}
		out = append(out, id)
	}
	return out
}
