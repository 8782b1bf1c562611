package data

import (
	"strings"
	"testing"
)

func TestDecodeTaskDefs(t *testing.T) {
	good := `tasks:
  - name: reviews
    prefix: reviews
    format: tsv
    tsv: {header: absent, columns: [text, stars]}
    inputs: [{name: review, column: text}]
    label: stars
    label_words: [bad, good]
    label_values: ["1", "5"]
    metrics: [accuracy, f1]
  - name: closeness
    format: jsonl
    inputs: [{name: a}, {name: b}]
    label: sim
    type: regression
    round: 0.5
    range: [0, 1]
    metrics: [pearson]
`
	defs, err := DecodeTaskDefs([]byte(good), "tasks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 2 || defs[0].Inputs[0].Source() != "text" || defs[0].LabelValues[1] != "5" || defs[1].Round != 0.5 || !defs[1].IsRegression() {
		t.Fatalf("decoded %+v", defs)
	}
	exs, _, err := Read(defs[0], strings.NewReader("great\t5\nawful\t1\n"), "r.tsv", ReadOptions{})
	if err != nil || len(exs) != 2 || exs[0].Inputs != "reviews review: great" || exs[0].Targets != "good" || exs[1].Label != 0 {
		t.Fatalf("reading with a decoded definition: %v %+v", err, exs)
	}

	tests := []struct {
		name, src string
		want      []string
	}{
		{"empty", "", []string{"t.yaml: empty document"}},
		{"no tasks", "tasks: []\n", []string{`t.yaml: the "tasks" list is missing or empty`}},
		{"unknown top key", "task: []\n", []string{"t.yaml:1: field task not found"}},
		{"unknown task key", "tasks:\n  - name: a\n    lables: [x]\n", []string{"t.yaml:3: field lables not found in type data.TaskDef"}},
		{"wrong type", "tasks:\n  - name: a\n    round: fast\n", []string{"t.yaml:3: cannot unmarshal !!str `fast` into float64"}},
		{"syntax", "tasks:\n  - name: [a\n", []string{"t.yaml:"}},
		{"invalid definitions", "tasks:\n  - name: a\n    format: tsv\n  - name: b\n    format: xml\n", []string{
			`t.yaml:2:5: task "a": inputs is empty`, `t.yaml:4:5: task "b": format is "xml"`,
		}},
		{"duplicate names", good + good[len("tasks:\n"):], []string{`task "reviews" is already defined at tasks.yaml:2:5`}},
		{"two documents", "tasks: []\n---\ntasks: []\n", []string{"more than one YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "t.yaml"
			if tt.name == "duplicate names" {
				name = "tasks.yaml"
			}
			_, err := DecodeTaskDefs([]byte(tt.src), name)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
