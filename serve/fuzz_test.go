package serve

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/job"
)

// fuzzServer is one server of the test run for every fuzz input.
var fuzzServer = sync.OnceValues(func() (*Server, error) {
	m, err := Open(runDir, job.OpenOptions{})
	if err != nil {
		return nil, err
	}
	return New(m, Config{MaxBatch: 8, MaxWait: time.Millisecond, MaxNewTokens: 4, Timeout: 20 * time.Second})
})

// FuzzRequests sends arbitrary bodies to /v1/predict and /v1/generate: every answer is
// a JSON object with a 2xx or 4xx status — never a 5xx, never a panic or a hang.
func FuzzRequests(f *testing.F) {
	for _, seed := range []string{
		`{"task": "sentiment", "input": "a fine film ."}`,
		`{"task": "paraphrase", "inputs": [{"sentence1": "a", "sentence2": "b"}], "scores": true}`,
		`{"task": "similarity", "input": {"sentence1": "a", "sentence2": "b"}, "truncate": true}`,
		`{"text": "sentiment sentence: good", "max_new_tokens": 3}`,
		`{"task": "mnli", "input": "x"}`, `{"task": 3}`, `{oops`, ``, `null`, `[]`, `{"inputs": [null]}`,
	} {
		f.Add(uint8(0), []byte(seed))
		f.Add(uint8(1), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		s, err := fuzzServer()
		if err != nil {
			t.Fatal(err)
		}
		path := "/v1/predict"
		if which%2 == 1 {
			path = "/v1/generate"
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
		if rec.Code >= 500 {
			t.Fatalf("%s %q: status %d: %s", path, body, rec.Code, rec.Body.String())
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %q: status %d, the answer is not a JSON object: %q", path, body, rec.Code, rec.Body.String())
		}
	})
}
