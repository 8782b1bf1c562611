package data

import (
	"bytes"
	"strings"
	"testing"
)

// topicDef is a 3-class CSV task, as a recipe would declare it.
func topicDef() TaskDef {
	return TaskDef{Name: "topic", Prefix: "topic", Format: FormatCSV,
		Inputs: []Field{{Name: "title"}, {Name: "text", Column: "body"}}, Label: "label",
		LabelWords: []string{"sports", "politics", "science"}, Metrics: []string{MetricAccuracy, MetricF1Macro}}
}

func TestReadCSV(t *testing.T) {
	def := topicDef()
	for _, tc := range []struct {
		name, in string
		opts     ReadOptions
		inputs   []string // each example's Inputs
		targets  []string
		lines    []int
		err      string // a substring of the error ("" for none)
	}{
		{name: "plain", in: "title,body,label\nGoal,late winner,0\nVote,a new law,politics\n",
			inputs:  []string{"topic title: Goal text: late winner", "topic title: Vote text: a new law"},
			targets: []string{"sports", "politics"}, lines: []int{2, 3}},
		{name: "quoted comma, quote and line break", in: "\ufefftitle,body,label\r\n\"Mars, again\",\"a \"\"red\"\"\nplanet\",2\r\nRace,fast,0\r\n",
			inputs:  []string{"topic title: Mars, again text: a \"red\"\nplanet", "topic title: Race text: fast"},
			targets: []string{"science", "sports"}, lines: []int{2, 4}},
		{name: "columns in another order, extra column", in: "id,label,body,title\n7,1,b,t\n",
			inputs: []string{"topic title: t text: b"}, targets: []string{"politics"}, lines: []int{2}},
		{name: "unlabelled test file", in: "title,body\nx,y\n",
			inputs: []string{"topic title: x text: y"}, targets: []string{""}, lines: []int{2}},
		{name: "label not in the list", in: "title,body,label\nx,y,0\nx,y,weather\n",
			err: `f.csv:3: label "weather" in "label" is not one of "0" or "sports", "1" or "politics", "2" or "science"`},
		{name: "label not in the list, skipped", in: "title,body,label\nx,y,0\nx,y,weather\n", opts: ReadOptions{SkipMalformed: true},
			inputs: []string{"topic title: x text: y"}, targets: []string{"sports"}, lines: []int{2}},
		{name: "unquoted comma", in: "title,body,label\nx,y,z,0\n", err: "f.csv:2: row has 4 comma-separated cells but the header has 3"},
		{name: "bare quote", in: "title,body,label\nx,a \"b\" c,0\n", err: "f.csv:2: not valid CSV"},
		{name: "unclosed quote", in: "title,body,label\nx,\"never closed,0\n", err: "f.csv:2: not valid CSV"},
		{name: "missing column", in: "title,text,label\nx,y,0\n", err: `f.csv:1: header has no column "body"`},
		{name: "dev file without labels", in: "title,body\nx,y\n", opts: ReadOptions{RequireLabels: true}, err: `header has no label column "label"`},
		{name: "empty file", in: "", err: "f.csv: file is empty"},
		{name: "duplicate header", in: "title,body,title,label\n", err: `header names column "title" twice`},
		{name: "NUL byte", in: "title,body,label\nx\x00,y,0\n", err: "f.csv:2: row holds a NUL byte"},
		{name: "not UTF-8", in: "title,body,label\nx\xff,y,0\n", err: "f.csv:2: row is not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exs, _, err := Read(def, strings.NewReader(tc.in), "f.csv", tc.opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(exs) != len(tc.inputs) {
				t.Fatalf("%d examples, want %d", len(exs), len(tc.inputs))
			}
			for i, e := range exs {
				if e.Inputs != tc.inputs[i] || e.Targets != tc.targets[i] || e.Line != tc.lines[i] {
					t.Errorf("example %d: %q -> %q at line %d; want %q -> %q at line %d", i, e.Inputs, e.Targets, e.Line, tc.inputs[i], tc.targets[i], tc.lines[i])
				}
			}
		})
	}
}

func TestReadCSVLimits(t *testing.T) {
	def := topicDef()
	for _, tc := range []struct {
		name, in string
		limit    int64
		maxRec   int
		err      string
	}{
		{"file too large", "title,body,label\n" + strings.Repeat("a,b,0\n", 1000), 1000, 1 << 20, "larger than"},
		{"record too long", "title,body,label\nx,\"" + strings.Repeat("a\n", 100000) + "\",0\n", 1 << 30, 100, "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := newCSVSourceLimits(&def, strings.NewReader(tc.in), "f.csv", false, tc.limit, tc.maxRec)
			for err == nil {
				_, err = src.next()
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("title,body,label\nGoal,late winner,0\nVote,a new law,politics\n"))
	f.Add([]byte("\ufefftitle,body,label\r\n\"Mars, again\",\"a \"\"red\"\"\nplanet\",2\r\n\"x,y,0\n"))
	f.Add([]byte("title,body\nx,y\n,,,\n\"a\"b,c\n"))
	f.Add([]byte("title,body,label\nx\x00,y,0\n\xff,y,1\n"))
	def := topicDef()
	f.Fuzz(func(t *testing.T, input []byte) {
		for _, opts := range []ReadOptions{{}, {SkipMalformed: true}, {SkipMalformed: true, RequireLabels: true}} {
			exs, stats, err := Read(def, bytes.NewReader(input), "f", opts)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "f:") {
					t.Fatalf("error does not name the file: %v", err)
				}
				continue
			}
			if stats.Examples != len(exs) {
				t.Fatalf("stats %+v for %d examples", stats, len(exs))
			}
			last := 0
			for _, e := range exs {
				if e.Line <= last {
					t.Fatalf("line numbers not increasing: %d after %d", e.Line, last)
				}
				last = e.Line
				if e.HasLabel && (e.Label < 0 || e.Label >= 3 || def.LabelWords[e.Label] != e.Targets) {
					t.Fatalf("label %d, target %q do not agree", e.Label, e.Targets)
				}
				if opts.RequireLabels && !e.HasLabel {
					t.Fatalf("RequireLabels returned an unlabelled example at line %d", e.Line)
				}
			}
		}
	})
}

// BenchmarkReadFormats reads the same 10,000 rows as TSV and as CSV (a fifth of the
// CSV cells quoted): what CSV's quoting costs over the tab-split lines.
func BenchmarkReadFormats(b *testing.B) {
	var tsv, csv strings.Builder
	tsv.WriteString("title\tbody\tlabel\n")
	csv.WriteString("title,body,label\n")
	for i := range 10000 {
		body := "the striker scored in the last minute of the cup final"
		tsv.WriteString("Late winner\t" + body + "\t0\n")
		if i%5 == 0 {
			body = "\"" + body + ", they said\""
		}
		csv.WriteString("Late winner," + body + ",0\n")
	}
	for _, tc := range []struct {
		format, text string
	}{{FormatTSV, tsv.String()}, {FormatCSV, csv.String()}} {
		def := topicDef()
		def.Format = tc.format
		b.Run(tc.format, func(b *testing.B) {
			b.SetBytes(int64(len(tc.text)))
			for b.Loop() {
				if _, _, err := Read(def, strings.NewReader(tc.text), "f", ReadOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
