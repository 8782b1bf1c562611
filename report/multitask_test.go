package report

import (
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/metrics"
	"github.com/hypergrid-go/hypergrid/sweep"
)

// side makes a configuration's runs: one result per seed with the given task scores.
func side(params int64, scores ...map[string]float64) Side {
	s := Side{Params: params}
	for i, sc := range scores {
		r := &sweep.Result{Run: string(rune('a' + i)), Scores: sc}
		for _, task := range []string{"sst2", "mrpc", "stsb"} {
			if v, ok := sc[task]; ok {
				r.Tasks = append(r.Tasks, metrics.TaskResult{Task: task, Metrics: map[string]float64{"accuracy": v}})
			}
		}
		s.Runs = append(s.Runs, r.Run)
		s.Results = append(s.Results, r)
	}
	return s
}

func TestCompareTask(t *testing.T) {
	tests := []struct {
		name    string
		m, s    []float64
		verdict string
	}{
		{"better", []float64{80, 82}, []float64{78, 79}, VerdictNotWorse},
		{"equal", []float64{80}, []float64{80}, VerdictNotWorse},
		{"worse beyond noise", []float64{70, 71, 70.5}, []float64{80, 80.5, 79.5}, VerdictNegative},
		{"worse within noise", []float64{78, 82}, []float64{80, 81}, VerdictWithinNoise},
		{"one seed each", []float64{70}, []float64{80}, VerdictUnknownNoise},
		{"one multi seed borrows the per-task variance", []float64{70}, []float64{80, 81}, VerdictNegative},
		{"one multi seed within borrowed noise", []float64{79}, []float64{75, 85}, VerdictWithinNoise},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := compareTask("t", tt.m, tt.s)
			if row.Verdict != tt.verdict || row.Negative != (tt.verdict == VerdictNegative) {
				t.Errorf("verdict %q (diff %.2f, noise %.2f), want %q", row.Verdict, row.Diff, row.Noise, tt.verdict)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	multi := side(100, map[string]float64{"sst2": 90, "mrpc": 70, "stsb": 50}, map[string]float64{"sst2": 91, "mrpc": 71, "stsb": 52})
	sst := side(80, map[string]float64{"sst2": 88}, map[string]float64{"sst2": 89})
	mrpc := side(80, map[string]float64{"mrpc": 80}, map[string]float64{"mrpc": 80.5})
	rep, err := Compare(multi, []Side{sst, mrpc})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tasks) != 2 || rep.Tasks[0].Task != "sst2" || rep.Tasks[1].Task != "mrpc" || strings.Join(rep.Uncovered, ",") != "stsb" {
		t.Fatalf("report %+v", rep)
	}
	if rep.Tasks[0].Negative || !rep.Tasks[1].Negative || rep.SingleModels != 2 || rep.SingleParams != 160 {
		t.Errorf("report %+v", rep)
	}
	md := rep.Markdown()
	for _, want := range []string{
		"| sst2 | 90.50 ± 0.71 | 88.50 ± 0.71 | +2.00 | 0.71 | 80 | no loss |",
		"| mrpc | 70.50 ± 0.71 | 80.25 ± 0.35 | -9.75 | 0.56 | 80 | **negative transfer** |",
		"| average | 80.50 | 84.38 | -3.88 |",
		"Parameters: 1 multi-task model, 100; 2 per-task models, 160 together (1.60×).",
		"Tasks without a per-task run: stsb.",
		"more than 2 standard errors",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	// A task covered twice, or a per-task run of another task, is an error.
	if _, err := Compare(multi, []Side{sst, sst}); err == nil || !strings.Contains(err.Error(), "covered by two") {
		t.Errorf("a task covered twice: %v", err)
	}
	other := side(10, map[string]float64{"qqp": 1})
	other.Results[0].Tasks = []metrics.TaskResult{{Task: "qqp"}}
	if _, err := Compare(multi, []Side{other}); err == nil || !strings.Contains(err.Error(), "none of the multi-task model's tasks") {
		t.Errorf("a per-task run of another task: %v", err)
	}
}
