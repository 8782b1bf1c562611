package monitor_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hypergrid-go/hypergrid/metrics"
	"github.com/hypergrid-go/hypergrid/monitor"
)

// A Progress in plain mode (what a CI log or a file gets), driven by a fake clock.
func ExampleProgress() {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p := monitor.NewProgress(os.Stdout, monitor.Options{
		Mode:  monitor.ModePlain,
		Total: 300,
		Every: 100,
		Clock: func() time.Time { return now },
	})
	for step := 1; step <= 300; step++ {
		now = now.Add(200 * time.Millisecond)
		p.Update(monitor.Update{Step: step, Loss: 3 - float64(step)/200, Tokens: 1024, LR: 1e-3})
		if step == 200 {
			p.Logf("saved checkpoint at step %d", step)
		}
	}
	p.Finish()
	// Output:
	// step 1/300 loss=2.995 lr=0.001 tok/s=5120 elapsed=0s eta=1m00s
	// step 100/300 loss=2.545 lr=0.001 tok/s=5120 elapsed=20s eta=40s
	// step 200/300 loss=2.045 lr=0.001 tok/s=5120 elapsed=40s eta=20s
	// saved checkpoint at step 200
	// step 300/300 loss=1.545 lr=0.001 tok/s=5120 elapsed=1m00s eta=0s
	// done: 300 steps in 1m00s, 5120 tok/s on average, final loss=1.545
}

func ExampleWriteEvalTable() {
	// Metric values on the GLUE 0-100 scale, as metrics.Score returns them.
	results := []metrics.TaskResult{
		{Task: "sst2", Metrics: map[string]float64{"accuracy": 91.2}},
		{Task: "mrpc", Metrics: map[string]float64{"accuracy": 85, "f1": 88.9}},
		{Task: "stsb", Metrics: map[string]float64{"pearson": 87.1, "spearman": 86.9}},
	}
	monitor.WriteEvalTable(os.Stdout, 1000, results)
	// Output:
	// eval at step 1000
	// task     accuracy     f1  pearson  spearman  score
	// mrpc        85.00  88.90        -         -  86.95
	// sst2        91.20      -        -         -  91.20
	// stsb            -      -    87.10     86.90  87.00
	// average                                      88.38
}

// Records written by a Log read back with Read; the partial line a crash leaves at the
// end is dropped.
func ExampleRead() {
	var log strings.Builder
	l := monitor.NewLog(&log)
	t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l.Train(100, t, 2.314, 1e-3, 5120)
	l.Eval(100, t.Add(time.Minute), []metrics.TaskResult{{Task: "rte", Metrics: map[string]float64{"accuracy": 61}}})
	fmt.Print(log.String())

	crashed := log.String() + `{"step":101,"kind":"tr`
	records, err := monitor.Read(strings.NewReader(crashed), "metrics.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range records {
		fmt.Println(r.Kind, r.Step, r.Loss, r.Task, r.Metrics)
	}
	// Output:
	// {"step":100,"time":"2025-01-01T00:00:00Z","kind":"train","loss":2.314,"lr":0.001,"tokens_per_s":5120}
	// {"step":100,"time":"2025-01-01T00:01:00Z","kind":"eval","task":"rte","metrics":{"accuracy":61}}
	// train 100 2.314  map[]
	// eval 100 0 rte map[accuracy:61]
}
