package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// MaxRate is the highest open-loop request rate Load accepts, per second.
const MaxRate = 100_000

// LoadOptions configure Load, a load generator for a running server.
type LoadOptions struct {
	// URL is the server's base URL (http://127.0.0.1:8080).
	URL string
	// Clients is the number of concurrent clients (default 4); each sends one request
	// at a time. With Rate, it bounds the requests in flight instead.
	Clients int
	// Rate, when positive, sends requests open-loop at this many per second on
	// average (Poisson arrivals, whatever the answers' speed) instead of one per
	// client after the last answer: the way to measure latency at a given load. A
	// request's latency counts from its scheduled arrival, so a server that falls
	// behind shows it; arrivals beyond Clients requests in flight wait (Delayed counts
	// them).
	Rate float64
	// Duration bounds the run (default 2s); MaxRequests, when positive, bounds the
	// requests sent by all clients together.
	Duration    time.Duration
	MaxRequests int
	// Bad is the share of bad requests (0 to 1): bad JSON, an unknown task, a missing
	// field, too many inputs, an input too long.
	Bad float64
	// Mix lists the tasks the valid requests ask (default: all the server's tasks,
	// read from GET /v1/tasks).
	Mix []string
	// Seed makes the sequence of requests repeatable.
	Seed uint64
	// Client sends the requests (default: a client with 2×Clients idle connections).
	Client *http.Client
}

// LoadResult is what a Load run measured.
type LoadResult struct {
	// Elapsed is the run's wall time.
	Elapsed time.Duration
	// Requests counts the requests answered (any status); Valid those that were valid;
	// Examples the inputs of the valid requests answered 200.
	Requests, Valid, Examples int
	// Status counts the answers by status code; ValidStatus those of valid requests;
	// Unexpected the bad requests answered another status than their kind's.
	Status, ValidStatus map[int]int
	Unexpected          int
	// TransportErrors counts requests that got no answer (connection refused or
	// closed: the server was not accepting).
	TransportErrors int
	// Latencies holds the valid requests' times to answer, sorted.
	Latencies []time.Duration
	// Delayed counts the arrivals of an open-loop run (Rate) that waited because
	// Clients requests were in flight.
	Delayed int
}

// Percentile returns the q-th quantile (0 to 1) of the valid requests' latencies.
func (r *LoadResult) Percentile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := min(len(r.Latencies)-1, int(q*float64(len(r.Latencies))))
	return r.Latencies[i]
}

// ServerErrors returns the number of valid requests answered with a 5xx status.
func (r *LoadResult) ServerErrors() int {
	n := 0
	for code, c := range r.ValidStatus {
		if code >= 500 {
			n += c
		}
	}
	return n
}

// StatusLine writes the counts by status as "status_200=N status_400=M ...".
func (r *LoadResult) StatusLine() string {
	codes := make([]int, 0, len(r.Status))
	for c := range r.Status {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("status_%d=%d", c, r.Status[c]))
	}
	return strings.Join(parts, " ")
}

// loadWords make up the valid requests' sentences.
var loadWords = strings.Fields("the a film movie plot story actors is was not very quite rather good bad fine dull moving clever funny long short slow . , and but")

// loadRequest is one request of a load run.
type loadRequest struct {
	path     string
	body     []byte
	valid    bool
	examples int
	want     int // the status a bad request must get
}

// Load runs opts.Clients concurrent clients against the server at opts.URL for
// opts.Duration (or until ctx ends or MaxRequests are sent): each sends predict
// requests of the task mix, a share opts.Bad of them bad, one at a time. A client
// whose request gets no answer waits 10ms before the next.
func Load(ctx context.Context, opts LoadOptions) (*LoadResult, error) {
	if opts.Clients <= 0 {
		opts.Clients = 4
	}
	if opts.Duration <= 0 {
		opts.Duration = 2 * time.Second
	}
	if opts.Bad < 0 || opts.Bad > 1 {
		return nil, fmt.Errorf("the share of bad requests is %v; want 0 to 1", opts.Bad)
	}
	if !(opts.Rate >= 0 && opts.Rate <= MaxRate) {
		return nil, fmt.Errorf("the request rate is %v per second; want 0 (closed loop) to %d", opts.Rate, MaxRate)
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * opts.Clients}}
		defer client.CloseIdleConnections()
	}
	info, err := fetchTasks(ctx, client, opts.URL)
	if err != nil {
		return nil, err
	}
	byName := map[string]TaskInfo{}
	for _, t := range info.Tasks {
		byName[t.Name] = t
	}
	mix := opts.Mix
	if len(mix) == 0 {
		for _, t := range info.Tasks {
			mix = append(mix, t.Name)
		}
	}
	for _, name := range mix {
		if _, ok := byName[name]; !ok {
			var known []string
			for _, t := range info.Tasks {
				known = append(known, t.Name)
			}
			return nil, fmt.Errorf("task %q of the mix is not one of the server's tasks (%s)", name, strings.Join(known, ", "))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	res := &LoadResult{Status: map[int]int{}, ValidStatus: map[int]int{}}
	var mu sync.Mutex
	var sent int
	// take reserves one request of MaxRequests; false when they are all sent.
	take := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if opts.MaxRequests > 0 && sent >= opts.MaxRequests {
			return false
		}
		sent++
		return true
	}
	// shoot sends req, scheduled at t0, and records its answer; false when it got
	// none.
	shoot := func(req loadRequest, t0 time.Time) bool {
		code, err := send(ctx, client, opts.URL+req.path, req.body)
		lat := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if ctx.Err() == nil {
				res.TransportErrors++
			}
			return false
		}
		res.Requests++
		res.Status[code]++
		if req.valid {
			res.Valid++
			res.ValidStatus[code]++
			res.Latencies = append(res.Latencies, lat)
			if code == http.StatusOK {
				res.Examples += req.examples
			}
		} else if code != req.want {
			res.Unexpected++
		}
		return true
	}
	pick := func(rng *rand.Rand) loadRequest {
		return makeRequest(rng, info, byName[mix[rng.IntN(len(mix))]], opts.Bad)
	}
	var wg sync.WaitGroup
	start := time.Now()
	if opts.Rate > 0 {
		// Open loop: arrivals on a Poisson schedule, at most Clients in flight.
		rng := rand.New(rand.NewPCG(opts.Seed, 1<<32))
		slots := make(chan struct{}, opts.Clients)
		next := start
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
	arrivals:
		for ctx.Err() == nil && take() {
			next = next.Add(time.Duration(rng.ExpFloat64() / opts.Rate * float64(time.Second)))
			timer.Reset(time.Until(next))
			select {
			case <-ctx.Done():
				break arrivals
			case <-timer.C:
			}
			req := pick(rng)
			select {
			case slots <- struct{}{}:
			default:
				mu.Lock()
				res.Delayed++
				mu.Unlock()
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					break arrivals
				}
			}
			wg.Add(1)
			go func(t0 time.Time) {
				defer wg.Done()
				shoot(req, t0)
				<-slots
			}(next)
		}
	} else {
		for c := range opts.Clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(opts.Seed, uint64(c)))
				for ctx.Err() == nil && take() {
					if !shoot(pick(rng), time.Now()) {
						select {
						case <-ctx.Done():
						case <-time.After(10 * time.Millisecond):
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	slices.Sort(res.Latencies)
	return res, nil
}

// fetchTasks reads the server's GET /v1/tasks.
func fetchTasks(ctx context.Context, client *http.Client, url string) (*TasksResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/tasks", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var info TasksResponse
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/v1/tasks: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return nil, fmt.Errorf("GET %s/v1/tasks: %v", url, err)
	}
	if len(info.Tasks) == 0 {
		return nil, errors.New("the server has no tasks")
	}
	return &info, nil
}

// send posts body and returns the status; the answer is read and dropped.
func send(ctx context.Context, client *http.Client, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// makeRequest returns a valid predict request of task t (1 to 4 inputs of a few
// words, truncated if need be), or with probability bad one of the bad kinds.
func makeRequest(rng *rand.Rand, info *TasksResponse, t TaskInfo, bad float64) loadRequest {
	sentence := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = loadWords[rng.IntN(len(loadWords))]
		}
		return strings.Join(w, " ")
	}
	input := func(words int) map[string]string {
		in := map[string]string{}
		for _, f := range t.Inputs {
			in[f] = sentence(words)
		}
		return in
	}
	body := func(v any) []byte {
		b, _ := json.Marshal(v)
		return b
	}
	if rng.Float64() < bad {
		switch rng.IntN(5) {
		case 0:
			return loadRequest{path: "/v1/predict", body: []byte(`{"task": "` + t.Name + `", "inputs": [{`), want: http.StatusBadRequest}
		case 1:
			return loadRequest{path: "/v1/predict", body: body(map[string]any{"task": "no-such-task", "input": input(5)}), want: http.StatusNotFound}
		case 2:
			return loadRequest{path: "/v1/predict", body: body(map[string]any{"task": t.Name, "input": map[string]string{}}), want: http.StatusBadRequest}
		case 3:
			ins := make([]map[string]string, info.MaxInputs+1)
			for i := range ins {
				ins[i] = input(2)
			}
			return loadRequest{path: "/v1/predict", body: body(map[string]any{"task": t.Name, "inputs": ins}), want: http.StatusRequestEntityTooLarge}
		default:
			return loadRequest{path: "/v1/predict", body: body(map[string]any{"task": t.Name, "input": input(info.MaxInputTokens + 8)}), want: http.StatusUnprocessableEntity}
		}
	}
	n := 1 + rng.IntN(4)
	ins := make([]map[string]string, n)
	for i := range ins {
		ins[i] = input(4 + rng.IntN(12))
	}
	// A valid request asks to truncate: its length depends on the tokenizer.
	return loadRequest{path: "/v1/predict", body: body(map[string]any{"task": t.Name, "inputs": ins, "truncate": true}), valid: true, examples: n}
}
