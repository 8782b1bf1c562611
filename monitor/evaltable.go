package monitor

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/hypergrid-go/hypergrid/metrics"
)

// WriteEvalTable writes results as a table: a header line naming the step, one row per
// task (sorted by name) with its metrics and score ([metrics.TaskScore]), and a last row
// with the GLUE-style average ([metrics.Average]). Metric columns are the union of the
// tasks' metric names, the scored ones ([metrics.Scored]) first; "-" marks a metric a
// task does not have. Scored metrics, scores and the average are on the GLUE 0-100
// scale, as results hold them, and are printed with 2 decimals; other values (a loss,
// say) are printed with 4.
//
//	eval at step 1000
//	task     accuracy     f1  pearson  spearman  score
//	mrpc        85.00  88.90        -         -  86.95
//	sst2        91.20      -        -         -  91.20
//	stsb            -      -    87.10     86.90  87.00
//	average                                      88.38
func WriteEvalTable(w io.Writer, step int, results []metrics.TaskResult) error {
	_, err := io.WriteString(w, formatEvalTable(step, results))
	return err
}

// formatEvalTable returns the text WriteEvalTable writes.
func formatEvalTable(step int, results []metrics.TaskResult) string {
	if len(results) == 0 {
		return fmt.Sprintf("eval at step %d: no results\n", step)
	}
	sorted := slices.Clone(results)
	slices.SortStableFunc(sorted, func(a, b metrics.TaskResult) int { return strings.Compare(a.Task, b.Task) })

	seen := map[string]bool{}
	var others []string
	for _, r := range sorted {
		for name := range r.Metrics {
			if !seen[name] {
				seen[name] = true
				if !metrics.Scored(name) {
					others = append(others, name)
				}
			}
		}
	}
	slices.Sort(others)
	var cols []string
	for _, name := range metrics.Names() {
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
				row = append(row, formatMetric(c, v))
			} else {
				row = append(row, "-")
			}
		}
		if s, ok := metrics.TaskScore(r); ok {
			row = append(row, formatScore(s))
		} else {
			row = append(row, "-")
		}
		rows = append(rows, row)
	}
	if avg, ok := metrics.Average(sorted); ok {
		row := make([]string, len(header))
		row[0] = "average"
		row[len(row)-1] = formatScore(avg)
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

// formatScore prints a value on the 0-100 scale with 2 decimals (non-finite values by
// name).
func formatScore(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%.2f", v)
}

// formatMetric prints the value of the metric called name: a scored metric as
// [formatScore] does, any other value with 4 decimals.
func formatMetric(name string, v float64) string {
	if metrics.Scored(name) || math.IsNaN(v) || math.IsInf(v, 0) {
		return formatScore(v)
	}
	return fmt.Sprintf("%.4f", v)
}
