package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/data/suite"
)

// TestServe trains a tiny run once and checks the server against it: its answers are
// predict's, bench serve runs, and the process stops cleanly on SIGTERM.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	out := filepath.Join(dir, "run")
	if code, stdout, stderr := hg(t, "train", rec, "--out", out, "--threads", "1", "--steps", "3"); code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Run("answers equal predict", func(t *testing.T) { testServeEqualsPredict(t, out) })
	t.Run("bench serve", func(t *testing.T) {
		code, stdout, stderr := hg(t, "bench", "serve", out, "--clients", "2", "--duration", "700ms", "--bad", "0.2", "--threads", "1", "--max-requests", "400")
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		t.Log(stdout)
		for _, want := range []string{"bench_serve ", " requests_per_s=", " examples_per_s=", " p50_ms=", " p95_ms=", " p99_ms=", " status_200=", " valid_5xx=0 ", " unanswered=0 ", " peak_rss_mb="} {
			if !strings.Contains(stdout, want) {
				t.Errorf("output lacks %q: %s", want, stdout)
			}
		}
		// Open loop, and the server's batches run again directly.
		code, stdout, stderr = hg(t, "bench", "serve", out, "--rate", "100", "--duration", "400ms", "--threads", "1", "--direct")
		if code != 0 {
			t.Fatalf("--rate --direct: exit %d\n%s%s", code, stdout, stderr)
		}
		for _, want := range []string{" rate=100.0 ", " delayed=", " batches=", " direct_examples_per_s=", " served_vs_direct="} {
			if !strings.Contains(stdout, want) {
				t.Errorf("--rate --direct output lacks %q: %s", want, stdout)
			}
		}
		if code, _, stderr = hg(t, "bench", "serve", out, "--rate", "-1"); code != 2 || !strings.Contains(stderr, "--rate") {
			t.Errorf("--rate -1: exit %d, %s", code, stderr)
		}
		code, _, stderr = hg(t, "bench", "serve", out, "--mix", "sentiment,mnli", "--duration", "100ms")
		if code != 2 || !strings.Contains(stderr, `"mnli"`) {
			t.Errorf("--mix with an unknown task: exit %d, %s", code, stderr)
		}
		code, _, stderr = hg(t, "bench", "serve", out, "--duration", "1h")
		if code != 2 {
			t.Errorf("--duration 1h: exit %d, %s", code, stderr)
		}
	})
	t.Run("SIGTERM", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("sends SIGTERM")
		}
		if testing.Short() {
			t.Skip("runs the server as a child process; skipped with -short")
		}
		testServeSignals(t, out)
	})
	if code, _, stderr := hg(t, "serve"); code != 2 || !strings.Contains(stderr, "serve takes one run folder") {
		t.Errorf("serve without a checkpoint: exit %d, %s", code, stderr)
	}
	// A model too big for the memory is refused before anything is served.
	if code, _, stderr := hg(t, "serve", out, "--memory-limit", "1KiB"); code != 1 || !strings.Contains(stderr, "more than the 1 KiB of --memory-limit") {
		t.Errorf("serve --memory-limit 1KiB: exit %d, %s", code, stderr)
	}
	if code, _, stderr := hg(t, "serve", out, "--max-batch", "0"); code != 2 || !strings.Contains(stderr, "--max-batch") {
		t.Errorf("serve --max-batch 0: exit %d, %s", code, stderr)
	}
}

// devJSONL returns the first n dev examples of task as JSONL objects of its input
// fields, and as a list of those objects.
func devJSONL(t *testing.T, task string, n int) (string, []map[string]string) {
	t.Helper()
	def := lookupTask(t, task)
	exs, err := suite.Load(task, "dev")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var objs []map[string]string
	for _, ex := range exs[:n] {
		obj := map[string]string{}
		for i, f := range def.Inputs {
			obj[f.Name] = ex.Fields[i]
		}
		line, _ := json.Marshal(obj)
		b.Write(line)
		b.WriteByte('\n')
		objs = append(objs, obj)
	}
	return b.String(), objs
}

// predictLine is what predict prints per input, and the server answers.
type predictLine struct {
	Prediction string  `json:"prediction"`
	Class      int     `json:"class"`
	Value      float64 `json:"value"`
}

func testServeEqualsPredict(t *testing.T, run string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	var sout, serr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{run, "--addr", "127.0.0.1:0", "--threads", "1", "--max-wait", "20ms"}, &sout, &serr, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, serr.String())
	}
	type reply struct {
		task string
		want []predictLine
		got  []predictLine
		err  error
	}
	replies := make(chan reply, 3)
	for _, task := range []string{suite.Sentiment, suite.Paraphrase, suite.Similarity} {
		jsonl, objs := devJSONL(t, task, 7)
		var pout, perr bytes.Buffer
		if err := runPredict([]string{run, "--task", task, "--threads", "1"}, strings.NewReader(jsonl), &pout, &perr); err != nil {
			t.Fatalf("predict %s: %v\n%s", task, err, perr.String())
		}
		var want []predictLine
		dec := json.NewDecoder(&pout)
		for dec.More() {
			var l predictLine
			if err := dec.Decode(&l); err != nil {
				t.Fatal(err)
			}
			want = append(want, l)
		}
		go func() { // the three tasks' requests at once: they share batches
			r := reply{task: task, want: want}
			body, _ := json.Marshal(map[string]any{"task": task, "inputs": objs})
			resp, err := http.Post("http://"+addr+"/v1/predict", "application/json", bytes.NewReader(body))
			if err != nil {
				r.err = err
				replies <- r
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var pr struct {
				Predictions []predictLine `json:"predictions"`
			}
			if resp.StatusCode != 200 || json.Unmarshal(b, &pr) != nil {
				r.err = fmt.Errorf("status %d: %s", resp.StatusCode, b)
			}
			r.got = pr.Predictions
			replies <- r
		}()
	}
	for range 3 {
		r := <-replies
		if r.err != nil {
			t.Errorf("%s: %v", r.task, r.err)
			continue
		}
		if len(r.got) != len(r.want) || len(r.want) != 7 {
			t.Errorf("%s: %d answers from the server, %d from predict", r.task, len(r.got), len(r.want))
			continue
		}
		for i := range r.want {
			if r.got[i] != r.want[i] {
				t.Errorf("%s input %d: server %+v, predict %+v", r.task, i, r.got[i], r.want[i])
			}
		}
	}
	cancel() // what SIGTERM does
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(sout.String(), "serving "+filepath.Join(run, "checkpoint")) || !strings.Contains(sout.String(), "stopped") {
		t.Errorf("serve's output: %s", sout.String())
	}
}

// testServeSignals runs serve as a child process: SIGHUP reloads (with --reload),
// SIGTERM stops it with status 0.
func testServeSignals(t *testing.T, run string) {
	child := exec.Command(os.Args[0], "serve", run, "--addr", "127.0.0.1:0", "--threads", "1", "--reload")
	child.Env = append(os.Environ(), "HYPERGRID_MAIN=1")
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var cerr syncBuffer
	child.Stderr = &cerr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	lines := bufio.NewScanner(stdout)
	addrc := make(chan string, 1)
	rest := make(chan string, 1)
	go func() {
		var all strings.Builder
		for lines.Scan() {
			l := lines.Text()
			all.WriteString(l + "\n")
			if _, a, ok := strings.Cut(l, " on http://"); ok {
				addrc <- a
			}
		}
		rest <- all.String()
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(time.Minute):
		t.Fatalf("the server did not start:\n%s", cerr.String())
	}
	resp, err := http.Post("http://"+addr+"/v1/predict", "application/json", strings.NewReader(`{"task": "sentiment", "input": "a fine film ."}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("predict: %v %v", err, resp)
	}
	resp.Body.Close()
	if err := child.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(cerr.String(), "reloaded: serving step 3") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload after SIGHUP:\n%s", cerr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- child.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, cerr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop within 30s of SIGTERM")
	}
	if out := <-rest; !strings.Contains(out, "stopped") {
		t.Errorf("stdout: %s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
