package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/data/suite"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/recipe"
)

// tinyRecipe is a small HyperGrid T5 on the embedded suite's three tasks.
const tinyRecipe = `
model:
  arch: t5
  vocab: 300
  d_model: 32
  heads: 2
  d_kv: 16
  encoder_layers: 1
  decoder_layers: 1
  ffn: {type: ffn.hypergrid, d_ff: 64, grid: {rows: 4, cols: 4}}
data:
  tasks: [sentiment, paraphrase, similarity]
  train_limit: 100
tokenizer:
  vocab: 300
train:
  steps: 3
  batch_size: 4
  eval_limit: 4
  eval_every: 0
  max_input_len: 96
`

// runDir is a run folder trained once for the package's tests (TestMain).
var runDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "serve-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	runDir = filepath.Join(dir, "run")
	if err := trainRun(runDir, 3); err != nil {
		fmt.Fprintln(os.Stderr, "training the test run:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// trainRun trains tinyRecipe for steps steps into the run folder out (replacing its
// checkpoint).
func trainRun(out string, steps int) error {
	r, err := recipe.Loader{}.Parse("tiny.yaml", []byte(tinyRecipe))
	if err != nil {
		return err
	}
	s, err := job.Prepare(r, job.Options{Steps: steps, CheckpointDir: filepath.Join(out, checkpoint.CheckpointDir)})
	if err != nil {
		return err
	}
	_, err = s.Trainer.Run(context.Background())
	return err
}

// newServer returns a server of the test run and an HTTP server on loopback for it.
func newServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	m, err := Open(runDir, job.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() { hs.Close(); s.Close() })
	return s, hs
}

// post sends body (a string as is, anything else as JSON) and returns the status,
// the headers and the body.
func post(t testing.TB, url string, body any) (int, http.Header, []byte) {
	t.Helper()
	var b []byte
	if s, ok := body.(string); ok {
		b = []byte(s)
	} else {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

func get(t testing.TB, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// devInputs returns the first n dev examples of task as input field objects.
func devInputs(t testing.TB, task string, n int) []map[string]string {
	t.Helper()
	exs, err := suite.Load(task, "dev")
	if err != nil {
		t.Fatal(err)
	}
	def, ok := data.Lookup(task)
	if !ok {
		t.Fatalf("no task %s", task)
	}
	var out []map[string]string
	for _, ex := range exs[:n] {
		in := map[string]string{}
		for i, f := range def.Inputs {
			in[f.Name] = ex.Fields[i]
		}
		out = append(out, in)
	}
	return out
}

// The server answers each input as the predictor does on its own (what "hypergrid
// predict" prints), with the scores when asked, whatever else runs with it.
func TestPredictMatchesPredictor(t *testing.T) {
	s, hs := newServer(t, Config{MaxBatch: 16, MaxWait: 20 * time.Millisecond})
	ref, err := Open(runDir, job.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, def := range ref.Tasks {
		inputs := devInputs(t, def.Name, 6)
		var texts []string
		for _, in := range inputs {
			text, err := def.InputText(in)
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, text)
		}
		want, err := ref.Predictor.Predict(def.Name, texts)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { // the tasks' requests run at once: mixed batches
			defer wg.Done()
			code, _, body := post(t, hs.URL+"/v1/predict", map[string]any{"task": def.Name, "inputs": inputs, "scores": true})
			if code != 200 {
				t.Errorf("%s: status %d: %s", def.Name, code, body)
				return
			}
			var resp PredictResponse
			if err := json.Unmarshal(body, &resp); err != nil {
				t.Error(err)
				return
			}
			if resp.Task != def.Name || resp.Step != 3 || len(resp.Predictions) != len(want) {
				t.Errorf("%s: answer %s", def.Name, body)
				return
			}
			task, _ := ref.Predictor.Task(def.Name)
			for i, p := range resp.Predictions {
				if p.Prediction != want[i] {
					t.Errorf("%s input %d: server %+v, predictor %+v", def.Name, i, p.Prediction, want[i])
				}
				if len(p.Scores) != len(task.Candidates) {
					t.Errorf("%s: %d scores for %d outputs", def.Name, len(p.Scores), len(task.Candidates))
					continue
				}
				best := 0
				for c, sc := range p.Scores {
					if sc.LogProb > p.Scores[best].LogProb {
						best = c
					}
				}
				if p.Scores[best].Output != p.Text {
					t.Errorf("%s: best score %+v, answer %q", def.Name, p.Scores[best], p.Text)
				}
			}
		}()
	}
	wg.Wait()
	// One input, as a string for a one-field task; no scores unless asked.
	code, _, body := post(t, hs.URL+"/v1/predict", `{"task": "sentiment", "input": "a fine , moving film ."}`)
	if code != 200 || strings.Contains(string(body), "scores") || !strings.Contains(string(body), `"class":`) {
		t.Errorf("one input: %d %s", code, body)
	}
	// Text generation answers text.
	code, _, body = post(t, hs.URL+"/v1/generate", `{"task": "sentiment", "input": {"sentence": "a fine film ."}, "max_new_tokens": 3}`)
	var g GenerateResponse
	if code != 200 || json.Unmarshal(body, &g) != nil || g.Tokens > 3 || g.InputTokens == 0 {
		t.Errorf("generate: %d %s", code, body)
	}
	code, _, body = post(t, hs.URL+"/v1/generate", `{"text": "sentiment sentence: a fine film ."}`)
	if code != 200 {
		t.Errorf("generate text: %d %s", code, body)
	}
	// Tasks, probes, metrics.
	code, body = get(t, hs.URL+"/v1/tasks")
	var tasks TasksResponse
	if code != 200 || json.Unmarshal(body, &tasks) != nil || len(tasks.Tasks) != 3 || tasks.Step != 3 || tasks.MaxInputTokens != 96 {
		t.Errorf("tasks: %d %s", code, body)
	}
	for _, ti := range tasks.Tasks {
		if len(ti.Inputs) == 0 || len(ti.Metrics) == 0 || (ti.Type == "regression") == (len(ti.Labels) > 0) {
			t.Errorf("task %+v", ti)
		}
	}
	if code, _ := get(t, hs.URL+"/healthz"); code != 200 {
		t.Errorf("healthz %d", code)
	}
	if code, _ := get(t, hs.URL+"/readyz"); code != 200 {
		t.Errorf("readyz %d", code)
	}
	code, body = get(t, hs.URL+"/metrics")
	for _, want := range []string{
		`hypergrid_requests_total{code="200",endpoint="predict",task="sentiment"}`,
		`hypergrid_request_duration_seconds_bucket{endpoint="predict"`,
		"hypergrid_batch_examples_bucket", "hypergrid_queue_depth 0", "hypergrid_tokens_total{kind=\"input\"}",
		"hypergrid_tokens_per_second", "hypergrid_model_step 3", `hypergrid_examples_total{task="similarity"} 6`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	s.Drain()
	if code, _ := get(t, hs.URL+"/readyz"); code != 503 {
		t.Errorf("readyz while draining: %d", code)
	}
}

// Requests of different tasks that arrive together run as one batch.
func TestBatchMixesTasks(t *testing.T) {
	batches := make(chan []infer.Item, 4)
	_, hs := newServer(t, Config{MaxBatch: 3, MaxWait: 2 * time.Second, BatchHook: func(items []infer.Item) { batches <- items }})
	var wg sync.WaitGroup
	for _, task := range []string{suite.Sentiment, suite.Paraphrase, suite.Similarity} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _, body := post(t, hs.URL+"/v1/predict", map[string]any{"task": task, "inputs": devInputs(t, task, 1)}); code != 200 {
				t.Errorf("%s: %d %s", task, code, body)
			}
		}()
	}
	wg.Wait()
	_, body := get(t, hs.URL+"/metrics")
	if !strings.Contains(string(body), "hypergrid_batch_examples_count 1\n") || !strings.Contains(string(body), "hypergrid_batch_examples_sum 3\n") {
		t.Errorf("three requests of three tasks did not run as one batch of 3:\n%s", grep(string(body), "hypergrid_batch_examples"))
	}
	select {
	case items := <-batches:
		tasks := map[string]bool{}
		for _, it := range items {
			tasks[it.Task] = true
		}
		if len(items) != 3 || len(tasks) != 3 {
			t.Errorf("the batch hook saw %d items of %d tasks; want 3 of 3", len(items), len(tasks))
		}
	default:
		t.Error("the batch hook saw no batch")
	}
}

func grep(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Every error has its status and says what is wrong.
func TestErrors(t *testing.T) {
	_, hs := newServer(t, Config{MaxBody: 4096, MaxInputs: 3, MaxNewTokens: 8})
	long := strings.Repeat("a very long and winding sentence . ", 40)
	for _, tc := range []struct {
		name, path, body string
		code             int
		want             string
	}{
		{"bad json", "/v1/predict", `{"task": "sentiment", "inputs": [`, 400, "not valid JSON"},
		{"empty body", "/v1/predict", ``, 400, "empty"},
		{"two values", "/v1/predict", `{"task": "sentiment", "input": "x"} {}`, 400, "more than one"},
		{"missing task", "/v1/predict", `{"inputs": [{"sentence": "x"}]}`, 400, `"field":"task"`},
		{"missing inputs", "/v1/predict", `{"task": "sentiment"}`, 400, `"field":"inputs"`},
		{"input and inputs", "/v1/predict", `{"task": "sentiment", "input": "x", "inputs": ["y"]}`, 400, "not both"},
		{"missing input field", "/v1/predict", `{"task": "paraphrase", "inputs": [{"sentence1": "a"}, {"sentence1": "a"}]}`, 400, `"field":"inputs[0].sentence2"`},
		{"unknown input field", "/v1/predict", `{"task": "sentiment", "input": {"sentence": "a", "label": "1"}}`, 400, `"field":"input.label"`},
		{"string for two fields", "/v1/predict", `{"task": "paraphrase", "input": "a"}`, 400, "2 input fields"},
		{"null input", "/v1/predict", `{"task": "sentiment", "inputs": ["fine", null]}`, 400, `"field":"inputs[1]"`},
		{"number value", "/v1/predict", `{"task": "sentiment", "input": {"sentence": 3}}`, 400, `"field":"input"`},
		{"wrong type", "/v1/predict", `{"task": 3, "input": "x"}`, 400, `"field":"task"`},
		{"unknown field", "/v1/predict", `{"task": "sentiment", "input": "x", "topk": 3}`, 400, `"field":"topk"`},
		{"unknown task", "/v1/predict", `{"task": "mnli", "input": "x"}`, 404, `"tasks":["sentiment","paraphrase","similarity"]`},
		{"too many inputs", "/v1/predict", `{"task": "sentiment", "inputs": ["a", "b", "c", "d"]}`, 413, `"limit":3`},
		{"body too large", "/v1/predict", `{"task": "sentiment", "input": "` + strings.Repeat("x", 5000) + `"}`, 413, `"limit":4096`},
		{"input too long", "/v1/predict", `{"task": "sentiment", "inputs": ["fine", "` + long + `"]}`, 422, `"field":"inputs[1]","limit":96`},
		{"input truncated", "/v1/predict", `{"task": "sentiment", "inputs": ["fine", "` + long + `"], "truncate": true}`, 200, `"predictions":[`},
		{"generate: nothing", "/v1/generate", `{"max_new_tokens": 2}`, 400, `"field":"text"`},
		{"generate: input without task", "/v1/generate", `{"input": {"sentence": "x"}}`, 400, `"field":"task"`},
		{"generate: unknown task", "/v1/generate", `{"task": "cola", "text": "x"}`, 404, "cola"},
		{"generate: too many tokens", "/v1/generate", `{"text": "x", "max_new_tokens": 9}`, 422, `"limit":8`},
		{"generate: zero tokens", "/v1/generate", `{"text": "x", "max_new_tokens": 0}`, 400, `"field":"max_new_tokens"`},
		{"generate: too long", "/v1/generate", `{"text": "` + long + `"}`, 422, `"field":"text"`},
		{"reload off", "/v1/reload", ``, 404, "--reload"},
		{"no endpoint", "/v2/predict", `{}`, 404, "POST /v1/predict"},
	} {
		code, _, body := post(t, hs.URL+tc.path, tc.body)
		if code != tc.code || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %s; want %d and %q", tc.name, code, body, tc.code, tc.want)
		}
	}
	if code, _ := get(t, hs.URL+"/v1/predict"); code != 405 {
		t.Errorf("GET /v1/predict: %d", code)
	}
}

// A full queue answers 429, a request not answered in time 503, both with
// Retry-After; a panic answers its batch 500 and the server goes on.
func TestOverloadTimeoutAndPanic(t *testing.T) {
	s, hs := newServer(t, Config{Queue: 1, MaxBatch: 1, Timeout: 300 * time.Millisecond})
	release := make(chan struct{})
	blocked := make(chan struct{}, 10)
	s.beforeBatch = func(items []infer.Item) {
		if strings.Contains(items[0].Input, "BLOCK") {
			blocked <- struct{}{}
			<-release
		}
		if strings.Contains(items[0].Input, "PANIC") {
			panic("test panic")
		}
	}
	type reply struct {
		code int
		hdr  http.Header
		body []byte
	}
	first := make(chan reply, 1)
	go func() {
		code, hdr, body := post(t, hs.URL+"/v1/predict", `{"task": "sentiment", "input": "BLOCK"}`)
		first <- reply{code, hdr, body}
	}()
	<-blocked // the worker is busy with the first request
	second := make(chan reply, 1)
	go func() {
		code, hdr, body := post(t, hs.URL+"/v1/predict", `{"task": "sentiment", "input": "queued"}`)
		second <- reply{code, hdr, body}
	}()
	for deadline := time.Now().Add(5 * time.Second); len(s.queue) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second request was never queued")
		}
	}
	code, hdr, body := post(t, hs.URL+"/v1/predict", `{"task": "sentiment", "input": "third"}`)
	if code != 429 || hdr.Get("Retry-After") == "" || !strings.Contains(string(body), "--queue") {
		t.Errorf("full queue: %d %v %s", code, hdr, body)
	}
	r1, r2 := <-first, <-second
	for _, r := range []reply{r1, r2} {
		if r.code != 503 || r.hdr.Get("Retry-After") == "" || !strings.Contains(string(r.body), "timeout") {
			t.Errorf("timed out request: %d %v %s", r.code, r.hdr, r.body)
		}
	}
	close(release)
	for deadline := time.Now().Add(5 * time.Second); len(s.queue) > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the queue never emptied")
		}
	}
	code, _, body = post(t, hs.URL+"/v1/predict", `{"task": "sentiment", "input": "PANIC"}`)
	if code != 500 || !strings.Contains(string(body), "recovered") {
		t.Errorf("panic: %d %s", code, body)
	}
	code, _, body = post(t, hs.URL+"/v1/predict", `{"task": "sentiment", "input": "after the panic"}`)
	if code != 200 {
		t.Errorf("after a panic: %d %s", code, body)
	}
	_, metrics := get(t, hs.URL+"/metrics")
	for _, want := range []string{"hypergrid_panics_total 1", `code="429"`, `code="503"`, `code="500"`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// A reload switches to the run's newer checkpoint while requests keep coming: none
// fails, and the answers come from the new step after it.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if err := os.CopyFS(run, os.DirFS(runDir)); err != nil {
		t.Fatal(err)
	}
	m, err := Open(run, job.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(m, Config{Reload: func() (*Model, error) { return Open(run, job.OpenOptions{}) }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	defer func() { hs.Close(); s.Close() }()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	steps := map[int]int{}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, _, body := post(t, hs.URL+"/v1/predict", `{"task": "paraphrase", "input": {"sentence1": "a b", "sentence2": "a c"}}`)
				var resp PredictResponse
				if code != 200 || json.Unmarshal(body, &resp) != nil {
					t.Errorf("during a reload: %d %s", code, body)
					return
				}
				mu.Lock()
				steps[resp.Step]++
				mu.Unlock()
			}
		}()
	}
	if err := trainRun(run, 5); err != nil {
		t.Fatal(err)
	}
	code, _, body := post(t, hs.URL+"/v1/reload", "")
	if code != 200 || !strings.Contains(string(body), `"step":5,"previous_step":3`) {
		t.Errorf("reload: %d %s", code, body)
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if steps[5] == 0 {
		t.Errorf("no answer from the new checkpoint: %v", steps)
	}
	if _, body := get(t, hs.URL+"/metrics"); !strings.Contains(string(body), "hypergrid_model_step 5") {
		t.Error("metrics do not show step 5")
	}
	// A reload that fails keeps the model served.
	os.RemoveAll(filepath.Join(run, checkpoint.CheckpointDir))
	code, _, body = post(t, hs.URL+"/v1/reload", "")
	if code != 409 || !strings.Contains(string(body), `"step":5`) {
		t.Errorf("failed reload: %d %s", code, body)
	}
	if code, _, body := post(t, hs.URL+"/v1/predict", `{"task": "sentiment", "input": "fine"}`); code != 200 {
		t.Errorf("after a failed reload: %d %s", code, body)
	}
}

// Clients over loopback, a fifth of their requests bad, and a shutdown (what SIGTERM
// does) in the middle of the run: no valid request gets a 5xx, every request the
// server accepted is answered, and the shutdown is clean.
func TestLoadAndShutdown(t *testing.T) {
	m, err := Open(runDir, job.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(m, Config{MaxBatch: 8, MaxWait: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	started, finished := 0, 0
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		started++
		mu.Unlock()
		s.ServeHTTP(w, r)
		mu.Lock()
		finished++
		mu.Unlock()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: counted}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	url := "http://" + ln.Addr().String()

	type out struct {
		res *LoadResult
		err error
	}
	loaded := make(chan out, 1)
	lctx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	go func() {
		res, err := Load(lctx, LoadOptions{URL: url, Clients: 4, Duration: 20 * time.Second, MaxRequests: 5000, Bad: 0.2, Seed: 1})
		loaded <- out{res, err}
	}()
	// Shut down after a second and at least 20 answers (a slow machine, an emulator).
	start := time.Now()
	for {
		mu.Lock()
		n := finished
		mu.Unlock()
		if (n >= 20 && time.Since(start) >= time.Second) || time.Since(start) > 15*time.Second {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	s.Close()
	if err := <-served; err != http.ErrServerClosed {
		t.Errorf("Serve returned %v", err)
	}
	time.Sleep(200 * time.Millisecond) // the clients find the server gone
	stopLoad()
	o := <-loaded
	if o.err != nil {
		t.Fatal(o.err)
	}
	res := o.res
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d requests (%d valid: %v, %d examples) in %v, %s, %d unanswered after the shutdown, p50 %v p99 %v",
		res.Requests, res.Valid, res.ValidStatus, res.Examples, res.Elapsed, res.StatusLine(), res.TransportErrors, res.Percentile(0.5), res.Percentile(0.99))
	if res.Valid == 0 || res.Requests == res.Valid {
		t.Fatalf("valid %d of %d requests: want both kinds", res.Valid, res.Requests)
	}
	if n := res.ServerErrors(); n != 0 {
		t.Errorf("%d valid requests got a 5xx: %v", n, res.ValidStatus)
	}
	if res.Unexpected != 0 {
		t.Errorf("%d bad requests got another status than their kind's: %s", res.Unexpected, res.StatusLine())
	}
	// started includes the load generator's GET /v1/tasks.
	if started != finished || finished != res.Requests+1 {
		t.Errorf("the server started %d requests and finished %d; the clients got %d answers (+1 for /v1/tasks)", started, finished, res.Requests)
	}
	if res.TransportErrors == 0 {
		t.Error("no request was refused after the shutdown: did it happen mid-run?")
	}
}

// An open-loop load (Rate) sends its requests on schedule, bounded by MaxRequests,
// with a fifth of them bad: every one is answered with its kind's status.
func TestLoadOpenLoop(t *testing.T) {
	_, hs := newServer(t, Config{MaxBatch: 8, MaxWait: time.Millisecond})
	res, err := Load(context.Background(), LoadOptions{URL: hs.URL, Clients: 4, Rate: 200, Duration: 20 * time.Second, MaxRequests: 30, Bad: 0.2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 30 || res.Unexpected != 0 || res.ServerErrors() != 0 || res.TransportErrors != 0 {
		t.Errorf("open loop: %d requests (want 30), %d unexpected, %d 5xx, %d unanswered (%s)", res.Requests, res.Unexpected, res.ServerErrors(), res.TransportErrors, res.StatusLine())
	}
	if res.Valid == 0 || len(res.Latencies) != res.Valid {
		t.Errorf("%d valid requests, %d latencies", res.Valid, len(res.Latencies))
	}
	// On schedule: 10 arrivals at 20 per second (a seeded schedule of about half a
	// second) cannot all be sent in a moment, as closed-loop clients would.
	res, err = Load(context.Background(), LoadOptions{URL: hs.URL, Clients: 4, Rate: 20, Duration: 20 * time.Second, MaxRequests: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 10 || res.Elapsed < 150*time.Millisecond {
		t.Errorf("10 requests at 20 per second: %d sent in %v", res.Requests, res.Elapsed)
	}
	for _, bad := range []float64{-1, MaxRate + 1} {
		if _, err := Load(context.Background(), LoadOptions{URL: hs.URL, Rate: bad}); err == nil || !strings.Contains(err.Error(), "rate") {
			t.Errorf("rate %v: %v", bad, err)
		}
	}
}
