package metrics

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// TaskResult is one task's evaluation: the task's name and its metric values on the
// GLUE 0-100 scale (as [Score] returns them), keyed by metric name. Metrics may also
// hold values that are not GLUE metrics, such as an eval loss; they do not count
// towards the task's score.
type TaskResult struct {
	Task    string
	Metrics map[string]float64
}

// Score returns the metric called name (one of [Names]) of preds against labels on
// the GLUE 0-100 scale: [Compute]'s value times 100.
//
// A metric that is undefined (NaN: a Pearson or Spearman correlation where one side
// is constant, as when a model predicts the same value for every example) counts as
// 0, so such a model shows as uninformative rather than as a missing number. This is
// the package's one rule for undefined values; [TaskScore] and [Average] apply it
// too. Score's errors are Compute's.
func Score(name string, preds, labels []float64) (float64, error) {
	v, err := Compute(name, preds, labels)
	if err != nil {
		return 0, err
	}
	return scaled(v), nil
}

// scaled maps a natural-scale metric value to the 0-100 scale, NaN to 0.
func scaled(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return 100 * v
}

// Scored reports whether the metric called name counts towards a task's score: it
// does when it is one of [Names] (accuracy, f1, f1_macro, matthews_corr, pearson,
// spearman); other values a task reports, such as a loss, do not.
func Scored(name string) bool { return Known(name) }

// TaskScore returns r's score as GLUE computes it: the mean of its [Scored] metric
// values (on the 0-100 scale), for example MRPC's (F1 + accuracy) / 2, STS-B's
// (Pearson + Spearman) / 2 and CoLA's Matthews correlation. A NaN value counts as 0
// (see [Score]). ok is false when r has no scored metric.
func TaskScore(r TaskResult) (score float64, ok bool) {
	n := 0
	for _, name := range Names() {
		if v, found := r.Metrics[name]; found {
			if !math.IsNaN(v) {
				score += v
			}
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return score / float64(n), true
}

// Average returns the GLUE-style average on the 0-100 scale: the mean of the
// [TaskScore] of the results that have one. A result without a scored metric does
// not count; ok is false when none has one.
func Average(results []TaskResult) (avg float64, ok bool) {
	n := 0
	for _, r := range results {
		if s, has := TaskScore(r); has {
			avg += s
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return avg / float64(n), true
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Format writes metric values on their natural scale (as [Compute] and [Evaluate]
// return them) as "name value" pairs in name order on the 0-100 scale with two
// decimals ("accuracy 85.00 f1 89.00"), NaN as "nan".
func Format(values map[string]float64) string {
	var b strings.Builder
	for i, n := range sortedNames(values) {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := values[n]
		if math.IsNaN(v) {
			fmt.Fprintf(&b, "%s nan", n)
		} else {
			fmt.Fprintf(&b, "%s %.2f", n, 100*v)
		}
	}
	return b.String()
}
