package metrics

import (
	"math"
	"strings"
	"testing"
)

func TestScore(t *testing.T) {
	tests := []struct {
		name          string
		metric        string
		preds, labels []float64
		want          float64
		err           string
	}{
		{"accuracy", "accuracy", binPreds, binLabels, 70, ""},
		{"f1", "f1", binPreds, binLabels, 600.0 / 9, ""},
		{"matthews_corr", "matthews_corr", binPreds, binLabels, 100 / math.Sqrt(6), ""},
		{"negative correlation", "pearson", []float64{1, 2, 3}, []float64{3, 2, 1}, -100, ""},
		{"constant prediction: undefined pearson counts as 0", "pearson", []float64{2, 2, 2}, []float64{1, 2, 3}, 0, ""},
		{"constant prediction: undefined spearman counts as 0", "spearman", []float64{2, 2, 2}, []float64{1, 2, 3}, 0, ""},
		{"unknown", "bleu", binPreds, binLabels, 0, `unknown metric "bleu"`},
		{"empty", "accuracy", nil, nil, 0, "no examples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Score(tt.metric, tt.preds, tt.labels)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Score = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestScored(t *testing.T) {
	for _, name := range []string{"accuracy", "f1", "f1_macro", "matthews_corr", "pearson", "spearman"} {
		if !Scored(name) {
			t.Errorf("Scored(%q) = false", name)
		}
	}
	for _, name := range []string{"loss", "perplexity", "", "Accuracy"} {
		if Scored(name) {
			t.Errorf("Scored(%q) = true", name)
		}
	}
}

func TestTaskScore(t *testing.T) {
	tests := []struct {
		name    string
		metrics map[string]float64
		want    float64
		ok      bool
	}{
		{"accuracy", map[string]float64{"accuracy": 90}, 90, true},
		{"MRPC: f1 and accuracy", map[string]float64{"accuracy": 85, "f1": 90}, 87.5, true},
		{"STS-B: correlations", map[string]float64{"pearson": 50, "spearman": 70}, 60, true},
		{"CoLA: negative mcc", map[string]float64{"matthews_corr": -20}, -20, true},
		{"f1_macro", map[string]float64{"f1_macro": 40, "accuracy": 60}, 50, true},
		{"a loss does not count", map[string]float64{"accuracy": 50, "loss": 3}, 50, true},
		{"an undefined value counts as 0", map[string]float64{"pearson": math.NaN(), "spearman": 80}, 40, true},
		{"only unscored", map[string]float64{"loss": 3}, 0, false},
		{"empty", map[string]float64{}, 0, false},
		{"nil", nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := TaskScore(TaskResult{Task: "t", Metrics: tt.metrics})
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: TaskScore = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestAverage(t *testing.T) {
	tests := []struct {
		name    string
		results []TaskResult
		want    float64
		ok      bool
	}{
		{"GLUE tasks", []TaskResult{
			{Task: "mrpc", Metrics: map[string]float64{"f1": 90, "accuracy": 85}},
			{Task: "stsb", Metrics: map[string]float64{"pearson": 88, "spearman": 87}},
			{Task: "cola", Metrics: map[string]float64{"matthews_corr": 50}},
		}, 75, true},
		{"a task without a scored metric does not count", []TaskResult{
			{Task: "a", Metrics: map[string]float64{"accuracy": 50}},
			{Task: "b", Metrics: map[string]float64{"f1": 100, "accuracy": 80}},
			{Task: "c", Metrics: map[string]float64{"loss": 9}},
			{Task: "d"},
		}, 70, true},
		{"undefined correlations count as 0", []TaskResult{
			{Task: "stsb", Metrics: map[string]float64{"pearson": math.NaN(), "spearman": math.NaN()}},
			{Task: "sst2", Metrics: map[string]float64{"accuracy": 90}},
		}, 45, true},
		{"no scored task", []TaskResult{{Task: "c", Metrics: map[string]float64{"loss": 9}}}, 0, false},
		{"no task", nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := Average(tt.results)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: Average = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// TestScoreThenAverage: values from Score, gathered in TaskResults, average as GLUE
// does, with a constant-prediction regression task counting as 0.
func TestScoreThenAverage(t *testing.T) {
	var results []TaskResult
	for _, task := range []struct {
		name          string
		metrics       []string
		preds, labels []float64
	}{
		{"rte", []string{"accuracy"}, []float64{1, 0, 1, 1}, []float64{1, 0, 0, 1}},
		{"stsb", []string{"pearson", "spearman"}, []float64{3, 3, 3}, []float64{1, 2, 5}},
	} {
		r := TaskResult{Task: task.name, Metrics: map[string]float64{}}
		for _, m := range task.metrics {
			v, err := Score(m, task.preds, task.labels)
			if err != nil {
				t.Fatal(err)
			}
			r.Metrics[m] = v
		}
		results = append(results, r)
	}
	if avg, ok := Average(results); !ok || math.Abs(avg-37.5) > 1e-9 {
		t.Errorf("Average = %v, %v; want 37.5, true", avg, ok)
	}
}
