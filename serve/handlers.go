package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/model"
)

// PredictRequest is the body of POST /v1/predict.
type PredictRequest struct {
	// Task names one of the model's tasks.
	Task string `json:"task"`
	// Inputs are the inputs to answer, each an object of the task's input fields
	// ({"sentence": "..."}) or, for a task with one input field, a string. Input is
	// one input instead of a list; give one of the two.
	Inputs []json.RawMessage `json:"inputs,omitempty"`
	Input  json.RawMessage   `json:"input,omitempty"`
	// Scores asks for each possible output's log-probability.
	Scores bool `json:"scores,omitempty"`
	// Truncate cuts inputs longer than the model reads instead of refusing them (422).
	Truncate bool `json:"truncate,omitempty"`
}

// PredictResponse is the answer of POST /v1/predict.
type PredictResponse struct {
	// Task is the task answered; Step the training step of the checkpoint that
	// answered.
	Task string `json:"task"`
	Step int    `json:"model_step"`
	// Predictions has one entry per input, in order.
	Predictions []Prediction `json:"predictions"`
}

// Prediction is the answer for one input: the fields "hypergrid predict" prints
// (prediction, class, value), and the scores when asked.
type Prediction struct {
	infer.Prediction
	// Scores holds each possible output with its log-probability, when asked.
	Scores []Score `json:"scores,omitempty"`
}

// Score is one possible output of a task (a label word, or a value of a regression
// task's grid) with the log-probability the model gives it.
type Score struct {
	// Output is the label word or value; LogProb its log-probability.
	Output  string  `json:"output"`
	LogProb float64 `json:"logprob"`
}

// GenerateRequest is the body of POST /v1/generate.
type GenerateRequest struct {
	// Task, when given, is the task whose index the model is given; it is needed to
	// format Input.
	Task string `json:"task,omitempty"`
	// Input is an object of the task's input fields (or a string, for a task with
	// one); Text is the input text as is (prefix included). Give one of the two.
	Input json.RawMessage `json:"input,omitempty"`
	Text  *string         `json:"text,omitempty"`
	// MaxNewTokens bounds the output (default and most: Config.MaxNewTokens).
	MaxNewTokens *int `json:"max_new_tokens,omitempty"`
	// Truncate cuts an input longer than the model reads instead of refusing it.
	Truncate bool `json:"truncate,omitempty"`
}

// GenerateResponse is the answer of POST /v1/generate.
type GenerateResponse struct {
	// Text is the greedy output (up to EOS or the token limit).
	Text string `json:"text"`
	// InputTokens and Tokens count the tokens read and generated.
	InputTokens int `json:"input_tokens"`
	Tokens      int `json:"tokens"`
	// Step is the training step of the checkpoint that answered.
	Step int `json:"model_step"`
}

// TaskInfo describes one task in GET /v1/tasks.
type TaskInfo struct {
	// Name is the task's name; Type "classification" or "regression".
	Name string `json:"name"`
	Type string `json:"type"`
	// Prefix starts the task's input texts.
	Prefix string `json:"prefix,omitempty"`
	// Inputs names the input fields a request gives.
	Inputs []string `json:"inputs"`
	// Labels are a classification task's label words, by class id.
	Labels []string `json:"labels,omitempty"`
	// Range and Round are a regression task's value range and rounding step.
	Range []float64 `json:"range,omitempty"`
	Round float64   `json:"round,omitempty"`
	// Metrics are the task's GLUE metrics.
	Metrics []string `json:"metrics"`
}

// TasksResponse is the answer of GET /v1/tasks.
type TasksResponse struct {
	// Checkpoint and Step say which checkpoint is served; Arch its architecture
	// ("t5" or "encoder").
	Checkpoint string `json:"checkpoint"`
	Step       int    `json:"step"`
	Arch       string `json:"arch"`
	// MaxInputTokens is the most tokens of an input the model reads (EOS included);
	// MaxInputs and MaxNewTokens are the server's limits per request.
	MaxInputTokens int `json:"max_input_tokens"`
	MaxInputs      int `json:"max_inputs"`
	MaxNewTokens   int `json:"max_new_tokens"`
	// Tasks are the model's tasks, in its order.
	Tasks []TaskInfo `json:"tasks"`
}

// Error is the body of every error answer.
type Error struct {
	// Error says what is wrong and what to do.
	Error string `json:"error"`
	// Field names the request field at fault, when one is.
	Field string `json:"field,omitempty"`
	// Limit is the limit exceeded (bytes, inputs or tokens), when one was.
	Limit int64 `json:"limit,omitempty"`
	// Tasks lists the model's tasks (unknown task).
	Tasks []string `json:"tasks,omitempty"`
}

// httpError is an error answer: a status and its body.
type httpError struct {
	status     int
	body       Error
	retryAfter int
}

func (e *httpError) Error() string { return e.body.Error }

func badRequest(field, format string, args ...any) *httpError {
	return &httpError{status: http.StatusBadRequest, body: Error{Error: fmt.Sprintf(format, args...), Field: field}}
}

// recorder keeps the status a handler wrote and the task it answered.
type recorder struct {
	http.ResponseWriter
	status int
	task   string
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// routes sets up the server's endpoints.
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	handle := func(pattern, endpoint string, h func(w *recorder, r *http.Request)) {
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := &recorder{ResponseWriter: w}
			h(rec, r)
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			s.metrics.requests.WithLabelValues(endpoint, rec.task, strconv.Itoa(rec.status)).Inc()
			s.metrics.latency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
		})
	}
	handle("/v1/predict", "predict", s.handlePredict)
	handle("/v1/generate", "generate", s.handleGenerate)
	handle("/v1/tasks", "tasks", s.handleTasks)
	handle("/v1/reload", "reload", s.handleReload)
	handle("/healthz", "healthz", func(w *recorder, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	handle("/readyz", "readyz", func(w *recorder, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "stopping"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "step": s.Model().Step})
	})
	metrics := s.metricsHandler()
	handle("/metrics", "metrics", func(w *recorder, r *http.Request) { metrics.ServeHTTP(w, r) })
	handle("/", "other", func(w *recorder, r *http.Request) {
		writeError(w, &httpError{status: http.StatusNotFound, body: Error{Error: fmt.Sprintf("no endpoint %s; the endpoints are POST /v1/predict, POST /v1/generate, GET /v1/tasks, POST /v1/reload, GET /healthz, GET /readyz, GET /metrics", r.URL.Path)}})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, e *httpError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, e.body)
}

// method answers 405 unless r's method is want.
func method(w http.ResponseWriter, r *http.Request, want string) bool {
	if r.Method == want || (want == http.MethodGet && r.Method == http.MethodHead) {
		return true
	}
	w.Header().Set("Allow", want)
	writeError(w, &httpError{status: http.StatusMethodNotAllowed, body: Error{Error: fmt.Sprintf("%s takes %s, not %s", r.URL.Path, want, r.Method)}})
	return false
}

// decode reads r's body, at most MaxBody bytes, as one JSON value into v; unknown
// fields are refused.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) *httpError {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return &httpError{status: http.StatusRequestEntityTooLarge, body: Error{Error: fmt.Sprintf("the request body is larger than the limit of %d bytes (--max-body)", s.cfg.MaxBody), Limit: s.cfg.MaxBody}}
		}
		return badRequest("", "cannot read the request body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return badRequest(te.Field, "field %q: want %s, got a JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		case errors.As(err, &se):
			return badRequest("", "the body is not valid JSON: %v (at byte %d)", err, se.Offset)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badRequest(f, "unknown field %q", f)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("", "the body is not valid JSON: it ends too early")
		case errors.Is(err, io.EOF):
			return badRequest("", "the body is empty: want a JSON object")
		}
		return badRequest("", "the body is not a valid request: %v", err)
	}
	if dec.More() {
		return badRequest("", "the body holds more than one JSON value")
	}
	return nil
}

func jsonKind(k string) string {
	switch k {
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "float64":
		return "a number"
	}
	return "a " + k
}

// task returns the model's task called name, or the error answer: 400 when name is
// empty, 404 listing the tasks when unknown.
func task(m *Model, name string) (*data.TaskDef, *httpError) {
	if name == "" {
		return nil, badRequest("task", "missing field \"task\": one of %s", strings.Join(taskNames(m), ", "))
	}
	for i := range m.Tasks {
		if m.Tasks[i].Name == name {
			return &m.Tasks[i], nil
		}
	}
	return nil, unknownTask(name, taskNames(m))
}

func unknownTask(name string, known []string) *httpError {
	return &httpError{status: http.StatusNotFound, body: Error{Error: fmt.Sprintf("task %q is not one of this model's tasks (%s)", name, strings.Join(known, ", ")), Field: "task", Tasks: known}}
}

func taskNames(m *Model) []string {
	names := make([]string, len(m.Tasks))
	for i, t := range m.Tasks {
		names[i] = t.Name
	}
	return names
}

// inputText formats raw (an object of def's input fields, or a string for a task with
// one) as def's input text; field names the request field for errors.
func inputText(def *data.TaskDef, raw json.RawMessage, field string) (string, *httpError) {
	var vals map[string]string
	var str string
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return "", badRequest(field, "%s is null: want an object of task %s's input fields (%s)", field, def.Name, strings.Join(def.InputNames(), ", "))
	}
	if err := json.Unmarshal(raw, &str); err == nil {
		if len(def.Inputs) != 1 {
			return "", badRequest(field, "%s: task %s has %d input fields (%s): give an object of them", field, def.Name, len(def.Inputs), strings.Join(def.InputNames(), ", "))
		}
		vals = map[string]string{def.Inputs[0].Name: str}
	} else if err := json.Unmarshal(raw, &vals); err != nil || vals == nil {
		return "", badRequest(field, "%s: want an object of task %s's input fields (%s) with string values", field, def.Name, strings.Join(def.InputNames(), ", "))
	}
	for _, f := range def.Inputs {
		if _, ok := vals[f.Name]; !ok {
			return "", badRequest(field+"."+f.Name, "%s: missing field %q (task %s needs %s)", field, f.Name, def.Name, strings.Join(def.InputNames(), ", "))
		}
	}
	for k := range vals {
		if !slices.Contains(def.InputNames(), k) {
			return "", badRequest(field+"."+k, "%s: task %s has no input field %q; its fields are %s", field, def.Name, k, strings.Join(def.InputNames(), ", "))
		}
	}
	text, err := def.InputText(vals)
	if err != nil {
		return "", badRequest(field, "%s: %v", field, err)
	}
	return text, nil
}

// checkLength answers 422 when text is longer than p reads and truncating was not
// asked for.
func checkLength(p *infer.Predictor, text, field string, truncate bool) *httpError {
	if truncate {
		return nil
	}
	if n := p.Enc.InputTokens(text); n > p.Enc.MaxInputLen {
		return &httpError{status: http.StatusUnprocessableEntity, body: Error{
			Error: fmt.Sprintf("%s is %d tokens (EOS included), more than the model's limit of %d: shorten it or send \"truncate\": true to cut it", field, n, p.Enc.MaxInputLen),
			Field: field, Limit: int64(p.Enc.MaxInputLen)}}
	}
	return nil
}

// wait queues j and waits for its answer within the request's timeout.
func (s *Server) wait(r *http.Request, j *pending) (result, *httpError) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	j.ctx, j.done = ctx, make(chan result, 1)
	switch err := s.enqueue(j); {
	case errors.Is(err, errQueueFull):
		return result{}, &httpError{status: http.StatusTooManyRequests, retryAfter: 1, body: Error{Error: fmt.Sprintf("the server is busy: %d requests are waiting (--queue); retry later", s.cfg.Queue), Limit: int64(s.cfg.Queue)}}
	case err != nil:
		return result{}, &httpError{status: http.StatusServiceUnavailable, retryAfter: 1, body: Error{Error: err.Error()}}
	}
	var res result
	select {
	case res = <-j.done:
	case <-ctx.Done():
		res = result{err: ctx.Err()}
	}
	var u *infer.UnknownTaskError
	switch {
	case res.err == nil:
		return res, nil
	case errors.As(res.err, &u):
		return res, unknownTask(u.Task, u.Known)
	case errors.Is(res.err, context.DeadlineExceeded):
		return res, &httpError{status: http.StatusServiceUnavailable, retryAfter: 1, body: Error{Error: fmt.Sprintf("no answer within the request timeout of %v (--timeout): the server is overloaded; retry later", s.cfg.Timeout)}}
	case errors.Is(res.err, context.Canceled):
		// The client is gone: nobody reads this answer.
		return res, &httpError{status: 499, body: Error{Error: "the client closed the request"}}
	}
	return res, &httpError{status: http.StatusInternalServerError, body: Error{Error: res.err.Error()}}
}

func (s *Server) handlePredict(w *recorder, r *http.Request) {
	if !method(w, r, http.MethodPost) {
		return
	}
	var req PredictRequest
	if e := s.decode(w, r, &req); e != nil {
		writeError(w, e)
		return
	}
	m := s.Model()
	def, e := task(m, req.Task)
	if e != nil {
		writeError(w, e)
		return
	}
	w.task = def.Name
	raws := req.Inputs
	field := "inputs"
	switch {
	case req.Input != nil && req.Inputs != nil:
		writeError(w, badRequest("input", "give \"input\" (one) or \"inputs\" (a list), not both"))
		return
	case req.Input != nil:
		raws, field = []json.RawMessage{req.Input}, "input"
	case len(req.Inputs) == 0:
		writeError(w, badRequest("inputs", "missing field \"inputs\" (a list of objects of task %s's input fields %s) or \"input\" (one)", def.Name, strings.Join(def.InputNames(), ", ")))
		return
	}
	if len(raws) > s.cfg.MaxInputs {
		writeError(w, &httpError{status: http.StatusRequestEntityTooLarge, body: Error{Error: fmt.Sprintf("%d inputs, more than the limit of %d per request (--max-inputs): split them", len(raws), s.cfg.MaxInputs), Field: "inputs", Limit: int64(s.cfg.MaxInputs)}})
		return
	}
	j := &pending{items: make([]infer.Item, len(raws))}
	for i, raw := range raws {
		f := field
		if field == "inputs" {
			f = fmt.Sprintf("inputs[%d]", i)
		}
		text, e := inputText(def, raw, f)
		if e == nil {
			e = checkLength(m.Predictor, text, f, req.Truncate)
		}
		if e != nil {
			writeError(w, e)
			return
		}
		j.items[i] = infer.Item{Task: def.Name, Input: text}
	}
	res, e := s.wait(r, j)
	if e != nil {
		writeError(w, e)
		return
	}
	// The task table is read-only once made: reading it beside the worker is safe.
	t, err := m.Predictor.Task(def.Name)
	if err != nil {
		writeError(w, unknownTask(def.Name, taskNames(m)))
		return
	}
	resp := PredictResponse{Task: def.Name, Step: res.step, Predictions: make([]Prediction, len(res.answers))}
	for i, a := range res.answers {
		resp.Predictions[i].Prediction = a.Prediction
		if req.Scores && a.Scores != nil {
			sc := make([]Score, len(a.Scores))
			for c, lp := range a.Scores {
				sc[c] = Score{Output: outputName(t, c), LogProb: lp}
			}
			resp.Predictions[i].Scores = sc
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// outputName names task t's possible output c: its label word, or the value of its
// regression grid as the task writes it.
func outputName(t *infer.Task, c int) string {
	if t.Def.IsRegression() {
		return t.Def.ScoreText(t.Values[c])
	}
	return t.Def.LabelWords[c]
}

func (s *Server) handleGenerate(w *recorder, r *http.Request) {
	if !method(w, r, http.MethodPost) {
		return
	}
	var req GenerateRequest
	if e := s.decode(w, r, &req); e != nil {
		writeError(w, e)
		return
	}
	m := s.Model()
	if m.Predictor.Model.Spec.Arch != model.ArchT5 {
		writeError(w, &httpError{status: http.StatusUnprocessableEntity, body: Error{Error: infer.ErrCannotGenerate.Error()}})
		return
	}
	var def *data.TaskDef
	if req.Task != "" {
		var e *httpError
		if def, e = task(m, req.Task); e != nil {
			writeError(w, e)
			return
		}
		w.task = def.Name
	}
	var text, field string
	switch {
	case req.Input != nil && req.Text != nil:
		writeError(w, badRequest("input", "give \"input\" (the task's fields) or \"text\" (the input text as is), not both"))
		return
	case req.Text != nil:
		text, field = *req.Text, "text"
	case req.Input != nil:
		if def == nil {
			writeError(w, badRequest("task", "missing field \"task\": \"input\" is formatted by its task (one of %s); or give \"text\"", strings.Join(taskNames(m), ", ")))
			return
		}
		var e *httpError
		if text, e = inputText(def, req.Input, "input"); e != nil {
			writeError(w, e)
			return
		}
		field = "input"
	default:
		writeError(w, badRequest("text", "missing field \"text\" (the input text) or \"input\" (an object of the task's input fields, with \"task\")"))
		return
	}
	n := s.cfg.MaxNewTokens
	if req.MaxNewTokens != nil {
		n = *req.MaxNewTokens
		if n <= 0 {
			writeError(w, badRequest("max_new_tokens", "max_new_tokens is %d; want at least 1", n))
			return
		}
		if n > s.cfg.MaxNewTokens {
			writeError(w, &httpError{status: http.StatusUnprocessableEntity, body: Error{Error: fmt.Sprintf("max_new_tokens is %d, more than the limit of %d", n, s.cfg.MaxNewTokens), Field: "max_new_tokens", Limit: int64(s.cfg.MaxNewTokens)}})
			return
		}
	}
	if e := checkLength(m.Predictor, text, field, req.Truncate); e != nil {
		writeError(w, e)
		return
	}
	res, e := s.wait(r, &pending{gens: []infer.GenerateItem{{Task: req.Task, Input: text, MaxNewTokens: n}}})
	if e != nil {
		writeError(w, e)
		return
	}
	g := res.gens[0]
	writeJSON(w, http.StatusOK, GenerateResponse{Text: g.Text, InputTokens: g.InputTokens, Tokens: g.OutputTokens, Step: res.step})
}

func (s *Server) handleTasks(w *recorder, r *http.Request) {
	if !method(w, r, http.MethodGet) {
		return
	}
	m := s.Model()
	resp := TasksResponse{Checkpoint: m.Source, Step: m.Step, Arch: string(m.Predictor.Model.Spec.Arch),
		MaxInputTokens: m.Predictor.Enc.MaxInputLen, MaxInputs: s.cfg.MaxInputs, MaxNewTokens: s.cfg.MaxNewTokens}
	for _, def := range m.Tasks {
		ti := TaskInfo{Name: def.Name, Type: def.TaskType(), Prefix: def.Prefix, Inputs: def.InputNames(), Metrics: def.Metrics}
		if def.IsRegression() {
			ti.Range, ti.Round = def.Range, def.Round
		} else {
			ti.Labels = def.LabelWords
		}
		resp.Tasks = append(resp.Tasks, ti)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleReload(w *recorder, r *http.Request) {
	if !method(w, r, http.MethodPost) {
		return
	}
	if s.cfg.Reload == nil {
		writeError(w, &httpError{status: http.StatusNotFound, body: Error{Error: ErrReloadOff.Error()}})
		return
	}
	res, err := s.Reload()
	if err != nil {
		// The server keeps serving the old model: the reload failed, not the server.
		writeJSON(w, http.StatusConflict, map[string]any{"error": "reload failed: " + err.Error(), "checkpoint": res.Source, "step": res.Step})
		return
	}
	writeJSON(w, http.StatusOK, res)
}
