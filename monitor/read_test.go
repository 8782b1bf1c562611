package monitor

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

const (
	trainLine = `{"step":1,"time":"2025-03-01T12:00:00Z","kind":"train","loss":2.5,"lr":0.001,"tokens_per_s":100}`
	evalLine  = `{"step":1,"kind":"eval","task":"rte","metrics":{"accuracy":0.5}}`
)

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		records int    // records returned (also with an error: those before the bad line)
		err     string // substring of the error; "" for none
	}{
		{"empty", "", 0, ""},
		{"two lines", trainLine + "\n" + evalLine + "\n", 2, ""},
		{"no final newline", trainLine + "\n" + evalLine, 2, ""},
		{"crlf and blank lines", trainLine + "\r\n\r\n  \n" + evalLine + "\r\n", 2, ""},
		{"truncated last line", trainLine + "\n" + evalLine[:20], 1, ""},
		{"truncated only line", trainLine[:30], 0, ""},
		{"non-finite strings", `{"step":3,"kind":"train","loss":"NaN","lr":"+Inf","tokens_per_s":"-Inf"}` + "\n", 1, ""},
		{"train without lr", `{"step":3,"kind":"train","loss":1}` + "\n", 1, ""},
		{"corrupt middle line", trainLine + "\n" + evalLine[:20] + "\n" + evalLine + "\n", 1, "m.jsonl:2: incomplete JSON object"},
		{"garbage middle line", trainLine + "\n{]\n" + evalLine + "\n", 1, "m.jsonl:2: not valid JSON at byte 2"},
		{"corrupt complete last line", trainLine + "\n" + `{"step":2}x` + "\n", 1, "m.jsonl:2: text after the JSON object"},
		{"unknown key", `{"step":1,"kind":"train","loss":1,"los":2}` + "\n", 0, `m.jsonl:1: unknown field "los" (known keys:`},
		{"missing kind", `{"step":1,"loss":1}` + "\n", 0, `m.jsonl:1: missing "kind"`},
		{"missing step", "\n" + `{"kind":"train","loss":1}` + "\n", 0, `m.jsonl:2: missing "step"`},
		{"unknown kind", `{"step":1,"kind":"ckpt"}` + "\n", 0, `unknown record kind "ckpt"`},
		{"train without loss", `{"step":1,"kind":"train"}` + "\n", 0, `train record without "loss"`},
		{"null loss", `{"step":1,"kind":"train","loss":null}` + "\n", 0, `train record without "loss"`},
		{"eval without task", `{"step":1,"kind":"eval","metrics":{"a":1}}` + "\n", 0, "has no task"},
		{"eval without metrics", `{"step":1,"kind":"eval","task":"a"}` + "\n", 0, "has no metrics"},
		{"eval with loss", `{"step":1,"kind":"eval","task":"a","metrics":{"a":1},"loss":1}` + "\n", 0, `eval record with "loss"`},
		{"null metric", `{"step":1,"kind":"eval","task":"a","metrics":{"a":null}}` + "\n", 0, "null is not a number"},
		{"bad float string", `{"step":1,"kind":"train","loss":"big"}` + "\n", 0, `"big" is not a number`},
		{"fractional step", `{"step":1.5,"kind":"train","loss":1}` + "\n", 0, `"step" has the wrong type`},
		{"negative step", `{"step":-1,"kind":"train","loss":1}` + "\n", 0, "step -1 is negative"},
		{"bad time", `{"step":1,"time":"yesterday","kind":"train","loss":1}` + "\n", 0, `"time" "yesterday" is not an RFC 3339 time`},
		{"time out of range", `{"step":1,"time":"0000-01-01T00:00:00+01:00","kind":"train","loss":1}` + "\n", 0, "outside the years 0000-9999"},
		{"array", "[1,2]\n", 0, "must be a JSON object, not a JSON array"},
		{"line too long", strings.Repeat(" ", maxLineBytes+10) + "\n", 0, "m.jsonl:1: line longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tt.input), "m.jsonl")
			if len(got) != tt.records {
				t.Errorf("got %d records, want %d", len(got), tt.records)
			}
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error = %v, want it to contain %q", err, tt.err)
			case tt.err != "":
				if le := (*LineError)(nil); !errors.As(err, &le) || le.File != "m.jsonl" {
					t.Errorf("error %v is not a *LineError for m.jsonl", err)
				}
			}
		})
	}
}

func TestReadValues(t *testing.T) {
	got, err := Read(strings.NewReader(trainLine+"\n"+`{"step":3,"kind":"train","loss":"NaN","lr":"+Inf","tokens_per_s":"-Inf"}`+"\n"+evalLine), "m")
	if err != nil {
		t.Fatal(err)
	}
	if r := got[0]; r.Kind != KindTrain || r.Step != 1 || r.Loss != 2.5 || r.LR != 0.001 || r.TokensPerS != 100 || r.Time.Unix() != t0.Unix() {
		t.Errorf("train record = %+v", r)
	}
	if r := got[1]; !math.IsNaN(r.Loss) || !math.IsInf(r.LR, 1) || !math.IsInf(r.TokensPerS, -1) {
		t.Errorf("non-finite record = %+v", r)
	}
	if r := got[2]; r.Kind != KindEval || r.Task != "rte" || r.Metrics["accuracy"] != 0.5 || !r.Time.IsZero() {
		t.Errorf("eval record = %+v", r)
	}
}

func TestReadErrors(t *testing.T) {
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	_, err := Read(iotest.TimeoutReader(strings.NewReader(strings.Repeat(trainLine+"\n", 200))), "slow")
	if err == nil || !strings.Contains(err.Error(), "slow:") {
		t.Errorf("read failure: %v, want an error naming the input", err)
	}
}
