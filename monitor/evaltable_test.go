package monitor

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/metrics"
)

// TestEvalTableScores: the score column and the average row are package metrics'
// TaskScore and Average, printed with 2 decimals; a task without a scored metric
// shows "-" and does not count.
func TestEvalTableScores(t *testing.T) {
	results := []metrics.TaskResult{
		{Task: "cola", Metrics: map[string]float64{"matthews_corr": -12.345}},
		{Task: "mrpc", Metrics: map[string]float64{"accuracy": 80, "f1": 90, "loss": 0.5}},
		{Task: "stsb", Metrics: map[string]float64{"pearson": math.NaN(), "spearman": 50}},
		{Task: "zz", Metrics: map[string]float64{"loss": 2}},
	}
	lines := strings.Split(strings.TrimSuffix(formatEvalTable(7, results), "\n"), "\n")
	if len(lines) != 7 || lines[0] != "eval at step 7" {
		t.Fatalf("table:\n%s", strings.Join(lines, "\n"))
	}
	last := func(line string) string { f := strings.Fields(line); return f[len(f)-1] }
	for i, r := range results {
		want := "-"
		if s, ok := metrics.TaskScore(r); ok {
			want = fmt.Sprintf("%.2f", s)
		}
		if got := last(lines[2+i]); got != want {
			t.Errorf("%s: score %s, want %s", r.Task, got, want)
		}
	}
	avg, _ := metrics.Average(results)
	if got, want := lines[6], fmt.Sprintf("%.2f", avg); !strings.HasPrefix(got, "average") || last(got) != want || want != "32.55" {
		t.Errorf("average row %q, want %s (32.55)", got, want)
	}
}

func TestEvalTableGolden(t *testing.T) {
	tests := []struct {
		name    string
		results []metrics.TaskResult
	}{
		{"glue", evalResults},
		{"unscored", []metrics.TaskResult{
			{Task: "a_task_with_a_long_name", Metrics: map[string]float64{"loss": 1.25, "perplexity": math.Inf(1)}},
			{Task: "b", Metrics: map[string]float64{"matthews_corr": math.NaN()}},
		}},
		{"empty", nil},
	}
	var out strings.Builder
	for _, tt := range tests {
		out.WriteString("# " + tt.name + "\n")
		if err := WriteEvalTable(&out, 1000, tt.results); err != nil {
			t.Fatal(err)
		}
	}
	checkGolden(t, "evaltable.golden", []byte(out.String()))
}
