package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/data/suite"
	"github.com/hypergrid-go/hypergrid/serve"
)

// copyTopic copies testdata/topic (a recipe that defines a 3-class CSV task, and its
// data folder) into a temporary folder and returns the recipe's path there.
func copyTopic(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "topic")
	if err := os.CopyFS(dir, os.DirFS("testdata/topic")); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "topic.yaml")
}

// Acceptance (issue 14): a 3-class task defined only in a recipe trains, and eval,
// predict and the server's /v1/tasks work on its checkpoint from the CLI, from
// another working folder, with no Go code.
func TestRecipeDefinedTaskEndToEnd(t *testing.T) {
	skipShort(t)
	rec := copyTopic(t)
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := hg(t, "train", rec, "--out", out, "--threads", "1", "--steps", "3")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "2 tasks: sentiment, topic") || !strings.Contains(stdout, "task topic accuracy=") {
		t.Errorf("train output:\n%s", stdout)
	}
	// The run does not depend on the working folder: the task's folder is stored
	// absolute with the recipe.
	t.Chdir(t.TempDir())

	code, stdout, stderr = hg(t, "eval", out, "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d\n%s%s", code, stdout, stderr)
	}
	var ev struct {
		Step  int                           `json:"step"`
		Tasks map[string]map[string]float64 `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, stdout)
	}
	if m := ev.Tasks["topic"]; ev.Step != 3 || len(m) != 2 || m["accuracy"] < 0 || m["f1_macro"] < 0 {
		t.Errorf("eval: %+v", ev)
	}

	var pout, perr bytes.Buffer
	in := `{"title": "Cup final", "text": "the keeper saved a penalty"}` + "\n" + `{"title": "Mars, again", "text": "the probe sent images"}` + "\n"
	if err := runPredict([]string{out, "--task", "topic", "--threads", "1"}, strings.NewReader(in), &pout, &perr); err != nil {
		t.Fatalf("predict: %v\n%s", err, perr.String())
	}
	lines := strings.Split(strings.TrimSpace(pout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("predict answered %d lines:\n%s", len(lines), pout.String())
	}
	for _, l := range lines {
		var p struct{ Input, Prediction string }
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.Input, "topic title: ") || !strings.Contains(p.Input, " text: ") ||
			(p.Prediction != "sports" && p.Prediction != "politics" && p.Prediction != "science") {
			t.Errorf("predict: %s", l)
		}
	}

	// The server lists the task with its fields and label words.
	addr, stop := startServer(t, out)
	defer stop()
	resp, err := http.Get("http://" + addr + "/v1/tasks")
	if err != nil {
		t.Fatal(err)
	}
	var tasks serve.TasksResponse
	err = json.NewDecoder(resp.Body).Decode(&tasks)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks.Tasks) != 2 || tasks.Tasks[1].Name != "topic" || strings.Join(tasks.Tasks[1].Inputs, ",") != "title,text" ||
		strings.Join(tasks.Tasks[1].Labels, ",") != "sports,politics,science" {
		t.Errorf("/v1/tasks: %+v", tasks)
	}
	resp, err = http.Post("http://"+addr+"/v1/predict", "application/json", strings.NewReader(`{"task": "topic", "input": {"title": "Vote today", "text": "the minister resigned"}}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/v1/predict: %v %v", err, resp)
	}
	resp.Body.Close()

	// eval --data reads the task's files from another folder: DIR/<its folder's name>.
	moved := t.TempDir()
	if err := os.CopyFS(moved, suite.FS()); err != nil { // sentiment, a registered task
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(filepath.Dir(rec), "data"), filepath.Join(moved, "data")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := hg(t, "eval", out); code != 1 || !strings.Contains(stderr, filepath.Join(filepath.Dir(rec), "data", "dev.csv")) {
		t.Errorf("eval without the task's files: exit %d, %s", code, stderr)
	}
	if code, stdout, stderr := hg(t, "eval", out, "--data", moved); code != 0 || !strings.Contains(stdout, "topic") {
		t.Errorf("eval --data: exit %d\n%s%s", code, stdout, stderr)
	}
}

// A data file whose label is not one of the task's is refused with its file and line.
func TestRecipeDefinedTaskBadLabel(t *testing.T) {
	rec := copyTopic(t)
	train := filepath.Join(filepath.Dir(rec), "data", "train.csv")
	b, err := os.ReadFile(train)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(train, append(b, "Weather,rain all day,weather\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(string(b), "\n") + 1
	code, _, stderr := hg(t, "train", rec, "--out", filepath.Join(t.TempDir(), "run"), "--set", "data.train_limit=0")
	want := train + ":" + strconv.Itoa(line) + `: label "weather" in "label" is not one of`
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, %s\nwant %s", code, stderr, want)
	}
	// A definition that cannot be right is a recipe error with its position.
	text, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	bad := writeRecipe(t, filepath.Dir(rec), "bad.yaml", strings.Replace(string(text), "[sports, politics, science]", "[sports]", 1))
	code, _, stderr = hg(t, "train", bad)
	if code != 2 || !strings.Contains(stderr, "bad.yaml:31:20: data.tasks[1].label_words: label_words has 1 entries") {
		t.Errorf("one label word: exit %d, %s", code, stderr)
	}
}

// startServer serves run on a free port as a child process and returns its address
// and a function that stops it.
func startServer(t *testing.T, run string) (string, func()) {
	t.Helper()
	pr, pw := io.Pipe()
	var cerr syncBuffer
	child, done := startHypergrid(t, pw, &cerr, "serve", run, "--addr", "127.0.0.1:0", "--threads", "1")
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if _, a, ok := strings.Cut(sc.Text(), " on http://"); ok {
				addrc <- a
			}
		}
	}()
	stop := func() { child.Process.Kill(); <-done; pw.Close() }
	select {
	case a := <-addrc:
		return a, stop
	case <-time.After(time.Minute):
		stop()
		t.Fatalf("the server did not start:\n%s", cerr.String())
	}
	return "", stop
}

// Acceptance (issue 14): adding a task to a trained run leaves every old task's
// predictions and scores bit-identical; the run resumes as an add-task run; a model
// with nothing of a task's own is refused, saying why.
func TestAddTaskCommand(t *testing.T) {
	skipShort(t)
	rec := copyTopic(t)
	dir := t.TempDir()
	base := filepath.Join(dir, "base")
	code, stdout, stderr := hg(t, "train", rec, "--out", base, "--threads", "1", "--steps", "3",
		"--set", "model.ffn.conditioning=task_embedding", "--set", "model.tasks=[{name: sentiment}]", "--set", "data.tasks=[sentiment]")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	added := filepath.Join(dir, "added")
	taskFile := filepath.Join(filepath.Dir(rec), "tasks.yaml")
	code, stdout, stderr = hg(t, "train", "--from", base, "--add-task", "topic", "--task-file", taskFile, "--out", added, "--threads", "1", "--steps", "2")
	if code != 0 {
		t.Fatalf("add task: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"training only task topic's own 8 values (encoder.block.0.ffn.grid.task_rows[4:8], decoder.block.0.ffn.grid.task_rows[4:8])",
		"unchanged (every metric equal)", "new task"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("add task output lacks %q:\n%s", want, stdout)
		}
	}
	// eval and predict on both runs: the old task's metrics and answers are the same.
	evalJSON := func(run string) map[string]map[string]float64 {
		code, stdout, stderr := hg(t, "eval", run, "--json")
		if code != 0 {
			t.Fatalf("eval %s: exit %d\n%s%s", run, code, stdout, stderr)
		}
		var ev struct {
			Tasks map[string]map[string]float64 `json:"tasks"`
		}
		if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
			t.Fatal(err)
		}
		return ev.Tasks
	}
	before, after := evalJSON(base), evalJSON(added)
	if len(after) != 2 || after["topic"] == nil || !equalMetrics(before["sentiment"], after["sentiment"]) {
		t.Errorf("eval before %v, after %v", before, after)
	}
	_, p1, _ := hg(t, "predict", base, "--task", "sentiment", "a fine , moving film .", "the plot is not clever .")
	_, p2, _ := hg(t, "predict", added, "--task", "sentiment", "a fine , moving film .", "the plot is not clever .")
	if p1 == "" || p1 != p2 {
		t.Errorf("predict before:\n%s\nafter:\n%s", p1, p2)
	}
	code, stdout, stderr = hg(t, "train", "--out", added, "--resume", "--steps", "3", "--threads", "1")
	if code != 0 || !strings.Contains(stdout, "adding task topic, training only its own parameters") {
		t.Errorf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	if after := evalJSON(added); !equalMetrics(before["sentiment"], after["sentiment"]) {
		t.Errorf("after resuming: %v", after)
	}
	// A first_token model has nothing of a task's own: refused, and no run folder made.
	plain := filepath.Join(dir, "plain")
	if code, stdout, stderr := hg(t, "train", rec, "--out", plain, "--threads", "1", "--steps", "1", "--set", "data.tasks=[sentiment]"); code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	refused := filepath.Join(dir, "refused")
	code, _, stderr = hg(t, "train", "--from", plain, "--add-task", "similarity", "--out", refused)
	if code != 1 || !strings.Contains(stderr, "cannot add task similarity") || !strings.Contains(stderr, "conditioning: task_embedding") {
		t.Errorf("first_token model: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(refused); err == nil {
		t.Errorf("a refused add-task made its --out folder")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--add-task", "topic"}, "needs both --from RUN and --add-task NAME"},
		{[]string{"--from", base, "--add-task", "sentiment"}, "already has a task sentiment"},
		{[]string{"--from", base, "--add-task", "nope"}, `"nope" is not a registered task`},
		{[]string{"--from", base, "--add-task", "other", "--task-file", taskFile}, `defines no task "other" (it defines topic)`},
		{[]string{rec, "--from", base, "--add-task", "topic", "--task-file", taskFile}, "takes no recipe"},
	} {
		if code, _, stderr := hg(t, append([]string{"train"}, tc.args...)...); code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("train %v: exit %d, %s", tc.args, code, stderr)
		}
	}
}

// equalMetrics reports whether two tasks' metrics are equal to the bit (and not both
// missing).
func equalMetrics(a, b map[string]float64) bool { return len(a) > 0 && maps.Equal(a, b) }
