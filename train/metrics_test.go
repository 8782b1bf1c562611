package train

import (
	"math"
	"testing"
)

func TestMetrics(t *testing.T) {
	for _, c := range []struct {
		name      string
		pred, ref []float64
		want      float64
	}{
		{"accuracy", []float64{1, 0, 1, 1}, []float64{1, 0, 0, 1}, 75},
		// tp=2 fp=1 fn=1: F1 = 4/6
		{"f1", []float64{1, 0, 1, 1, 0}, []float64{1, 0, 0, 1, 1}, 100 * 4.0 / 6},
		// tp=2 tn=1 fp=1 fn=1: (2-1)/sqrt(3*3*2*2) = 1/6
		{"matthews_corr", []float64{1, 0, 1, 1, 0}, []float64{1, 0, 0, 1, 1}, 100.0 / 6},
		{"matthews_corr", []float64{1, 1, 1}, []float64{1, 0, 1}, 0},
		{"pearson", []float64{1, 2, 3}, []float64{2, 4, 6}, 100},
		{"pearson", []float64{1, 2, 3}, []float64{3, 2, 1}, -100},
		{"pearson", []float64{1, 1, 1}, []float64{3, 2, 1}, 0},
		// ranks of pred: 1, 2.5, 2.5, 4; of ref: 1, 2, 3, 4 → Pearson of the ranks.
		{"spearman", []float64{1, 5, 5, 9}, []float64{0.1, 0.2, 0.3, 0.4}, 100 * 4.5 / math.Sqrt(4.5*5)},
		{"f1_macro", []float64{0, 1, 2, 2}, []float64{0, 1, 2, 1}, 100 * (1 + 2.0/3 + 2.0/3) / 3},
	} {
		got, err := ComputeMetric(c.name, c.pred, c.ref)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s(%v, %v) = %v, want %v", c.name, c.pred, c.ref, got, c.want)
		}
	}
	if _, err := ComputeMetric("bleu", nil, nil); err == nil {
		t.Error("an unknown metric was accepted")
	}
}
