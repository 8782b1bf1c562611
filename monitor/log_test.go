package monitor

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/metrics"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// sampleRecords covers every field, non-finite values and a sub-millisecond time.
func sampleRecords() []Record {
	return []Record{
		{Kind: KindTrain, Step: 1, Time: t0, Loss: 10.25, LR: 1e-4, TokensPerS: 5120},
		{Kind: KindTrain, Step: 2, Time: t0.Add(1500 * time.Millisecond), Loss: math.NaN(), LR: 2e-4, TokensPerS: 5000.5,
			Metrics: map[string]float64{"grad_norm": math.Inf(1)}},
		{Kind: KindEval, Step: 2, Time: t0.Add(time.Minute + 123456789), Task: "mrpc",
			Metrics: map[string]float64{"f1": 0.889, "accuracy": 0.85}},
		{Kind: KindEval, Step: 2, Time: t0.Add(time.Minute), Task: "stsb \"quoted\" ü",
			Metrics: map[string]float64{"pearson": -0.25, "spearman": math.Inf(-1)}},
		{Kind: KindTrain, Step: 3, Loss: 0, LR: 0, TokensPerS: 0},
	}
}

// sameRecords compares records, treating NaN as equal to NaN and times with Equal.
func sameRecords(a, b []Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if !x.Time.Equal(y.Time) {
			return false
		}
		x.Time, y.Time = time.Time{}, time.Time{}
		if !sameFloat(x.Loss, y.Loss) || !sameFloat(x.LR, y.LR) || !sameFloat(x.TokensPerS, y.TokensPerS) {
			return false
		}
		x.Loss, y.Loss, x.LR, y.LR, x.TokensPerS, y.TokensPerS = 0, 0, 0, 0, 0, 0
		if len(x.Metrics) != len(y.Metrics) {
			return false
		}
		for k, v := range x.Metrics {
			if w, ok := y.Metrics[k]; !ok || !sameFloat(v, w) {
				return false
			}
		}
		x.Metrics, y.Metrics = nil, nil
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func TestLogGolden(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(&buf)
	for _, r := range sampleRecords() {
		if r.Time.IsZero() {
			r.Time = t0.Add(time.Hour)
		}
		if err := l.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "log.golden.jsonl", buf.Bytes())
}

func TestLogRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleRecords()
	before := time.Now()
	for _, r := range want {
		if err := l.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.Write(want[0]); err == nil {
		t.Error("Write after Close succeeded")
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The record written without a time got the current time.
	if stamped := got[4].Time; stamped.Before(before.Add(-time.Second)) || stamped.After(time.Now().Add(time.Second)) {
		t.Errorf("zero Time was stamped %v, want about now", stamped)
	}
	want[4].Time = got[4].Time
	if !sameRecords(got, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, want)
	}

	// Reopening appends after the existing records.
	l, err = OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Train(4, t0, 1.5, 1e-3, 100); err != nil {
		t.Fatal(err)
	}
	if err := l.Eval(4, t0, []metrics.TaskResult{{Task: "rte", Metrics: map[string]float64{"accuracy": 60}}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err = ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want)+2 || got[5].Step != 4 || got[5].Loss != 1.5 || got[6].Task != "rte" {
		t.Errorf("after reopening: %+v", got[len(want):])
	}
}

func TestOpenLogRepairsTruncatedTail(t *testing.T) {
	full := `{"step":1,"kind":"train","loss":2,"lr":0,"tokens_per_s":0}` + "\n"
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", ""},
		{"complete", full, full},
		{"partial", full + `{"step":2,"ki`, full},
		{"only partial", `{"step":2,"ki`, ""},
		{"long partial", full + strings.Repeat("x", 10000), full},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.jsonl")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := OpenLog(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("file after OpenLog = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOpenLogErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenLog(filepath.Join(dir, "missing", "m.jsonl")); err == nil {
		t.Error("OpenLog in a missing directory succeeded")
	}
	if _, err := OpenLog(dir); err == nil {
		t.Error("OpenLog on a directory succeeded")
	}
}

func TestLogRejectsInvalidRecords(t *testing.T) {
	tests := []struct {
		rec  Record
		want string
	}{
		{Record{Kind: "checkpoint"}, `unknown record kind "checkpoint"`},
		{Record{Kind: KindTrain, Step: -1}, "step -1 is negative"},
		{Record{Kind: KindTrain, Task: "mrpc"}, "only eval records name a task"},
		{Record{Kind: KindEval, Step: 5}, "eval record at step 5 has no task"},
		{Record{Kind: KindEval, Task: "mrpc"}, `task "mrpc" at step 0 has no metrics`},
		{Record{Kind: KindEval, Task: "mrpc", Metrics: map[string]float64{"": 1}}, "empty name"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		err := NewLog(&buf).Write(tt.rec)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Write(%+v) error = %v, want it to contain %q", tt.rec, err, tt.want)
		}
		if buf.Len() != 0 {
			t.Errorf("Write(%+v) wrote %q", tt.rec, buf.String())
		}
	}
	werr := errors.New("disk full")
	if err := NewLog(failWriter{werr}).Write(sampleRecords()[0]); !errors.Is(err, werr) {
		t.Errorf("write failure: got %v, want it to wrap %v", err, werr)
	}
}

// TestLogConcurrentWrites checks that lines from concurrent writers never interleave.
func TestLogConcurrentWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.jsonl")
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				task := fmt.Sprintf("task%d", g)
				if err := l.Write(Record{Kind: KindEval, Step: i, Time: t0, Task: task, Metrics: map[string]float64{"accuracy": float64(i) / 50}}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 200 {
		t.Errorf("read %d records, want 200", len(got))
	}
}
