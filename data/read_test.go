package data

import (
	"errors"
	"strings"
	"testing"
)

func mustLookup(t testing.TB, name string) TaskDef {
	t.Helper()
	def, ok := Lookup(name)
	if !ok {
		t.Fatalf("task %s not registered", name)
	}
	return def
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name    string
		task    string
		input   string
		wantErr string // substring; "" means no error
	}{
		{"ok", "sst2", "sentence\tlabel\ngood .\t1\n", ""},
		{"crlf and bom", "sst2", "\ufeffsentence\tlabel\r\ngood .\t1\r\n", ""},
		{"no final newline", "sst2", "sentence\tlabel\ngood .\t1", ""},
		{"quotes are literal", "sst2", "sentence\tlabel\n\"good\t1\n", ""},
		{"empty file", "sst2", "", "in.tsv: file is empty"},
		{"missing column", "sst2", "text\tlabel\ngood\t1\n", `in.tsv:1: header has no column "sentence"`},
		{"duplicate header", "sst2", "sentence\tsentence\n", `in.tsv:1: header names column "sentence" twice`},
		{"too many cells", "sst2", "sentence\tlabel\na\tb\t1\n", "in.tsv:2: row has 3 tab-separated cells but the header has 2"},
		{"too few cells", "rte", "index\tsentence1\tsentence2\tlabel\n0\ta\tentailment\n", "in.tsv:2: row has 3"},
		{"empty line", "sst2", "sentence\tlabel\ngood\t1\n\nbad\t0\n", "in.tsv:3: empty line"},
		{"unknown label", "sst2", "sentence\tlabel\ngood\t2\n", `in.tsv:2: label "2" in "label" is not one of "0" or "negative", "1" or "positive"`},
		{"label word accepted", "sst2", "sentence\tlabel\ngood\tpositive\n", ""},
		{"rte label values only", "rte", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\t0\n", `label "0" in "label" is not one of "entailment", "not_entailment"`},
		{"bad score", "stsb", "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tg\tf\ty\to\ts\ts\ta\tb\tfive\n", `in.tsv:2: score "five" in "score" is not a finite number`},
		{"score out of range", "stsb", "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tg\tf\ty\to\ts\ts\ta\tb\t5.5\n", "outside the task's range [0, 5]"},
		{"nan score", "stsb", "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tg\tf\ty\to\ts\ts\ta\tb\tNaN\n", "not a finite number"},
		{"invalid utf8", "sst2", "sentence\tlabel\ngo\xffod\t1\n", "in.tsv:2: line is not valid UTF-8"},
		{"cola without header", "cola", "src\t1\t\tok .\n", ""},
		{"cola wrong cells", "cola", "src\t1\tok .\n", "in.tsv:1: row has 3 tab-separated cells but the task's tsv.columns has 4"},
		{"jsonl ok", "boolq", `{"question":"q","passage":"p","label":true,"idx":0}` + "\n", ""},
		{"jsonl bad json", "boolq", `{"question":"q",` + "\n", "in.tsv:1: invalid JSON"},
		{"jsonl not object", "boolq", "[1,2]\n", "in.tsv:1: line holds a JSON array, not an object"},
		{"jsonl trailing text", "boolq", `{"question":"q","passage":"p","idx":0} x` + "\n", "in.tsv:1: text after the JSON object"},
		{"jsonl missing key", "boolq", `{"question":"q","idx":0}` + "\n", `in.tsv:1: field passage: the object has no key "passage"`},
		{"jsonl object value", "boolq", `{"question":{"a":1},"passage":"p","idx":0}` + "\n", `key "question" holds a JSON object`},
		{"jsonl bad label", "boolq", `{"question":"q","passage":"p","label":"yes","idx":0}` + "\n", `label "yes" in "label" is not one of "false", "true"`},
		{"jsonl path through value", "wsc", `{"text":"a b","target":"x","idx":0}` + "\n", `key path "target.span1_text": "span1_text" is inside a JSON string`},
		{"wsc bad index", "wsc", `{"text":"a b","target":{"span1_text":"a","span1_index":"x","span2_text":"b","span2_index":1},"idx":0}` + "\n", `wsc_spans: span1_index "x" is not a word index`},
		{"jsonl empty line", "boolq", "\n", "in.tsv:1: empty line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := mustLookup(t, tt.task)
			_, _, err := Read(def, strings.NewReader(tt.input), "in.tsv", ReadOptions{})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("no error, want %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadSkipMalformed(t *testing.T) {
	def := mustLookup(t, "sst2")
	in := "sentence\tlabel\ngood .\t1\nbad\t7\n\nfine .\t0\ntoo\tmany\tcells\n"
	_, _, err := Read(def, strings.NewReader(in), "x.tsv", ReadOptions{})
	var rowErr *RowError
	if !errors.As(err, &rowErr) || rowErr.File != "x.tsv" || rowErr.Line != 3 {
		t.Fatalf("without SkipMalformed: got %v, want a RowError at x.tsv:3", err)
	}
	exs, stats, err := Read(def, strings.NewReader(in), "x.tsv", ReadOptions{SkipMalformed: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 2 || stats.Examples != 2 || stats.Skipped != 3 || len(stats.SkippedRows) != 3 {
		t.Fatalf("got %d examples, stats %+v; want 2 examples and 3 skipped", len(exs), stats)
	}
	var lines []int
	for _, e := range stats.SkippedRows {
		lines = append(lines, e.Line)
	}
	if got := []int{3, 4, 6}; lines[0] != got[0] || lines[1] != got[1] || lines[2] != got[2] {
		t.Errorf("skipped lines %v, want %v", lines, got)
	}
	if exs[1].Line != 5 || exs[1].Index != 3 || exs[1].Targets != "negative" {
		t.Errorf("second example %+v: want line 5, index 3, target negative", exs[1])
	}
}

func TestReadLimitAndFields(t *testing.T) {
	def := mustLookup(t, "mnli")
	exs, _, err := ReadFile(def, "testdata/glue/MNLI/train.tsv", ReadOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 2 {
		t.Fatalf("Limit 2 gave %d examples", len(exs))
	}
	e := exs[0]
	if e.Fields[0] != "Product and geography are what make cream skimming work." || e.Fields[1] != "Conceptually cream skimming has two basic dimensions." {
		t.Errorf("Fields %q: want hypothesis then premise", e.Fields)
	}
	if e.ID != "0" || e.Label != 1 || e.Task != "mnli" || e.Pos() != "testdata/glue/MNLI/train.tsv:2" {
		t.Errorf("example %+v", e)
	}
}

func TestReadSplitMissingFile(t *testing.T) {
	def := mustLookup(t, "qnli")
	_, _, err := ReadSplit(def, "testdata/glue", "dev", ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "QNLI/dev.tsv") {
		t.Fatalf("got %v, want an error naming QNLI/dev.tsv", err)
	}
}

func TestScoreText(t *testing.T) {
	def := mustLookup(t, "stsb")
	tests := []struct {
		score float64
		want  string
	}{
		{0, "0.0"}, {5, "5.0"}, {3.8, "3.8"}, {4.75, "4.8"}, {2.75, "2.8"},
		{0.5, "0.4"}, {1.5, "1.6"}, {2.5, "2.4"}, {0.1, "0.0"}, {0.3, "0.4"}, {3.333, "3.4"}, {1.1, "1.2"},
	}
	for _, tt := range tests {
		if got := def.ScoreText(tt.score); got != tt.want {
			t.Errorf("ScoreText(%v) = %q, want %q", tt.score, got, tt.want)
		}
	}
	quarter := TaskDef{Name: "q", Format: FormatTSV, Inputs: []Field{{Name: "a"}}, Label: "s", Type: Regression, Round: 0.25, Metrics: []string{MetricPearson}}
	whole := quarter
	whole.Round = 2
	raw := quarter
	raw.Round = 0
	for _, tt := range []struct {
		def   TaskDef
		score float64
		want  string
	}{
		{quarter, 1.1, "1.00"}, {quarter, 1.2, "1.25"}, {whole, 3, "4.0"}, {whole, 4.9, "4.0"}, {raw, 1.125, "1.125"},
	} {
		if got := tt.def.ScoreText(tt.score); got != tt.want {
			t.Errorf("round %v: ScoreText(%v) = %q, want %q", tt.def.Round, tt.score, got, tt.want)
		}
	}
}

func TestMarkSpan(t *testing.T) {
	tests := []struct {
		text, span string
		n          int
		want       string
	}{
		{"This is a test", "test", 3, "This is a * test *"},
		{"This is a test", "This", 0, "* This * is a test"},
		{"This is a test", "is", 3, "This is a test"},   // wrong index: unchanged
		{"This  is a test", "is", 1, "This  is a test"}, // two spaces: T5's pattern does not match
		{"a\tb c", "b c", 1, "a\t* b c *"},              // tab is a space character
		{"short", "x", 4, "short"},                      // index past the end
		{"Joe's uncle ran", "Joe's uncle", 0, "* Joe's uncle * ran"},
	}
	for _, tt := range tests {
		if got := markSpan(tt.text, tt.span, tt.n, "*"); got != tt.want {
			t.Errorf("markSpan(%q, %q, %d) = %q, want %q", tt.text, tt.span, tt.n, got, tt.want)
		}
	}
}
