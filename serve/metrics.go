package serve

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are a server's Prometheus metrics, in a registry of its own (so that two
// servers in one process do not collide).
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	examples     *prometheus.CounterVec
	batchSize    prometheus.Histogram
	batchSeconds prometheus.Histogram
	tokens       *prometheus.CounterVec
	tokensPerSec prometheus.Gauge
	panics       prometheus.Counter
	reloads      *prometheus.CounterVec
	step         prometheus.Gauge
}

func newMetrics(queueDepth func() float64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hypergrid_requests_total",
			Help: "HTTP requests answered, by endpoint, task (\"\" when none or unknown) and status code.",
		}, []string{"endpoint", "task", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hypergrid_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"endpoint"}),
		examples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hypergrid_examples_total",
			Help: "Examples answered by the model, by task (\"\" for generation without a task).",
		}, []string{"task"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hypergrid_batch_examples",
			Help:    "Examples per batch the worker ran (all tasks together).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hypergrid_batch_duration_seconds",
			Help:    "Time the worker spent running one batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hypergrid_tokens_total",
			Help: "Tokens processed: kind=\"input\" read by the encoder, kind=\"output\" generated.",
		}, []string{"kind"}),
		tokensPerSec: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hypergrid_tokens_per_second",
			Help: "Input and output tokens per second of the last batch's run time.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hypergrid_panics_total",
			Help: "Batches whose run panicked (their requests got 500; the server kept serving).",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hypergrid_reloads_total",
			Help: "Checkpoint reloads, by result (ok, error).",
		}, []string{"result"}),
		step: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hypergrid_model_step",
			Help: "The training step of the checkpoint served.",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.examples, m.batchSize, m.batchSeconds, m.tokens,
		m.tokensPerSec, m.panics, m.reloads, m.step,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hypergrid_queue_depth",
			Help: "Requests queued for the worker, not yet taken into a batch.",
		}, queueDepth),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}
