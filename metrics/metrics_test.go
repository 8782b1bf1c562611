package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/internal/golden"
)

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-12
}

// The binary example: tp=3, fn=2, fp=1, tn=4.
var (
	binLabels = []float64{1, 1, 1, 1, 1, 0, 0, 0, 0, 0}
	binPreds  = []float64{1, 1, 1, 0, 0, 1, 0, 0, 0, 0}
)

func TestHandComputed(t *testing.T) {
	tests := []struct {
		name          string
		f             func(p, l []float64) float64
		preds, labels []float64
		want          float64
	}{
		{"accuracy", Accuracy, binPreds, binLabels, 0.7},
		{"accuracy all wrong", Accuracy, []float64{1, 0}, []float64{0, 1}, 0},
		{"accuracy invalid prediction", Accuracy, []float64{-1, 1}, []float64{0, 1}, 0.5},
		{"f1 of class 1", func(p, l []float64) float64 { return F1(p, l, 1) }, binPreds, binLabels, 6.0 / 9},
		{"f1 of class 0", func(p, l []float64) float64 { return F1(p, l, 0) }, binPreds, binLabels, 8.0 / 11},
		{"f1 nothing positive", func(p, l []float64) float64 { return F1(p, l, 1) }, []float64{0, 0}, []float64{0, 0}, 0},
		{"f1 no true positive", func(p, l []float64) float64 { return F1(p, l, 1) }, []float64{1, 0}, []float64{0, 1}, 0},
		{"f1 macro", F1Macro, binPreds, binLabels, 23.0 / 33},
		{"f1 macro three classes", F1Macro, []float64{0, 1, 2, 2}, []float64{0, 1, 1, 2}, (1 + 2.0/3 + 2.0/3) / 3},
		{"matthews binary", MatthewsCorr, binPreds, binLabels, 1 / math.Sqrt(6)},
		{"matthews perfect", MatthewsCorr, binLabels, binLabels, 1},
		{"matthews inverted", MatthewsCorr, []float64{0, 1, 0, 1}, []float64{1, 0, 1, 0}, -1},
		{"matthews three classes", MatthewsCorr, []float64{0, 1, 1, 2, 2, 0}, []float64{0, 0, 1, 1, 2, 2}, 0.25},
		{"matthews constant predictions", MatthewsCorr, []float64{1, 1, 1, 1}, []float64{1, 0, 1, 0}, 0},
		{"matthews constant labels", MatthewsCorr, []float64{1, 0, 1, 0}, []float64{1, 1, 1, 1}, 0},
		{"pearson", Pearson, []float64{1, 2, 3, 4, 5}, []float64{2, 4, 5, 4, 5}, math.Sqrt(0.6)},
		{"pearson negative", Pearson, []float64{1, 2, 3}, []float64{3, 2, 1}, -1},
		{"pearson constant predictions", Pearson, []float64{2, 2, 2}, []float64{1, 2, 3}, math.NaN()},
		{"pearson one example", Pearson, []float64{1}, []float64{2}, math.NaN()},
		{"spearman monotone", Spearman, []float64{1, 2, 3, 40}, []float64{10, 20, 30, 31}, 1},
		{"spearman ties", Spearman, []float64{1, 2, 2, 3}, []float64{1, 3, 2, 4}, math.Sqrt(0.9)},
		{"spearman constant", Spearman, []float64{5, 5, 5}, []float64{1, 2, 3}, math.NaN()},
		{"empty", Accuracy, nil, nil, math.NaN()},
		{"empty f1 macro", F1Macro, nil, nil, math.NaN()},
		{"empty matthews", MatthewsCorr, nil, nil, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f(tt.preds, tt.labels); !near(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRanks(t *testing.T) {
	tests := []struct{ x, want []float64 }{
		{[]float64{10, 20, 30}, []float64{1, 2, 3}},
		{[]float64{30, 10, 20}, []float64{3, 1, 2}},
		{[]float64{1, 2, 2, 3}, []float64{1, 2.5, 2.5, 4}},
		{[]float64{7, 7, 7}, []float64{2, 2, 2}},
		{[]float64{2, 1, 2, 1, 3}, []float64{3.5, 1.5, 3.5, 1.5, 5}},
		{nil, []float64{}},
	}
	for _, tt := range tests {
		got := Ranks(tt.x)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Ranks(%v) = %v, want %v", tt.x, got, tt.want)
		}
	}
}

// TestAgainstGonum checks, on random data, that the binary Matthews correlation is
// the Pearson correlation of the 0/1 vectors (the phi coefficient) as gonum computes
// it, that Pearson agrees with gonum, and that Spearman without ties agrees with the
// closed form 1 − 6·Σd² / (n(n²−1)).
func TestAgainstGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		n := 5 + rng.IntN(200)
		p, l := make([]float64, n), make([]float64, n)
		for i := range n {
			p[i], l[i] = float64(rng.IntN(2)), float64(rng.IntN(2))
		}
		if !constant(p) && !constant(l) {
			if got, want := MatthewsCorr(p, l), stat.Correlation(p, l, nil); math.Abs(got-want) > 1e-12 {
				t.Errorf("trial %d: MCC %v, phi %v", trial, got, want)
			}
		}
		x, y := make([]float64, n), make([]float64, n)
		for i := range n {
			x[i] = rng.NormFloat64()
			y[i] = 0.5*x[i] + rng.NormFloat64()
		}
		if got, want := Pearson(x, y), stat.Correlation(x, y, nil); math.Abs(got-want) > 1e-12 {
			t.Errorf("trial %d: Pearson %v, gonum %v", trial, got, want)
		}
		rx, ry := Ranks(x), Ranks(y)
		var d2 float64
		for i := range n {
			d2 += (rx[i] - ry[i]) * (rx[i] - ry[i])
		}
		nf := float64(n)
		if got, want := Spearman(x, y), 1-6*d2/(nf*(nf*nf-1)); math.Abs(got-want) > 1e-9 {
			t.Errorf("trial %d: Spearman %v, closed form %v", trial, got, want)
		}
	}
}

func TestCompute(t *testing.T) {
	tests := []struct {
		name          string
		metric        string
		preds, labels []float64
		want          float64
		err           string
	}{
		{"accuracy", "accuracy", binPreds, binLabels, 0.7, ""},
		{"f1 is of class 1", "f1", binPreds, binLabels, 6.0 / 9, ""},
		{"f1_macro", "f1_macro", binPreds, binLabels, 23.0 / 33, ""},
		{"matthews_corr", "matthews_corr", binPreds, binLabels, 1 / math.Sqrt(6), ""},
		{"pearson", "pearson", []float64{1, 2, 3, 4, 5}, []float64{2, 4, 5, 4, 5}, math.Sqrt(0.6), ""},
		{"spearman", "spearman", []float64{1, 2, 2, 3}, []float64{1, 3, 2, 4}, math.Sqrt(0.9), ""},
		{"unknown", "bleu", binPreds, binLabels, 0, `unknown metric "bleu"; known metrics: accuracy, f1, f1_macro, matthews_corr, pearson, spearman`},
		{"lengths differ", "accuracy", []float64{1}, []float64{1, 0}, 0, "metric accuracy: 1 predictions for 2 labels"},
		{"empty", "f1", nil, nil, 0, "metric f1: no examples"},
		{"NaN prediction", "pearson", []float64{1, math.NaN()}, []float64{1, 2}, 0, "metric pearson: prediction 1 is NaN"},
		{"infinite label", "spearman", []float64{1, 2}, []float64{math.Inf(1), 2}, 0, "metric spearman: label 0 is +Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compute(tt.metric, tt.preds, tt.labels)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !near(got, tt.want) {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if _, err := Evaluate([]string{"accuracy", "nope"}, binPreds, binLabels); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Evaluate with an unknown metric: %v", err)
	}
	got, err := Evaluate([]string{"accuracy", "f1"}, binPreds, binLabels)
	if err != nil || len(got) != 2 || !near(got["accuracy"], 0.7) || !near(got["f1"], 6.0/9) {
		t.Errorf("Evaluate: %v %v", got, err)
	}
}

// TestNamesMatchTaskDefinitions: the metric names are exactly those package data lets
// task definitions list.
func TestNamesMatchTaskDefinitions(t *testing.T) {
	want := []string{data.MetricAccuracy, data.MetricF1, data.MetricF1Macro, data.MetricMatthewsCorr, data.MetricPearson, data.MetricSpearman}
	for _, n := range want {
		if !Known(n) {
			t.Errorf("package data's metric %q is unknown here", n)
		}
	}
	if len(Names()) != len(want) {
		t.Errorf("Names() = %v, package data has %v", Names(), want)
	}
}

// TestGolden computes every metric on fixed prediction sets and compares the
// formatted results with testdata/metrics.golden.
func TestGolden(t *testing.T) {
	cases := []struct {
		name          string
		preds, labels []float64
	}{
		{"binary", binPreds, binLabels},
		{"three classes", []float64{0, 1, 1, 2, 2, 0, 1}, []float64{0, 0, 1, 1, 2, 2, 1}},
		{"constant predictions", []float64{1, 1, 1, 1}, []float64{0, 1, 0, 1}},
		{"regression", []float64{0.2, 1.4, 2.6, 3.0, 4.8, 4.8}, []float64{0, 1.5, 2.25, 3.5, 4, 5}},
	}
	var b strings.Builder
	for _, c := range cases {
		values, err := Evaluate(Names(), c.preds, c.labels)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %s\n", c.name, Format(values))
	}
	golden.Check(t, filepath.Join("testdata", "metrics.golden"), []byte(b.String()))
}

// FuzzMetrics checks the ranges of every metric on arbitrary small class-id inputs.
func FuzzMetrics(f *testing.F) {
	f.Add([]byte{1, 1, 1, 0, 0, 1, 0, 0}, []byte{1, 1, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{2, 2}, []byte{2, 2})
	f.Add([]byte{0, 1, 2, 3}, []byte{3, 2, 1, 0})
	f.Fuzz(func(t *testing.T, pb, lb []byte) {
		n := min(len(pb), len(lb))
		if n == 0 {
			return
		}
		p, l := make([]float64, n), make([]float64, n)
		for i := range n {
			p[i], l[i] = float64(pb[i]%4), float64(lb[i]%4)
		}
		for _, name := range Names() {
			v, err := Compute(name, p, l)
			if err != nil {
				t.Fatal(err)
			}
			lo := 0.0
			if name == NameMatthewsCorr || name == NamePearson || name == NameSpearman {
				lo = -1
			}
			if math.IsNaN(v) {
				if name != NamePearson && name != NameSpearman {
					t.Fatalf("%s = NaN on %v %v", name, p, l)
				}
				continue
			}
			if v < lo-1e-12 || v > 1+1e-12 {
				t.Fatalf("%s = %v, outside [%v, 1], on %v %v", name, v, lo, p, l)
			}
		}
		if v, _ := Compute(NameAccuracy, p, p); v != 1 {
			t.Fatalf("accuracy of labels against themselves %v", v)
		}
		if !constant(p) {
			if v, _ := Compute(NameMatthewsCorr, p, p); math.Abs(v-1) > 1e-12 {
				t.Fatalf("matthews of labels against themselves %v", v)
			}
		}
	})
}
