package data

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// checkRead reads input as the task, with and without SkipMalformed, and checks the
// invariants every read must keep.
func checkRead(t *testing.T, task string, input []byte) {
	def := mustLookup(t, task)
	strict, _, strictErr := Read(def, bytes.NewReader(input), "f", ReadOptions{})
	lenient, stats, err := Read(def, bytes.NewReader(input), "f", ReadOptions{SkipMalformed: true})
	var rowErr *RowError
	if err != nil && errors.As(err, &rowErr) && rowErr.Line > 1 {
		t.Fatalf("SkipMalformed returned a row error past the header: %v", err)
	}
	for _, e := range []error{strictErr, err} {
		if e != nil && !strings.HasPrefix(e.Error(), "f:") {
			t.Fatalf("error does not name the file: %v", e)
		}
	}
	if strictErr == nil && (err != nil || len(strict) != len(lenient) || stats.Skipped != 0) {
		t.Fatalf("a clean read (%d examples) differs from a lenient one (%d, %+v, %v)", len(strict), len(lenient), stats, err)
	}
	if err != nil {
		return
	}
	if stats.Examples != len(lenient) || len(stats.SkippedRows) != min(stats.Skipped, MaxReportedSkips) {
		t.Fatalf("stats %+v for %d examples", stats, len(lenient))
	}
	lastLine, labelled := 0, 0
	for _, e := range lenient {
		if e.Line <= lastLine {
			t.Fatalf("line numbers not increasing: %d after %d", e.Line, lastLine)
		}
		lastLine = e.Line
		if e.HasLabel {
			labelled++
			if e.Targets == "" {
				t.Fatalf("labelled example without a target: %+v", e)
			}
			if !def.IsRegression() && (e.Label < 0 || e.Label >= def.NumClasses() || def.LabelWords[e.Label] != e.Targets) {
				t.Fatalf("label %d, target %q do not agree", e.Label, e.Targets)
			}
		} else if e.Targets != "" || e.Label != -1 {
			t.Fatalf("unlabelled example with target %q, label %d", e.Targets, e.Label)
		}
		if !strings.HasPrefix(e.Inputs, def.Prefix+" ") || len(e.Fields) != len(def.Inputs) {
			t.Fatalf("inputs %q, fields %q", e.Inputs, e.Fields)
		}
	}
	if labelled != stats.Labeled {
		t.Fatalf("stats count %d labelled, examples have %d", stats.Labeled, labelled)
	}
	// With RequireLabels (training and dev splits) every example has a label, and
	// the examples are the labelled ones of a plain read.
	required, rstats, rerr := Read(def, bytes.NewReader(input), "f", ReadOptions{SkipMalformed: true, RequireLabels: true})
	if rerr != nil {
		if !strings.HasPrefix(rerr.Error(), "f:") {
			t.Fatalf("error does not name the file: %v", rerr)
		}
		return
	}
	if rstats.Labeled != len(required) || (def.Format == FormatJSONL && len(required) != labelled) {
		t.Fatalf("RequireLabels: %d examples, %d labelled (a plain read has %d labelled)", len(required), rstats.Labeled, labelled)
	}
}

func addSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzReadTSV(f *testing.F) {
	addSeeds(f, "testdata/glue/SST-2/train.tsv", "testdata/glue/CoLA/train.tsv", "testdata/glue/CoLA/test.tsv",
		"testdata/glue/STS-B/train.tsv", "testdata/glue/RTE/test.tsv")
	f.Add([]byte("sentence\tlabel\n\"a\t1\r\n\n\xff\t0"))
	f.Add([]byte("sentence\tlabel\rgood .\t1\rbad\t0\r"))
	f.Add([]byte("sentence\nno label\n"))
	f.Add([]byte("sentence\tlabel\nba\x00d\t0\n\xff\xfe"))
	f.Fuzz(func(t *testing.T, input []byte) {
		for _, task := range []string{"sst2", "cola", "stsb", "rte"} {
			checkRead(t, task, input)
		}
	})
}

func FuzzReadJSONL(f *testing.F) {
	addSeeds(f, "testdata/superglue/BoolQ/train.jsonl", "testdata/superglue/WSC/train.jsonl",
		"testdata/superglue/COPA/train.jsonl", "testdata/superglue/BoolQ/test.jsonl")
	f.Add([]byte(`{"text":"a b","target":{"span1_text":"a","span1_index":0,"span2_text":"b","span2_index":1},"label":null,"idx":0} x` + "\n[]\n{}"))
	f.Add([]byte(`{"question":"q\u0000","passage":"p","idx":0}` + "\r" + `{"question":"q","passage":"p","label":true,"idx":1}` + "\n"))
	f.Fuzz(func(t *testing.T, input []byte) {
		for _, task := range []string{"boolq", "wsc", "copa"} {
			checkRead(t, task, input)
		}
	})
}

func FuzzDecodeTaskDefs(f *testing.F) {
	f.Add([]byte("tasks:\n  - name: a\n    format: tsv\n    inputs: [{name: s}]\n    label: l\n    label_words: [x, y]\n    metrics: [accuracy]\n"))
	f.Add([]byte("tasks:\n  - name: r\n    format: jsonl\n    inputs: [{name: s, column: a.b}]\n    label: l\n    type: regression\n    round: 0.2\n    metrics: [pearson]\n"))
	f.Add([]byte("tasks: [{name: 1}]\n---\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		defs, err := DecodeTaskDefs(src, "f.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, d := range defs {
			if err := d.Validate(); err != nil {
				t.Fatalf("decoded definition is invalid: %v", err)
			}
			// A valid definition must read any input without panicking.
			if _, _, err := Read(d, strings.NewReader("a\tb\n1\t2\n"), "in", ReadOptions{SkipMalformed: true}); err != nil && !strings.Contains(err.Error(), "in") {
				t.Fatalf("error does not name the file: %v", err)
			}
		}
	})
}
