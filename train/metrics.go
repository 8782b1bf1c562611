package train

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/hypergrid-go/hypergrid/data"
)

// Metric computes one GLUE metric from predictions and references: class ids for
// classification metrics, values for regression metrics. Results are on a 0-100 scale,
// as GLUE reports them.
type Metric func(pred, ref []float64) float64

// metricFuncs maps the metric names of package data to their code.
var metricFuncs = map[string]Metric{
	data.MetricAccuracy:     accuracy,
	data.MetricF1:           f1,
	data.MetricF1Macro:      f1Macro,
	data.MetricMatthewsCorr: matthews,
	data.MetricPearson:      pearson,
	data.MetricSpearman:     spearman,
}

// ComputeMetric returns the metric called name (a data.Metric* name).
func ComputeMetric(name string, pred, ref []float64) (float64, error) {
	f, ok := metricFuncs[name]
	if !ok {
		var known []string
		for k := range metricFuncs {
			known = append(known, k)
		}
		sort.Strings(known)
		return 0, fmt.Errorf("unknown metric %q; known: %s", name, strings.Join(known, ", "))
	}
	if len(pred) != len(ref) {
		return 0, fmt.Errorf("metric %s: %d predictions for %d references", name, len(pred), len(ref))
	}
	return f(pred, ref), nil
}

func accuracy(pred, ref []float64) float64 {
	if len(ref) == 0 {
		return 0
	}
	n := 0
	for i := range ref {
		if pred[i] == ref[i] {
			n++
		}
	}
	return 100 * float64(n) / float64(len(ref))
}

// confusion counts true/false positives/negatives of class c.
func confusion(pred, ref []float64, c float64) (tp, fp, fn, tn float64) {
	for i := range ref {
		p, r := pred[i] == c, ref[i] == c
		switch {
		case p && r:
			tp++
		case p:
			fp++
		case r:
			fn++
		default:
			tn++
		}
	}
	return
}

func f1Of(tp, fp, fn float64) float64 {
	if tp == 0 {
		return 0
	}
	return 2 * tp / (2*tp + fp + fn)
}

// f1 is the binary F1 of class 1 (GLUE's MRPC and QQP).
func f1(pred, ref []float64) float64 {
	tp, fp, fn, _ := confusion(pred, ref, 1)
	return 100 * f1Of(tp, fp, fn)
}

// f1Macro is the unweighted mean of the per-class F1 scores of the classes present.
func f1Macro(pred, ref []float64) float64 {
	classes := map[float64]bool{}
	for i := range ref {
		classes[ref[i]], classes[pred[i]] = true, true
	}
	if len(classes) == 0 {
		return 0
	}
	var s float64
	for c := range classes {
		tp, fp, fn, _ := confusion(pred, ref, c)
		s += f1Of(tp, fp, fn)
	}
	return 100 * s / float64(len(classes))
}

// matthews is the Matthews correlation of a binary problem (class 1 positive); 0 when
// either the predictions or the references are all one class.
func matthews(pred, ref []float64) float64 {
	tp, fp, fn, tn := confusion(pred, ref, 1)
	d := (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
	if d == 0 {
		return 0
	}
	return 100 * (tp*tn - fp*fn) / math.Sqrt(d)
}

// pearson is the Pearson correlation; 0 when either side is constant.
func pearson(pred, ref []float64) float64 {
	if len(ref) < 2 || constant(pred) || constant(ref) {
		return 0
	}
	return 100 * stat.Correlation(pred, ref, nil)
}

// spearman is the Pearson correlation of the ranks (ties get their average rank).
func spearman(pred, ref []float64) float64 {
	return pearson(ranks(pred), ranks(ref))
}

func constant(x []float64) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}

func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}
