package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/internal/sysmem"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/serve"
)

func init() {
	benchCommands["serve"] = benchCommand{"serve a checkpoint on loopback and load it with concurrent clients (a task mix, a share of bad requests); prints requests_per_s=X examples_per_s=Y p50/p95/p99 latency, errors by status, peak_rss_mb=Z", benchServe}
}

// benchServeMaxDuration bounds --duration: the bench is a measurement, not a soak.
const benchServeMaxDuration = 10 * time.Minute

// benchServe starts the server in-process on 127.0.0.1 (a free port), runs --clients
// concurrent clients over loopback for --duration (serve.Load: predict requests of the
// --mix tasks, a share --bad of them bad), shuts the server down as SIGTERM does and
// prints one line of figures. It fails when a valid request got a 5xx or a request the
// server accepted got no answer.
func benchServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench serve", "RUN_OR_CKPT [--clients N] [--duration D] [--bad 0.2] [--mix sentiment,paraphrase,...] [server flags]", stderr)
	clients := fs.Int("clients", 4, "concurrent clients, each with one request at a time")
	duration := fs.Duration("duration", 5*time.Second, "how long the clients send requests (at most 10m)")
	maxRequests := fs.Int("max-requests", 0, "stop after this many requests (0: no limit but --duration)")
	bad := fs.Float64("bad", 0.2, "share of bad requests (bad JSON, unknown task, missing field, too many inputs, input too long)")
	mix := fs.String("mix", "", "comma-separated tasks of the valid requests (default: all the checkpoint's tasks)")
	seed := fs.Uint64("seed", 1, "seed of the request sequence")
	rate := fs.Float64("rate", 0, "send requests open-loop at this many per second (Poisson arrivals; --clients bounds those in flight) instead of closed-loop clients: latency at a given load")
	direct := fs.Bool("direct", false, "afterwards, run the server's batches again directly (no HTTP, no batcher) and print direct_examples_per_s and served_vs_direct")
	sf := addServeFlags(fs)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("bench serve takes one run folder or checkpoint, e.g. runs/latest")
	}
	if *clients <= 0 || *clients > 1024 || *duration <= 0 || *duration > benchServeMaxDuration || *maxRequests < 0 || !(*bad >= 0 && *bad <= 1) || !(*rate >= 0 && *rate <= serve.MaxRate) {
		return usageError("bench serve: want 1 to 1024 --clients, a --duration above 0 and at most %v, --max-requests 0 or more, --bad from 0 to 1, --rate from 0 to %d", benchServeMaxDuration, serve.MaxRate)
	}
	cfg, err := sf.config("bench serve")
	if err != nil {
		return err
	}
	var batches [][]infer.Item // the server's batches, for --direct
	if *direct {
		cfg.BatchHook = func(items []infer.Item) { batches = append(batches, items) }
	}
	limit, err := parseMemoryLimit(*sf.memLimit)
	if err != nil {
		return err
	}
	var tasks []string
	if *mix != "" {
		tasks = strings.Split(*mix, ",")
	}
	defer ops.SetThreads(ops.SetThreads(*sf.threads))
	m, err := serve.Open(rest[0], job.OpenOptions{MemoryLimit: limit})
	if err != nil {
		return err
	}
	s, err := serve.New(m, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	res, loadErr := serve.Load(context.Background(), serve.LoadOptions{URL: "http://" + ln.Addr().String(), Clients: *clients,
		Duration: *duration, MaxRequests: *maxRequests, Bad: *bad, Mix: tasks, Seed: *seed, Rate: *rate})
	s.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout+10*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.Close()
	if loadErr != nil {
		if strings.Contains(loadErr.Error(), "of the mix") {
			return usageError("bench serve: --mix: %v", loadErr)
		}
		return loadErr
	}
	rss := "unknown"
	if b, ok := sysmem.PeakRSS(); ok {
		rss = fmt.Sprintf("%.0f", float64(b)/(1<<20))
	}
	secs := res.Elapsed.Seconds()
	directLine := ""
	if *direct {
		// The worker has stopped: its predictor is free to run the same batches again.
		n, elapsed, err := replay(m.Predictor, batches)
		if err != nil {
			return fmt.Errorf("bench serve --direct: %w", err)
		}
		served := float64(n) / secs
		directPerS := float64(n) / elapsed.Seconds()
		directLine = fmt.Sprintf(" batches=%d batch_examples_mean=%.1f served_batch_examples_per_s=%.1f direct_examples_per_s=%.1f served_vs_direct=%.3f",
			len(batches), float64(n)/float64(max(1, len(batches))), served, directPerS, served/directPerS)
	}
	openLoop := ""
	if *rate > 0 {
		openLoop = fmt.Sprintf(" rate=%.1f delayed=%d", *rate, res.Delayed)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }
	fmt.Fprintf(stdout, "bench_serve step=%d isa=%s threads=%d clients=%d duration=%v bad=%.2f max_batch=%d requests=%d valid=%d requests_per_s=%.1f examples_per_s=%.1f p50_ms=%s p95_ms=%s p99_ms=%s %s valid_5xx=%d unexpected=%d unanswered=%d%s%s peak_rss_mb=%s\n",
		m.Step, ops.ActiveISA(), *sf.threads, *clients, *duration, *bad, cfg.MaxBatch, res.Requests, res.Valid,
		float64(res.Requests)/secs, float64(res.Examples)/secs, ms(res.Percentile(0.50)), ms(res.Percentile(0.95)), ms(res.Percentile(0.99)),
		res.StatusLine(), res.ServerErrors(), res.Unexpected, res.TransportErrors, openLoop, directLine, rss)
	if n := res.ServerErrors(); n > 0 {
		return fmt.Errorf("bench serve: %d valid requests got a 5xx (%v)", n, res.ValidStatus)
	}
	if res.TransportErrors > 0 {
		return fmt.Errorf("bench serve: %d requests got no answer", res.TransportErrors)
	}
	return nil
}

// replay runs batches through p as the server's worker ran them (one Answer call per
// batch) and returns the examples run and the time it took.
func replay(p *infer.Predictor, batches [][]infer.Item) (int, time.Duration, error) {
	n := 0
	start := time.Now()
	for _, items := range batches {
		if _, err := p.Answer(items); err != nil {
			return 0, 0, err
		}
		n += len(items)
	}
	return n, time.Since(start), nil
}
