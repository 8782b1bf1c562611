// Package metrics computes the GLUE metrics on plain slices: accuracy, binary and
// macro F1, Matthews correlation, Pearson and Spearman correlation, and the GLUE-style
// average over tasks.
//
// Classification metrics take class ids (whole numbers stored as float64; a
// prediction that is no class, say -1 for an unparsable answer, simply counts as
// wrong). Regression metrics take real values. Metric functions, [Compute] and
// [Evaluate] return values on their natural scale (fractions in [0, 1] for accuracy
// and F1, coefficients in [-1, 1] for correlations).
//
// # GLUE scores
//
// The package is the one place that scores tasks and averages them. [Score] returns a
// metric on GLUE's 0-100 scale; a [TaskResult] holds one task's values on that scale;
// [TaskScore] is a task's score (the mean of its [Scored] metrics) and [Average] the
// GLUE-style average over tasks. Other packages (the trainer, the progress display,
// the plots) store and show these values but do not compute them.
//
// Edge cases follow scikit-learn and SciPy, which the GLUE reference evaluation uses:
// an F1 with no positive label and no positive prediction is 0; the Matthews
// correlation is 0 when the predictions or the labels are all one class; a Pearson or
// Spearman correlation with a constant side (or fewer than two examples) is undefined
// and returned as NaN; every metric of zero examples is NaN. Compute reports empty
// input as an error instead. On the 0-100 scale there is one rule for an undefined
// value: it counts as 0 (Score returns 0 for it, and TaskScore counts a NaN value
// as 0).
package metrics

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/stat"
)

// Metric names, as task definitions list them (package data uses the same strings).
const (
	NameAccuracy     = "accuracy"      // fraction of exact matches
	NameF1           = "f1"            // binary F1 of class 1
	NameF1Macro      = "f1_macro"      // unweighted mean of the per-class F1 scores
	NameMatthewsCorr = "matthews_corr" // Matthews correlation coefficient
	NamePearson      = "pearson"       // Pearson correlation
	NameSpearman     = "spearman"      // Spearman rank correlation
)

// PositiveClass is the class whose F1 the "f1" metric reports, as GLUE does for MRPC
// and QQP.
const PositiveClass = 1

// registry maps each metric name to its function.
var registry = map[string]func(preds, labels []float64) float64{
	NameAccuracy:     Accuracy,
	NameF1:           func(p, l []float64) float64 { return F1(p, l, PositiveClass) },
	NameF1Macro:      F1Macro,
	NameMatthewsCorr: MatthewsCorr,
	NamePearson:      Pearson,
	NameSpearman:     Spearman,
}

// Names returns the known metric names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Known reports whether name is a metric Compute knows.
func Known(name string) bool {
	_, ok := registry[name]
	return ok
}

func unknown(name string) error {
	return fmt.Errorf("unknown metric %q; known metrics: %s", name, strings.Join(Names(), ", "))
}

// Compute returns the metric called name (one of Names) of preds against labels, on
// the metric's natural scale. It is an error when the name is unknown, the slices
// differ in length or are empty, or a value is NaN or infinite.
func Compute(name string, preds, labels []float64) (float64, error) {
	f, ok := registry[name]
	if !ok {
		return 0, unknown(name)
	}
	if len(preds) != len(labels) {
		return 0, fmt.Errorf("metric %s: %d predictions for %d labels: they must pair up", name, len(preds), len(labels))
	}
	if len(labels) == 0 {
		return 0, fmt.Errorf("metric %s: no examples", name)
	}
	for i := range labels {
		if bad(preds[i]) {
			return 0, fmt.Errorf("metric %s: prediction %d is %v; want a finite number", name, i, preds[i])
		}
		if bad(labels[i]) {
			return 0, fmt.Errorf("metric %s: label %d is %v; want a finite number", name, i, labels[i])
		}
	}
	return f(preds, labels), nil
}

// Evaluate computes each of the named metrics and returns them by name.
func Evaluate(names []string, preds, labels []float64) (map[string]float64, error) {
	out := make(map[string]float64, len(names))
	for _, n := range names {
		v, err := Compute(n, preds, labels)
		if err != nil {
			return nil, err
		}
		out[n] = v
	}
	return out, nil
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

// pair panics when preds and labels differ in length (a programming error) and
// reports whether there is anything to score.
func pair(preds, labels []float64) bool {
	if len(preds) != len(labels) {
		panic(fmt.Sprintf("metrics: %d predictions for %d labels", len(preds), len(labels)))
	}
	return len(labels) > 0
}

// Accuracy returns the fraction of predictions equal to their label; NaN for no
// examples.
func Accuracy(preds, labels []float64) float64 {
	if !pair(preds, labels) {
		return math.NaN()
	}
	n := 0
	for i := range labels {
		if preds[i] == labels[i] {
			n++
		}
	}
	return float64(n) / float64(len(labels))
}

// counts returns the true positives, false positives and false negatives of class c.
func counts(preds, labels []float64, c float64) (tp, fp, fn int) {
	for i := range labels {
		p, l := preds[i] == c, labels[i] == c
		switch {
		case p && l:
			tp++
		case p:
			fp++
		case l:
			fn++
		}
	}
	return
}

// f1Of is 2·tp / (2·tp + fp + fn), and 0 when that is 0/0 (scikit-learn's
// zero_division default).
func f1Of(tp, fp, fn int) float64 {
	if tp == 0 {
		return 0
	}
	return float64(2*tp) / float64(2*tp+fp+fn)
}

// F1 returns the F1 score of class positive: the harmonic mean of its precision and
// recall. It is 0 when no label and no prediction is positive; NaN for no examples.
func F1(preds, labels []float64, positive float64) float64 {
	if !pair(preds, labels) {
		return math.NaN()
	}
	return f1Of(counts(preds, labels, positive))
}

// classes returns the distinct values of the slices, sorted.
func classes(xs ...[]float64) []float64 {
	seen := map[float64]bool{}
	var out []float64
	for _, x := range xs {
		for _, v := range x {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	sort.Float64s(out)
	return out
}

// F1Macro returns the unweighted mean of the F1 scores of every class that occurs
// among the labels or the predictions (scikit-learn's average="macro"); NaN for no
// examples.
func F1Macro(preds, labels []float64) float64 {
	if !pair(preds, labels) {
		return math.NaN()
	}
	cs := classes(labels, preds)
	var sum float64
	for _, c := range cs {
		sum += f1Of(counts(preds, labels, c))
	}
	return sum / float64(len(cs))
}

// MatthewsCorr returns the Matthews correlation coefficient, in its multi-class form
// (Gorodkin's R_K, which is the usual (tp·tn − fp·fn) / √((tp+fp)(tp+fn)(tn+fp)(tn+fn))
// for two classes). It is 0 when the predictions or the labels are all one class;
// NaN for no examples.
func MatthewsCorr(preds, labels []float64) float64 {
	if !pair(preds, labels) {
		return math.NaN()
	}
	predCount := map[float64]float64{}
	labelCount := map[float64]float64{}
	var correct float64
	for i := range labels {
		predCount[preds[i]]++
		labelCount[labels[i]]++
		if preds[i] == labels[i] {
			correct++
		}
	}
	s := float64(len(labels))
	var pt, pp, tt float64
	for _, c := range classes(labels, preds) {
		p, t := predCount[c], labelCount[c]
		pt += p * t
		pp += p * p
		tt += t * t
	}
	cov := correct*s - pt
	denom := (s*s - pp) * (s*s - tt)
	if denom == 0 {
		return 0
	}
	return cov / math.Sqrt(denom)
}

// Pearson returns the Pearson correlation coefficient of preds and labels. It is NaN
// when either side is constant or there are fewer than two examples (the
// coefficient is undefined).
func Pearson(preds, labels []float64) float64 {
	if !pair(preds, labels) || len(labels) < 2 || constant(preds) || constant(labels) {
		return math.NaN()
	}
	r := stat.Correlation(preds, labels, nil)
	return math.Max(-1, math.Min(1, r)) // rounding can step just outside
}

// Spearman returns the Spearman rank correlation: the Pearson correlation of the
// ranks, tied values sharing the mean of their ranks. It is NaN when either side is
// constant or there are fewer than two examples.
func Spearman(preds, labels []float64) float64 {
	if !pair(preds, labels) || len(labels) < 2 {
		return math.NaN()
	}
	return Pearson(Ranks(preds), Ranks(labels))
}

func constant(x []float64) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}

// Ranks returns the 1-based rank of each value of x in ascending order; tied values
// all get the mean of the ranks they span (ranks of 1, 2, 2, 3 are 1, 2.5, 2.5, 4).
func Ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && x[idx[j]] == x[idx[i]] {
			j++
		}
		mean := float64(i+1+j) / 2 // ranks i+1 .. j
		for k := i; k < j; k++ {
			r[idx[k]] = mean
		}
		i = j
	}
	return r
}
