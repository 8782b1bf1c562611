package main

import (
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/data"
)

func lookupTask(t testing.TB, name string) *data.TaskDef {
	def, ok := data.Lookup(name)
	if !ok {
		t.Fatalf("task %s is not registered", name)
	}
	return &def
}

func TestPredictInputs(t *testing.T) {
	for _, tc := range []struct {
		name, task string
		args       []string
		stdin      string
		want       int    // number of inputs
		wantText   string // first input's text
		wantErr    string
	}{
		{name: "arguments", task: "sentiment", args: []string{"good film", "bad film"}, want: 2, wantText: "sentence: good film"},
		{name: "jsonl", task: "paraphrase", stdin: "\n{\"sentence1\": \"a\", \"sentence2\": \"b\"}\n\n{\"sentence1\": \"c\", \"sentence2\": \"d\"}\n", want: 2, wantText: "sentence1: a sentence2: b"},
		{name: "arguments for two fields", task: "paraphrase", args: []string{"a"}, wantErr: "has 2 input fields"},
		{name: "bad json names the line", task: "sentiment", stdin: "{\"sentence\": \"x\"}\n\n{oops\n", wantErr: "stdin:3:"},
		{name: "null", task: "sentiment", stdin: "null\n", wantErr: "stdin:1:"},
		{name: "number value", task: "sentiment", stdin: "{\"sentence\": 3}\n", wantErr: "stdin:1:"},
		{name: "missing field names the line", task: "paraphrase", stdin: "\n{\"sentence1\": \"a\"}\n", wantErr: "stdin:2: task paraphrase needs"},
		{name: "unknown field", task: "sentiment", stdin: "{\"sentence\": \"a\", \"label\": \"1\"}\n", wantErr: "no input field \"label\""},
		{name: "empty stdin", task: "sentiment", stdin: "\n \n", wantErr: "no input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def := lookupTask(t, tc.task)
			got, err := predictInputs(def, tc.args, strings.NewReader(tc.stdin))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want || !strings.HasSuffix(got[0], tc.wantText) || !strings.HasPrefix(got[0], def.Prefix) {
				t.Fatalf("inputs = %q, want %d starting with %q and ending with %q", got, tc.want, def.Prefix, tc.wantText)
			}
		})
	}
}

// FuzzPredictInputs checks that any stdin either gives one input text per non-blank line
// or an error naming a stdin line, never a panic.
func FuzzPredictInputs(f *testing.F) {
	for _, s := range []string{
		"{\"sentence1\": \"a\", \"sentence2\": \"b\"}\n",
		"\n\n{\"sentence1\": \"a\"}\n",
		"{\"sentence1\": \"a\", \"sentence2\": \"b\", \"x\": \"y\"}",
		"[1,2]\n{}\n",
		"null",
		"",
	} {
		f.Add(s)
	}
	def := lookupTask(f, "paraphrase")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := predictInputs(def, nil, strings.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "stdin") {
				t.Fatalf("error %q does not say where", err)
			}
			return
		}
		lines := 0
		for _, l := range strings.Split(in, "\n") {
			if strings.TrimSpace(l) != "" {
				lines++
			}
		}
		if len(got) != lines {
			t.Fatalf("%d inputs from %d non-blank lines", len(got), lines)
		}
		for _, s := range got {
			if !strings.HasPrefix(s, def.Prefix) {
				t.Fatalf("input %q lacks the prefix %q", s, def.Prefix)
			}
		}
	})
}
