package data

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func validDef() TaskDef {
	return TaskDef{
		Name: "reviews", Prefix: "reviews", Format: FormatTSV,
		Inputs:     []Field{{Name: "sentence"}},
		Label:      "label",
		LabelWords: []string{"negative", "positive"},
		Metrics:    []string{MetricAccuracy},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*TaskDef)
		want   []string // substrings of the error; none means valid
	}{
		{"valid", func(*TaskDef) {}, nil},
		{"no name", func(d *TaskDef) { d.Name = "" }, []string{"name is empty"}},
		{"space in name", func(d *TaskDef) { d.Name = "my task" }, []string{`use a name like "my_task"`}},
		{"bad format", func(d *TaskDef) { d.Format = "xlsx" }, []string{`format is "xlsx": use "tsv", "jsonl" or "csv"`}},
		{"csv with tsv settings", func(d *TaskDef) { d.Format = FormatCSV; d.TSV.Header = HeaderAbsent }, []string{"tsv settings given for a csv task"}},
		{"no format", func(d *TaskDef) { d.Format = "" }, []string{"format is empty"}},
		{"bad header", func(d *TaskDef) { d.TSV.Header = "yes" }, []string{`tsv.header is "yes"`}},
		{"absent header without columns", func(d *TaskDef) { d.TSV.Header = HeaderAbsent }, []string{"tsv.columns is empty"}},
		{"absent header, column not listed", func(d *TaskDef) {
			d.TSV = TSVLayout{Header: HeaderAbsent, Columns: []string{"text", "label"}}
		}, []string{`inputs[0]: column "sentence" is not in tsv.columns`}},
		{"columns with header", func(d *TaskDef) { d.TSV.Columns = []string{"sentence", "label"} }, []string{"tsv.columns is set but the file has a header"}},
		{"jsonl with tsv settings", func(d *TaskDef) { d.Format = FormatJSONL; d.TSV.Header = HeaderAbsent }, []string{"tsv settings given for a jsonl task"}},
		{"no inputs", func(d *TaskDef) { d.Inputs = nil }, []string{"inputs is empty"}},
		{"duplicate field", func(d *TaskDef) { d.Inputs = append(d.Inputs, Field{Name: "sentence", Column: "x"}) }, []string{`inputs[1].name "sentence" is used twice`}},
		{"colon in field", func(d *TaskDef) { d.Inputs[0].Name = "a:b" }, []string{"contains white space or a colon"}},
		{"unknown transform", func(d *TaskDef) { d.Transform = "nope" }, []string{`transform "nope" is not registered (known: wsc_spans)`}},
		{"no label", func(d *TaskDef) { d.Label = "" }, []string{"label is empty"}},
		{"one class", func(d *TaskDef) { d.LabelWords = d.LabelWords[:1] }, []string{"needs at least two"}},
		{"numeric label word", func(d *TaskDef) { d.LabelWords = []string{"1", "0"} }, []string{`label_words[0] is "1", which reads as class id 1`}},
		{"label values count", func(d *TaskDef) { d.LabelValues = []string{"n"} }, []string{"label_values has 1 entries but label_words has 2"}},
		{"duplicate label word", func(d *TaskDef) { d.LabelWords = []string{"a", "a"} }, []string{`label_words has "a" twice`}},
		{"round on classification", func(d *TaskDef) { d.Round = 0.2 }, []string{"apply to regression tasks only"}},
		{"unknown metric", func(d *TaskDef) { d.Metrics = []string{"bleu"} }, []string{`metric "bleu" is not valid for a classification task`}},
		{"no metrics", func(d *TaskDef) { d.Metrics = nil }, []string{"metrics is empty"}},
		{"f1 with three classes", func(d *TaskDef) {
			d.LabelWords = []string{"a", "b", "c"}
			d.Metrics = []string{MetricF1}
		}, []string{`use "f1_macro"`}},
		{"regression with words", func(d *TaskDef) { d.Type = Regression; d.Metrics = []string{MetricPearson} }, []string{"apply to classification tasks only"}},
		{"regression metric", func(d *TaskDef) { d.Type = Regression; d.LabelWords = nil }, []string{`metric "accuracy" is not valid for a regression task`}},
		{"bad round", func(d *TaskDef) {
			d.Type, d.LabelWords, d.Metrics, d.Round = Regression, nil, []string{MetricPearson}, 0.3
		}, []string{"round is 0.3: use a step that divides 1"}},
		{"bad range", func(d *TaskDef) {
			d.Type, d.LabelWords, d.Metrics, d.Range = Regression, nil, []string{MetricPearson}, []float64{5, 0}
		}, []string{"range is [5 0]"}},
		{"bad type", func(d *TaskDef) { d.Type = "ranking" }, []string{`type is "ranking"`}},
		{"bad split", func(d *TaskDef) { d.Splits = map[string]string{"dev": "../x.tsv"} }, []string{`splits: entry "dev"`}},
		{"several problems", func(d *TaskDef) { d.Format = ""; d.Metrics = nil }, []string{"format is empty", "metrics is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDef()
			tt.modify(&d)
			err := d.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "task ") {
				t.Errorf("error %q does not name the task", err)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	names := TaskNames()
	for _, want := range []string{"ax", "axb", "axg", "boolq", "cb", "cola", "copa", "mnli", "mnli_matched", "mnli_mismatched",
		"mrpc", "qnli", "qqp", "rte", "sst2", "stsb", "superglue_rte", "wic", "wnli", "wsc"} {
		if _, ok := Lookup(want); !ok {
			t.Errorf("task %s is not registered (have %v)", want, names)
		}
	}
	// Lookup returns a copy: changing it does not change the registry.
	d, _ := Lookup("sst2")
	d.LabelWords[0] = "changed"
	if again, _ := Lookup("sst2"); again.LabelWords[0] != "negative" {
		t.Errorf("Lookup shares memory with the registry")
	}
	mustPanic(t, "duplicate", func() { Register(d) })
	bad := validDef()
	bad.Name = "test_invalid_registration"
	bad.Metrics = nil
	mustPanic(t, "invalid", func() { Register(bad) })
	mustPanic(t, "duplicate transform", func() { RegisterTransform("wsc_spans", wscSpans) })
	ok := validDef()
	ok.Name = fmt.Sprintf("test_registered_task_%d", time.Now().UnixNano()) // unique under -count
	Register(ok)
	if _, found := Lookup(ok.Name); !found {
		t.Errorf("registered task not found")
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}

func TestSplitPath(t *testing.T) {
	tests := []struct{ task, split, want string }{
		{"sst2", "train", "SST-2/train.tsv"},
		{"mnli_matched", "dev", "MNLI/dev_matched.tsv"},
		{"mnli", "train", "MNLI/train.tsv"},
		{"boolq", "dev", "BoolQ/val.jsonl"},
		{"ax", "test", "diagnostic/diagnostic.tsv"},
	}
	for _, tt := range tests {
		d, _ := Lookup(tt.task)
		if got := d.SplitPath(tt.split); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.task, tt.split, got, tt.want)
		}
	}
}

func TestInputTextMatchesReader(t *testing.T) {
	def, ok := Lookup("mrpc")
	if !ok {
		t.Fatal("mrpc is not registered")
	}
	got, err := def.InputText(map[string]string{"sentence1": "A b.", "sentence2": "C d."})
	if err != nil {
		t.Fatal(err)
	}
	if want := "mrpc sentence1: A b. sentence2: C d."; got != want {
		t.Errorf("InputText = %q, want %q", got, want)
	}
	if _, err := def.InputText(map[string]string{"sentence1": "x"}); err == nil || !strings.Contains(err.Error(), "sentence2") {
		t.Errorf("a missing field: error %v", err)
	}
	if _, err := def.InputText(map[string]string{"sentence1": "x", "sentence2": "y", "sentense3": "z"}); err == nil {
		t.Error("an unknown field was accepted")
	}
}
