package train_test

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/data/suite"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/train"
)

// spanCorpus writes the embedded suite's sentiment sentences as a text file.
func spanCorpus(t *testing.T) string {
	t.Helper()
	exs, err := suite.Load("sentiment", "train")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, ex := range exs[:200] {
		b.WriteString(ex.Fields[0] + "\n")
	}
	path := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func spanSets(corpus string, extra ...string) []string {
	return append([]string{
		"data.tasks=[sentiment, {name: pretrain, kind: span_corruption, dir: " + corpus + "}]",
		"tokenizer.extra_ids=20", "model.vocab=320", "train.max_target_len=12",
	}, extra...)
}

// A span-corruption task trains next to a labelled one, and a resumed run continues
// with the same losses bit for bit (its examples depend only on the seed), also
// across passes over the documents, where the noise is drawn afresh.
func TestSpanCorruptionResumesExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("trains: skipped with -short")
	}
	corpus := spanCorpus(t)
	full, err := runTinyOpts(t, runOpts{out: t.TempDir()}, spanSets(corpus, "train.steps=8", "train.checkpoint_every=4", "data.train_limit=12")...)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	first, err := runTinyOpts(t, runOpts{out: dir}, spanSets(corpus, "train.steps=4", "train.checkpoint_every=4", "data.train_limit=12")...)
	if err != nil {
		t.Fatal(err)
	}
	second, err := runTinyOpts(t, runOpts{out: dir, resume: true}, spanSets(corpus, "train.steps=8", "train.checkpoint_every=4", "data.train_limit=12")...)
	if err != nil {
		t.Fatal(err)
	}
	got := append(slices.Clone(first.Losses), second.Losses...)
	if len(got) != 8 {
		t.Fatalf("%d losses", len(got))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(full.Losses[i]) {
			t.Fatalf("step %d: resumed %v, uninterrupted %v", i+1, got[i], full.Losses[i])
		}
	}
}

// SpanExamples: examples fit the length limits, use the tokenizer's sentinels, and
// depend on the seed only; without extra ids it is an error saying what to set.
func TestSpanExamples(t *testing.T) {
	corpus := spanCorpus(t)
	r, err := recipe.Loader{Sets: spanSets(corpus)}.Parse("tiny.yaml", []byte(tinyRecipe))
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := train.ReadTasks(r.Data, train.SplitTrain, train.SplitDev)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 2 || !tasks[1].Def.IsSpanCorruption() || len(tasks[1].Train) != 200 || tasks[1].Dev != nil {
		t.Fatalf("tasks %d; span task %+v with %d documents", len(tasks), tasks[1].Def, len(tasks[1].Train))
	}
	tok, err := train.BuildTokenizer(r.Tokenizer, tasks)
	if err != nil {
		t.Fatal(err)
	}
	encs, exs, err := train.SpanExamples(tok, tasks[1], r.Train)
	if err != nil {
		t.Fatal(err)
	}
	if len(encs) < 200 || len(exs) != len(encs) {
		t.Fatalf("%d examples from 200 documents (%d refs)", len(encs), len(exs))
	}
	noise, total := 0, 0
	for _, e := range encs {
		if len(e.In) > r.Train.MaxInputLen || len(e.Out) > r.Train.MaxTargetLen {
			t.Fatalf("example of %d/%d ids exceeds %d/%d", len(e.In), len(e.Out), r.Train.MaxInputLen, r.Train.MaxTargetLen)
		}
		if e.Out[0] != tok.Sentinel(0) || e.In[len(e.In)-1] != int32(tok.EOSID()) || e.Out[len(e.Out)-1] != int32(tok.EOSID()) {
			t.Fatalf("example %v -> %v: targets must start with <extra_id_0>, both end with EOS", e.In, e.Out)
		}
		for _, id := range e.Out {
			if int(id) < tok.Pieces() {
				noise++
			}
		}
		total += len(e.In) + len(e.Out)
	}
	if noise == 0 || noise > total/4 {
		t.Errorf("%d noise tokens of %d", noise, total)
	}
	again, _, _ := train.SpanExamples(tok, tasks[1], r.Train)
	cfg := r.Train
	cfg.Seed++
	other, _, _ := train.SpanExamples(tok, tasks[1], cfg)
	same, differ := true, false
	for i := range encs {
		same = same && slices.Equal(encs[i].In, again[i].In) && slices.Equal(encs[i].Out, again[i].Out)
		differ = differ || !slices.Equal(encs[i].In, other[i].In)
	}
	if !same || !differ {
		t.Errorf("same seed gives the same examples: %v; another seed others: %v", same, differ)
	}

	plain, err := tok.WithExtraIDs(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := train.SpanExamples(plain, tasks[1], r.Train); err == nil || !strings.Contains(err.Error(), "tokenizer.extra_ids") {
		t.Errorf("without extra ids: %v", err)
	}
}
