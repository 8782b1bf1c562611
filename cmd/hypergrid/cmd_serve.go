package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/serve"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "answer a checkpoint's tasks over HTTP (POST /v1/predict, /v1/generate; GET /v1/tasks, /healthz, /readyz, /metrics)",
		run: func(args []string, stdout, stderr io.Writer) error {
			return runServe(context.Background(), args, stdout, stderr, nil)
		},
	})
}

// serveFlags are the server's limits as the serve and bench serve commands take them.
type serveFlags struct {
	maxBatch, maxInputs, maxNewTokens, queue, threads *int
	maxWait, timeout                                  *time.Duration
	maxBody                                           *int64
	memLimit                                          *string
}

// addServeFlags adds the server's limits to fs.
func addServeFlags(fs *flag.FlagSet) *serveFlags {
	return &serveFlags{
		maxBatch:     fs.Int("max-batch", 32, "most examples run together in one batch (requests and tasks mixed)"),
		maxWait:      fs.Duration("max-wait", 5*time.Millisecond, "how long a batch waits for more requests once it has one"),
		threads:      fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix kernels"),
		maxBody:      fs.Int64("max-body", 1<<20, "largest request body in bytes (larger: 413)"),
		maxInputs:    fs.Int("max-inputs", 64, "most inputs in one predict request (more: 413)"),
		maxNewTokens: fs.Int("max-new-tokens", 64, "most tokens a generate request may ask for, and its default"),
		timeout:      fs.Duration("timeout", 30*time.Second, "longest a request waits for its answer (then 503 with Retry-After)"),
		queue:        fs.Int("queue", 256, "requests that may wait for the model (more: 429 with Retry-After)"),
		memLimit:     memoryLimitFlag(fs),
	}
}

// config checks the flags and returns the server's limits.
func (f *serveFlags) config(cmd string) (serve.Config, error) {
	if *f.maxBatch <= 0 || *f.maxInputs <= 0 || *f.maxNewTokens <= 0 || *f.queue <= 0 || *f.threads <= 0 || *f.maxBody <= 0 {
		return serve.Config{}, usageError("%s: --max-batch, --max-inputs, --max-new-tokens, --queue, --threads and --max-body must be positive", cmd)
	}
	if *f.maxWait < 0 || *f.timeout <= 0 {
		return serve.Config{}, usageError("%s: --max-wait must be 0 or more and --timeout positive", cmd)
	}
	return serve.Config{MaxBatch: *f.maxBatch, MaxWait: max(*f.maxWait, time.Microsecond), MaxBody: *f.maxBody, MaxInputs: *f.maxInputs,
		MaxNewTokens: *f.maxNewTokens, Timeout: *f.timeout, Queue: *f.queue}, nil
}

// runServe serves the checkpoint of args until SIGINT or SIGTERM (or ctx ends): it
// stops accepting connections, answers the requests under way and returns nil. SIGHUP
// reloads the checkpoint when --reload is given. ready, when not nil, gets the
// address listened on.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) error {
	fs := newFlags("serve", "RUN_OR_CKPT [--addr HOST:PORT] [--max-batch N] [--max-wait D] [--threads T] [--max-body BYTES] [--max-inputs N] [--timeout D] [--queue N] [--reload]", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	reload := fs.Bool("reload", false, "allow POST /v1/reload and SIGHUP: load the run's newer checkpoint and switch to it without dropping requests")
	sf := addServeFlags(fs)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("serve takes one run folder or checkpoint, e.g. runs/latest")
	}
	cfg, err := sf.config("serve")
	if err != nil {
		return err
	}
	limit, err := parseMemoryLimit(*sf.memLimit)
	if err != nil {
		return err
	}
	defer ops.SetThreads(ops.SetThreads(*sf.threads))
	path := rest[0]
	open := func() (*serve.Model, error) { return serve.Open(path, job.OpenOptions{MemoryLimit: limit}) }
	m, err := open()
	if err != nil {
		return err
	}
	if *reload {
		cfg.Reload = open
	}
	var logMu sync.Mutex
	cfg.Logf = func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintf(stderr, "hypergrid serve: "+format+"\n", args...)
	}
	s, err := serve.New(m, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	names := make([]string, len(m.Tasks))
	for i, t := range m.Tasks {
		names[i] = t.Name
	}
	fmt.Fprintf(stdout, "serving %s (step %d; tasks %s) on http://%s\n", m.Source, m.Step, strings.Join(names, ", "), ln.Addr())
	if ready != nil {
		ready(ln.Addr().String())
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	for {
		select {
		case err := <-served:
			return err
		case <-ctx.Done():
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if !*reload {
					cfg.Logf("SIGHUP ignored: start the server with --reload to reload the checkpoint")
				} else {
					go s.Reload() // logged by the server; it keeps serving meanwhile
				}
				continue
			}
			cfg.Logf("%v: finishing the requests under way (again to quit at once)", sig)
		}
		break
	}
	signal.Stop(sigs) // a second Ctrl-C ends the program at once
	s.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout+10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.Close()
	fmt.Fprintf(stdout, "stopped\n")
	return nil
}
