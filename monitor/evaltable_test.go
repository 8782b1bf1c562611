package monitor

import (
	"math"
	"strings"
	"testing"
)

func TestGLUEScore(t *testing.T) {
	tests := []struct {
		name    string
		metrics map[string]float64
		want    float64
		ok      bool
	}{
		{"accuracy", map[string]float64{"accuracy": 0.9}, 0.9, true},
		{"f1 and accuracy", map[string]float64{"accuracy": 0.8, "f1": 0.9}, 0.85, true},
		{"correlations", map[string]float64{"pearson": 0.5, "spearman": 0.7}, 0.6, true},
		{"mcc", map[string]float64{"matthews_corr": -0.2}, -0.2, true},
		{"unscored ignored", map[string]float64{"accuracy": 0.5, "loss": 3}, 0.5, true},
		{"only unscored", map[string]float64{"loss": 3}, 0, false},
		{"none", nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := GLUEScore(tt.metrics)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: GLUEScore = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
	avg, ok := GLUEAverage([]TaskResult{
		{Task: "a", Metrics: map[string]float64{"accuracy": 0.5}},
		{Task: "b", Metrics: map[string]float64{"f1": 1, "accuracy": 0.8}},
		{Task: "c", Metrics: map[string]float64{"loss": 9}},
	})
	if !ok || math.Abs(avg-0.7) > 1e-12 {
		t.Errorf("GLUEAverage = %v, %v; want 0.7, true", avg, ok)
	}
	if _, ok := GLUEAverage(nil); ok {
		t.Error("GLUEAverage(nil) ok")
	}
}

func TestEvalTableGolden(t *testing.T) {
	tests := []struct {
		name    string
		results []TaskResult
	}{
		{"glue", evalResults},
		{"unscored", []TaskResult{
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
