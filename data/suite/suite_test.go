package suite

import (
	"bytes"
	"io/fs"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/data/suite/internal/synth"
)

// TestRegenerate checks that the generator reproduces the embedded files byte for
// byte, and that there are no other files. After changing the generator, run
// "go generate ./data/suite".
func TestRegenerate(t *testing.T) {
	want := synth.Files()
	var have []string
	err := fs.WalkDir(FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		have = append(have, path)
		got, err := fs.ReadFile(FS(), path)
		if err != nil {
			return err
		}
		if w, ok := want[path]; !ok {
			t.Errorf("embedded file %s is not generated: remove it", path)
		} else if !bytes.Equal(got, w) {
			t.Errorf("embedded file %s differs from the generator's output: run go generate ./data/suite", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for path := range want {
		if !slices.Contains(have, path) {
			t.Errorf("generated file %s is not embedded: run go generate ./data/suite", path)
		}
	}
	// Generating twice gives the same bytes.
	again := synth.Files()
	for path, b := range want {
		if !bytes.Equal(b, again[path]) {
			t.Errorf("generator is not deterministic: %s", path)
		}
	}
}

func load(t *testing.T, task, split string) []data.Example {
	t.Helper()
	exs, err := Load(task, split)
	if err != nil {
		t.Fatal(err)
	}
	return exs
}

func TestTasks(t *testing.T) {
	for _, def := range Tasks() {
		reg, ok := data.Lookup(def.Name)
		if !ok || reg.Prefix != def.Prefix {
			t.Errorf("task %s is not registered", def.Name)
		}
		t.Run(def.Name, func(t *testing.T) {
			train, dev := load(t, def.Name, "train"), load(t, def.Name, "dev")
			if len(train) != synth.TrainRows || len(dev) != synth.DevRows {
				t.Fatalf("%d train and %d dev rows, want %d and %d", len(train), len(dev), synth.TrainRows, synth.DevRows)
			}
			inputs := map[string]bool{}
			for _, e := range train {
				inputs[e.Inputs] = true
			}
			if len(inputs) != len(train) {
				t.Errorf("train has %d duplicate inputs", len(train)-len(inputs))
			}
			for _, e := range dev {
				if inputs[e.Inputs] {
					t.Errorf("dev input also in train: %s", e.Inputs)
				}
			}
			for _, split := range [][]data.Example{train, dev} {
				if def.IsRegression() {
					var scores []float64
					for _, e := range split {
						scores = append(scores, e.Score)
					}
					if sd := stddev(scores); sd < 1 {
						t.Errorf("scores spread too little: standard deviation %.2f", sd)
					}
					continue
				}
				counts := make([]int, def.NumClasses())
				for _, e := range split {
					counts[e.Label]++
				}
				for c, n := range counts {
					if n != len(split)/def.NumClasses() {
						t.Errorf("class %d has %d of %d examples: the suite's classes are balanced", c, n, len(split))
					}
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load("nope", "train"); err == nil || !strings.Contains(err.Error(), `no task "nope"`) {
		t.Errorf("unknown task: %v", err)
	}
	if _, err := Load(Sentiment, "test"); err == nil || !strings.Contains(err.Error(), "sentiment/test.tsv") {
		t.Errorf("unknown split: %v", err)
	}
}

// TestSentimentNotOneKeyword checks that no single word decides the sentiment: the
// best rule "class c if word w occurs, else the other class" stays far below what a
// model that reads the sentence can reach.
func TestSentimentNotOneKeyword(t *testing.T) {
	exs := load(t, Sentiment, "train")
	has := map[string][]bool{}
	for i, e := range exs {
		for _, w := range strings.Fields(e.Fields[0]) {
			if has[w] == nil {
				has[w] = make([]bool, len(exs))
			}
			has[w][i] = true
		}
	}
	best, bestWord := 0.0, ""
	for w, occurs := range has {
		right := 0
		for i, e := range exs {
			if occurs[i] == (e.Label == 1) {
				right++
			}
		}
		acc := float64(right) / float64(len(exs))
		acc = math.Max(acc, 1-acc)
		if acc > best {
			best, bestWord = acc, w
		}
	}
	t.Logf("best single-word rule: %q, accuracy %.3f", bestWord, best)
	if best > 0.7 {
		t.Errorf("the word %q alone gives %.3f accuracy: the task is too easy", bestWord, best)
	}
}

// TestSentimentNotBagOfWords checks that word order and composition matter: a naive
// Bayes classifier over the words, trained on train, stays well below what a model
// that reads the sentence can reach on dev, though above the majority baseline.
func TestSentimentNotBagOfWords(t *testing.T) {
	train, dev := load(t, Sentiment, "train"), load(t, Sentiment, "dev")
	counts := [2]map[string]float64{{}, {}}
	totals := [2]float64{}
	vocab := map[string]bool{}
	for _, e := range train {
		for _, w := range strings.Fields(e.Fields[0]) {
			counts[e.Label][w]++
			totals[e.Label]++
			vocab[w] = true
		}
	}
	right := 0
	for _, e := range dev {
		var logp [2]float64
		for c := range 2 {
			for _, w := range strings.Fields(e.Fields[0]) {
				logp[c] += math.Log((counts[c][w] + 1) / (totals[c] + float64(len(vocab))))
			}
		}
		if (logp[1] > logp[0]) == (e.Label == 1) {
			right++
		}
	}
	acc := float64(right) / float64(len(dev))
	t.Logf("naive Bayes bag of words: dev accuracy %.3f", acc)
	if acc > 0.8 {
		t.Errorf("a bag-of-words classifier reaches %.3f: the task is too easy", acc)
	}
}

// TestPairTasksNotWordOverlap checks that word overlap between the two sentences
// does not solve the pair tasks: the best overlap threshold on paraphrase, and the
// correlation of overlap with the similarity score, stay well below a good model.
func TestPairTasksNotWordOverlap(t *testing.T) {
	para := load(t, Paraphrase, "train")
	type point struct {
		overlap float64
		label   int
	}
	var pts []point
	for _, e := range para {
		pts = append(pts, point{jaccard(e.Fields[0], e.Fields[1]), e.Label})
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].overlap < pts[j].overlap })
	// Predict "equivalent" above the threshold: try every cut.
	positives := 0
	for _, p := range pts {
		positives += p.label
	}
	best, below1 := 0.0, 0
	for i := 0; i <= len(pts); i++ {
		// i examples below the cut are predicted 0, the rest 1.
		right := (i - below1) + (positives - below1)
		best = math.Max(best, float64(right)/float64(len(pts)))
		if i < len(pts) {
			below1 += pts[i].label
		}
	}
	t.Logf("paraphrase: best word-overlap threshold accuracy %.3f", best)
	if best > 0.75 {
		t.Errorf("word overlap alone gives %.3f accuracy on paraphrase: the task is too easy", best)
	}

	sim := load(t, Similarity, "train")
	var x, y []float64
	for _, e := range sim {
		x = append(x, jaccard(e.Fields[0], e.Fields[1]))
		y = append(y, e.Score)
	}
	r := pearson(x, y)
	t.Logf("similarity: Pearson correlation of word overlap with the score %.3f", r)
	if r > 0.85 {
		t.Errorf("word overlap alone correlates %.3f with the similarity score: the task is too easy", r)
	}
}

func jaccard(a, b string) float64 {
	wa, wb := map[string]bool{}, map[string]bool{}
	for _, w := range strings.Fields(strings.ToLower(strings.Trim(a, "."))) {
		wa[strings.Trim(w, ",.")] = true
	}
	for _, w := range strings.Fields(strings.ToLower(strings.Trim(b, "."))) {
		wb[strings.Trim(w, ",.")] = true
	}
	inter := 0
	for w := range wa {
		if wb[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(wa)+len(wb)-inter)
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func stddev(x []float64) float64 {
	m := mean(x)
	var s float64
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)))
}

func pearson(x, y []float64) float64 {
	mx, my := mean(x), mean(y)
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}
