package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Model is what a Server answers with: a predictor of a trained model and where it
// comes from.
type Model struct {
	// Predictor answers the tasks. The server's worker owns it once the Model is given
	// to New or returned by a Loader: nothing else may use it.
	Predictor *infer.Predictor
	// Tasks are the definitions of the tasks it answers, in the model's order.
	Tasks []data.TaskDef
	// Source is the checkpoint folder it was read from; Step its training step.
	Source string
	Step   int
}

// Loader loads the model a reload switches to (typically Open of the run folder the
// server was started with, which resolves to its newest checkpoint).
type Loader func() (*Model, error)

// Open restores the trained model at path (a checkpoint or a run folder) with job.Open,
// which verifies the checkpoint and refuses a model too big for opts.MemoryLimit.
func Open(path string, opts job.OpenOptions) (*Model, error) {
	tr, err := job.Open(path, opts)
	if err != nil {
		return nil, err
	}
	p, err := tr.Predictor()
	if err != nil {
		return nil, err
	}
	defs, err := tr.Tasks()
	if err != nil {
		return nil, err
	}
	return &Model{Predictor: p, Tasks: defs, Source: tr.Dir, Step: tr.Checkpoint.Step}, nil
}

// Config holds a server's limits. Zero fields take the defaults named.
type Config struct {
	// MaxBatch is the most examples the worker gathers into one batch (default 32);
	// MaxWait how long it waits for more once it has one (default 5ms).
	MaxBatch int
	MaxWait  time.Duration
	// MaxBody bounds a request body in bytes (default 1 MiB; larger: 413).
	MaxBody int64
	// MaxInputs bounds the inputs of one predict request (default 64; more: 413).
	MaxInputs int
	// MaxNewTokens bounds a generate request's max_new_tokens, and is its default
	// (default 64; more: 422).
	MaxNewTokens int
	// Timeout bounds the time a request waits for its answer (default 30s; then 503
	// with Retry-After).
	Timeout time.Duration
	// Queue is the number of requests that may wait for the worker (default 256;
	// beyond: 429 with Retry-After).
	Queue int
	// Reload, when not nil, enables POST /v1/reload (and Server.Reload): it loads the
	// model to switch to.
	Reload Loader
	// Logf, when not nil, receives a line for each recovered panic and reload.
	Logf func(format string, args ...any)
	// BatchHook, when not nil, receives (a copy of) the predict items of each batch
	// the worker runs, before it runs them: "hypergrid bench serve --direct" replays
	// them without the server to measure what batching and HTTP cost.
	BatchHook func(items []infer.Item)
}

func (c *Config) defaults() {
	if c.MaxBatch <= 0 {
		c.MaxBatch = 32
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 5 * time.Millisecond
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 1 << 20
	}
	if c.MaxInputs <= 0 {
		c.MaxInputs = 64
	}
	if c.MaxNewTokens <= 0 {
		c.MaxNewTokens = 64
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Queue <= 0 {
		c.Queue = 256
	}
}

// Server answers a model's tasks over HTTP (it is an http.Handler). Make one with New;
// Close it after the http.Server that uses it has shut down.
type Server struct {
	cfg      Config
	model    atomic.Pointer[Model]
	queue    chan *pending
	quit     chan struct{}
	stopped  chan struct{}
	draining atomic.Bool
	closed   atomic.Bool
	closeMu  sync.Once
	reloadMu sync.Mutex
	metrics  *metrics
	mux      *http.ServeMux

	// beforeBatch, when set (tests), runs in the worker before a batch's model call.
	beforeBatch func(items []infer.Item)
}

// New returns a server of m with the limits cfg and starts its worker. It sets m's
// predictor's batch size to cfg.MaxBatch.
func New(m *Model, cfg Config) (*Server, error) {
	if m == nil || m.Predictor == nil {
		return nil, errors.New("serve: no model")
	}
	cfg.defaults()
	s := &Server{cfg: cfg, queue: make(chan *pending, cfg.Queue), quit: make(chan struct{}), stopped: make(chan struct{})}
	s.metrics = newMetrics(func() float64 { return float64(len(s.queue)) })
	m.Predictor.BatchSize = cfg.MaxBatch
	s.model.Store(m)
	s.metrics.step.Set(float64(m.Step))
	s.routes()
	go s.worker()
	return s, nil
}

// Model returns the model served now.
func (s *Server) Model() *Model { return s.model.Load() }

// Config returns the server's limits, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// ServeHTTP answers one HTTP request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Drain marks the server as stopping: /readyz answers 503 so that a load balancer
// sends no more requests; requests that still arrive are answered.
func (s *Server) Drain() { s.draining.Store(true) }

// Close stops the worker once the requests already queued are answered; requests
// that arrive later get 503. Call it after http.Server.Shutdown returns.
func (s *Server) Close() {
	s.closeMu.Do(func() {
		s.draining.Store(true)
		s.closed.Store(true)
		close(s.quit)
		<-s.stopped
	})
}

// ReloadResult says what a reload did.
type ReloadResult struct {
	// Source and Step are the checkpoint served after the reload; PreviousStep the
	// step served before it.
	Source       string `json:"checkpoint"`
	Step         int    `json:"step"`
	PreviousStep int    `json:"previous_step"`
}

// ErrReloadOff is returned by Reload when the server has no Config.Reload.
var ErrReloadOff = errors.New("reloading is off: start the server with --reload")

// Reload loads the model with Config.Reload and switches to it: the batch running
// keeps the old model, the next one takes the new. On error the old model stays.
// Reloads run one at a time.
func (s *Server) Reload() (ReloadResult, error) {
	if s.cfg.Reload == nil {
		return ReloadResult{}, ErrReloadOff
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	old := s.model.Load()
	m, err := s.cfg.Reload()
	if err == nil && (m == nil || m.Predictor == nil) {
		err = errors.New("the loader returned no model")
	}
	if err != nil {
		s.metrics.reloads.WithLabelValues("error").Inc()
		s.logf("reload failed, still serving step %d of %s: %v", old.Step, old.Source, err)
		return ReloadResult{Source: old.Source, Step: old.Step, PreviousStep: old.Step}, err
	}
	m.Predictor.BatchSize = s.cfg.MaxBatch
	s.model.Store(m)
	s.metrics.reloads.WithLabelValues("ok").Inc()
	s.metrics.step.Set(float64(m.Step))
	s.logf("reloaded: serving step %d of %s (was step %d)", m.Step, m.Source, old.Step)
	return ReloadResult{Source: m.Source, Step: m.Step, PreviousStep: old.Step}, nil
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// pending is one request waiting for the worker.
type pending struct {
	ctx   context.Context
	items []infer.Item         // predict
	gens  []infer.GenerateItem // generate
	done  chan result          // buffered: the worker never blocks on it
}

func (j *pending) size() int { return len(j.items) + len(j.gens) }

// result is the worker's answer to a job.
type result struct {
	answers []infer.Answer
	gens    []infer.Generation
	step    int
	err     error
}

// errPanic is the error of the requests of a batch whose run panicked.
var errPanic = errors.New("internal error while answering this batch (recovered; the server keeps serving)")

// errQueueFull and errClosed are the errors of requests not queued.
var (
	errQueueFull = errors.New("the server's queue is full")
	errClosed    = errors.New("the server is stopping")
)

// enqueue queues j without waiting.
func (s *Server) enqueue(j *pending) error {
	if s.closed.Load() {
		return errClosed
	}
	select {
	case s.queue <- j:
		return nil
	default:
		return errQueueFull
	}
}

// worker gathers queued jobs into batches and runs them until Close, then answers
// what is left in the queue and returns.
func (s *Server) worker() {
	defer close(s.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var first *pending
		select {
		case first = <-s.queue:
		case <-s.quit:
			for {
				select {
				case j := <-s.queue:
					s.run([]*pending{j})
				default:
					return
				}
			}
		}
		batch, n := []*pending{first}, first.size()
		timer.Reset(s.cfg.MaxWait)
	gather:
		for n < s.cfg.MaxBatch {
			select {
			case j := <-s.queue:
				batch = append(batch, j)
				n += j.size()
			case <-timer.C:
				break gather
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		s.run(batch)
	}
}

// run answers the jobs of one batch with the model served now, each as soon as its
// examples are done. A panic is recovered and answers the jobs not yet answered with
// errPanic.
func (s *Server) run(jobs []*pending) {
	answered := make([]bool, len(jobs))
	answer := func(i int, r result) {
		if !answered[i] {
			answered[i] = true
			jobs[i].done <- r
		}
	}
	defer func() {
		if v := recover(); v != nil {
			s.metrics.panics.Inc()
			s.logf("panic while answering a batch of %d requests (recovered): %v\n%s", len(jobs), v, debug.Stack())
			for i := range jobs {
				answer(i, result{err: errPanic})
			}
		}
	}()
	m := s.model.Load()
	p := m.Predictor
	// Requests whose caller is gone or timed out are not run; those that name a task
	// the model no longer has (after a reload) are answered at once.
	var live []int
	for i, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			answer(i, result{err: err})
			continue
		}
		if err := checkTasks(p, j); err != nil {
			answer(i, result{err: err})
			continue
		}
		live = append(live, i)
	}
	// The predict requests of every task run as one batch (infer.Predictor.Answer
	// mixes tasks: each example brings its own task's gates and label words) and are
	// answered together; generation runs after them.
	var items []infer.Item
	var gens []infer.GenerateItem
	var predictJobs, genJobs []int
	for _, i := range live {
		j := jobs[i]
		items = append(items, j.items...)
		gens = append(gens, j.gens...)
		if len(j.gens) > 0 {
			genJobs = append(genJobs, i)
		}
		if len(j.items) > 0 {
			predictJobs = append(predictJobs, i)
		}
	}
	if len(items)+len(gens) == 0 {
		return
	}
	start := time.Now()
	if s.beforeBatch != nil {
		s.beforeBatch(items)
	}
	if s.cfg.BatchHook != nil && len(items) > 0 {
		s.cfg.BatchHook(slices.Clone(items))
	}
	s.metrics.batchSize.Observe(float64(len(items) + len(gens)))
	tokens := 0
	if len(items) > 0 {
		answers, err := p.Answer(items)
		if err == nil {
			for k, a := range answers {
				tokens += a.Tokens
				s.metrics.tokens.WithLabelValues("input").Add(float64(a.Tokens))
				s.metrics.examples.WithLabelValues(items[k].Task).Inc()
			}
		}
		k := 0
		for _, i := range predictJobs {
			n := len(jobs[i].items)
			if err != nil {
				answer(i, result{err: fmt.Errorf("answering the batch: %w", err)})
			} else {
				answer(i, result{step: m.Step, answers: answers[k : k+n]})
			}
			k += n
		}
	}
	if len(gens) > 0 {
		outs, err := p.Generate(gens)
		k := 0
		for _, i := range genJobs {
			n := len(jobs[i].gens)
			if err != nil {
				answer(i, result{err: fmt.Errorf("answering the batch: %w", err)})
			} else {
				answer(i, result{step: m.Step, gens: outs[k : k+n]})
			}
			k += n
		}
		if err == nil {
			for gi, g := range outs {
				tokens += g.InputTokens + g.OutputTokens
				s.metrics.tokens.WithLabelValues("input").Add(float64(g.InputTokens))
				s.metrics.tokens.WithLabelValues("output").Add(float64(g.OutputTokens))
				s.metrics.examples.WithLabelValues(gens[gi].Task).Inc()
			}
		}
	}
	elapsed := time.Since(start)
	s.metrics.batchSeconds.Observe(elapsed.Seconds())
	if elapsed > 0 {
		s.metrics.tokensPerSec.Set(float64(tokens) / elapsed.Seconds())
	}
}

// checkTasks returns an *infer.UnknownTaskError for a job naming a task p lacks.
func checkTasks(p *infer.Predictor, j *pending) error {
	for _, it := range j.items {
		if _, err := p.Task(it.Task); err != nil {
			return err
		}
	}
	for _, g := range j.gens {
		if g.Task != "" {
			if _, err := p.Task(g.Task); err != nil {
				return err
			}
		}
	}
	return nil
}

// metricsHandler serves the server's metrics in the Prometheus text format.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}
