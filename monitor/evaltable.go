package monitor

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// TaskResult is one task's evaluation metrics, as the evaluation code computes them
// (fractions for accuracy and F1, coefficients in [-1, 1] for correlations).
type TaskResult struct {
	Task    string
	Metrics map[string]float64
}

// scoreMetrics are the metric names that count towards a task's GLUE-style score, in
// the order the table shows them (names shared with package data).
var scoreMetrics = []string{"accuracy", "f1", "f1_macro", "matthews_corr", "pearson", "spearman"}

// GLUEScore returns a task's score as GLUE computes it: the mean of its accuracy, f1,
// f1_macro, matthews_corr, pearson and spearman metrics (for example MRPC's F1 and
// accuracy, STS-B's Pearson and Spearman). Other metrics (an eval loss, say) do not
// count. ok is false when the task has none of these metrics.
func GLUEScore(metrics map[string]float64) (score float64, ok bool) {
	n := 0
	for _, name := range scoreMetrics {
		if v, found := metrics[name]; found {
			score += v
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return score / float64(n), true
}

// GLUEAverage returns the mean of the tasks' [GLUEScore] values over the tasks that
// have one; ok is false when none has.
func GLUEAverage(results []TaskResult) (avg float64, ok bool) {
	n := 0
	for _, r := range results {
		if s, has := GLUEScore(r.Metrics); has {
			avg += s
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return avg / float64(n), true
}

// WriteEvalTable writes results as a table: a header line naming the step, one row per
// task (sorted by name) with its metrics and score, and a last row with the GLUE-style
// average. Metric columns are the union of the tasks' metric names, the scored ones
// first; "-" marks a metric a task does not have. Values are printed with 4 decimals.
//
//	eval at step 1000
//	task     accuracy      f1  pearson  spearman   score
//	mrpc       0.8500  0.8890        -         -  0.8695
//	sst2       0.9120       -        -         -  0.9120
//	stsb            -       -   0.8710    0.8690  0.8700
//	average                                       0.8838
func WriteEvalTable(w io.Writer, step int, results []TaskResult) error {
	_, err := io.WriteString(w, formatEvalTable(step, results))
	return err
}

// formatEvalTable returns the text WriteEvalTable writes.
func formatEvalTable(step int, results []TaskResult) string {
	if len(results) == 0 {
		return fmt.Sprintf("eval at step %d: no results\n", step)
	}
	sorted := slices.Clone(results)
	slices.SortStableFunc(sorted, func(a, b TaskResult) int { return strings.Compare(a.Task, b.Task) })

	seen := map[string]bool{}
	var others []string
	for _, r := range sorted {
		for name := range r.Metrics {
			if !seen[name] {
				seen[name] = true
				if !slices.Contains(scoreMetrics, name) {
					others = append(others, name)
				}
			}
		}
	}
	slices.Sort(others)
	var cols []string
	for _, name := range scoreMetrics {
		if seen[name] {
			cols = append(cols, name)
		}
	}
	cols = append(cols, others...)

	header := append([]string{"task"}, cols...)
	header = append(header, "score")
	rows := [][]string{header}
	for _, r := range sorted {
		row := []string{r.Task}
		for _, c := range cols {
			if v, ok := r.Metrics[c]; ok {
				row = append(row, formatMetric(v))
			} else {
				row = append(row, "-")
			}
		}
		if s, ok := GLUEScore(r.Metrics); ok {
			row = append(row, formatMetric(s))
		} else {
			row = append(row, "-")
		}
		rows = append(rows, row)
	}
	if avg, ok := GLUEAverage(sorted); ok {
		row := make([]string, len(header))
		row[0] = "average"
		row[len(row)-1] = formatMetric(avg)
		rows = append(rows, row)
	}

	widths := make([]int, len(header))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], len([]rune(cell)))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "eval at step %d\n", step)
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-len([]rune(cell)))
			switch {
			case i == 0:
				line.WriteString(cell + pad)
			default:
				line.WriteString("  " + pad + cell)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// formatMetric prints a metric value with 4 decimals (non-finite values by name).
func formatMetric(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%.4f", v)
}
