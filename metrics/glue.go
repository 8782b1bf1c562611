package metrics

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// TaskScore returns a task's GLUE score on the 0-100 scale: the mean of its metric
// values (natural scale, as Compute returns them) times 100. MRPC's score is
// (F1 + accuracy) / 2, STS-B's (Pearson + Spearman) / 2, CoLA's its Matthews
// correlation. A NaN value (an undefined correlation, from constant predictions)
// counts as 0: a model that always predicts the same value has no correlation with
// the labels. It is an error when values is empty or names an unknown metric.
func TaskScore(values map[string]float64) (float64, error) {
	if len(values) == 0 {
		return 0, fmt.Errorf("no metric values to score")
	}
	var sum float64
	for _, name := range sortedNames(values) {
		if !Known(name) {
			return 0, unknown(name)
		}
		if v := values[name]; !math.IsNaN(v) {
			sum += v
		}
	}
	return 100 * sum / float64(len(values)), nil
}

// Average returns the GLUE-style average on the 0-100 scale: the mean over tasks of
// their TaskScore. tasks maps a task's name to its metric values. It is an error when
// there is no task or a task's values cannot be scored (the error names the task).
func Average(tasks map[string]map[string]float64) (float64, error) {
	if len(tasks) == 0 {
		return 0, fmt.Errorf("no tasks to average")
	}
	var sum float64
	for _, task := range sortedNames(tasks) {
		s, err := TaskScore(tasks[task])
		if err != nil {
			return 0, fmt.Errorf("task %s: %w", task, err)
		}
		sum += s
	}
	return sum / float64(len(tasks)), nil
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Format writes a task's metric values as "name value" pairs in name order on the
// 0-100 scale with two decimals ("accuracy 85.00 f1 89.00"), NaN as "nan".
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
