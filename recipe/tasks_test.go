package recipe

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// topicRecipe defines a 3-class CSV task in the data: section.
const topicRecipe = `include: t5-mini
data:
  tasks:
    - sentiment
    - name: topic
      prefix: topic
      format: csv
      dir: topic-data
      inputs: [{name: title}, {name: text, column: body}]
      label: label
      label_words: [sports, politics, science]
      metrics: [accuracy, f1_macro]
`

func TestRecipeDefinedTasks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "topic.yaml")
	if err := os.WriteFile(path, []byte(topicRecipe), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Data.TaskNames(), ","); got != "sentiment,topic" {
		t.Fatalf("tasks %s", got)
	}
	if !r.Data.Tasks[0].Registered || r.Data.Tasks[1].Registered {
		t.Fatalf("registered flags: %+v", r.Data.Tasks)
	}
	topic := r.Data.Tasks[1]
	if want := filepath.Join(dir, "topic-data"); topic.Dir != want {
		t.Fatalf("dir %q, want %q (relative to the recipe's folder)", topic.Dir, want)
	}
	if topic.Format != "csv" || len(topic.LabelWords) != 3 || topic.Inputs[1].Column != "body" {
		t.Fatalf("definition %+v", topic.TaskDef)
	}
	// The snapshot a checkpoint stores loads the same definition from another folder.
	snap := r.Source.Snapshot()
	parsed, err := ParseSnapshot(snap.JSON())
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	r2, err := parsed.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := r2.Data.Tasks[1]; got.Dir != topic.Dir || got.Name != "topic" || got.Registered {
		t.Fatalf("from the snapshot: %+v, want dir %s", got, topic.Dir)
	}
}

func TestRecipeDefinedTaskErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // substrings of the error, each with its position
	}{
		{"unknown name", "data:\n  tasks: [sentiment, topicc]\n",
			[]string{`r.yaml:2:22: data.tasks[1]: unknown task "topicc"`}},
		{"unknown key", "data:\n  tasks:\n    - name: t\n      labels: [a, b]\n",
			[]string{`r.yaml:4:7: data.tasks[0].labels: unknown key "labels" in data.tasks[0]; did you mean "label"?`}},
		{"one label word", "data:\n  tasks:\n    - name: t\n      format: csv\n      inputs: [{name: s}]\n      label: l\n      label_words: [a]\n      metrics: [accuracy]\n",
			[]string{`r.yaml:7:20: data.tasks[0].label_words: label_words has 1 entries: a classification task needs at least two`}},
		{"bad format and metric", "data:\n  tasks:\n    - name: t\n      format: xls\n      inputs: [{name: s}]\n      label: l\n      label_words: [a, b]\n      metrics: [pearson]\n",
			[]string{`r.yaml:4:15: data.tasks[0].format: format is "xls"`, `r.yaml:3:7: data.tasks[0]: metric "pearson" is not valid for a classification task`}},
		{"regression without metrics", "data:\n  tasks:\n    - {name: s, format: tsv, inputs: [{name: a}], label: score, type: regression, range: [5, 0]}\n",
			[]string{`data.tasks[0].range: range is [5 0]`, `data.tasks[0].metrics: metrics is empty`}},
		{"shadows a registered task", "data:\n  tasks:\n    - {name: sst2, format: tsv, inputs: [{name: s}], label: l, label_words: [a, b], metrics: [accuracy]}\n",
			[]string{`data.tasks[0].name: "sst2" is the name of a registered task`}},
		{"a number", "data:\n  tasks: [7]\n",
			[]string{`r.yaml:2:11: data.tasks[0]: expected a string, got integer 7`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Loader{ReadFile: func(string) ([]byte, error) { return []byte("model: {arch: t5}\n" + tc.yaml), nil }}.Load("r.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), shiftLine(w)) {
					t.Errorf("error\n%v\nlacks %q", err, shiftLine(w))
				}
			}
		})
	}
}

// shiftLine adds one to the line of a "r.yaml:L:C" position: the test puts a model:
// line before each case's text.
func shiftLine(s string) string {
	rest, ok := strings.CutPrefix(s, "r.yaml:")
	if !ok {
		return s
	}
	line, tail, _ := strings.Cut(rest, ":")
	n, err := strconv.Atoi(line)
	if err != nil {
		return s
	}
	return "r.yaml:" + strconv.Itoa(n+1) + ":" + tail
}
