// Package serve answers a trained model's tasks over HTTP: a JSON API
// (POST /v1/predict, POST /v1/generate, GET /v1/tasks, POST /v1/reload), health and
// readiness probes (GET /healthz, GET /readyz) and Prometheus metrics (GET /metrics).
//
// One worker goroutine owns the model's infer.Predictor (which is not safe for
// concurrent use). Handlers check and encode a request, queue it and wait; the worker
// gathers the queued requests into one batch of up to Config.MaxBatch examples or
// Config.MaxWait, mixing tasks; it runs each task's examples of the batch together
// (infer.Predictor.Answer, which sorts them by input length to cut padding) and
// answers each request as soon as its task's examples are done. A panic while
// answering a batch is recovered: that batch's requests get 500 and the server keeps
// serving. Errors are JSON objects {"error": "...", ...}: 400 for bad JSON or a
// missing field (naming it), 404 for an unknown task (listing the model's tasks), 413
// for a body or an input count above the limits, 422 for an input longer than the
// model reads (unless the request asks to truncate it), 429 with Retry-After when the
// queue is full, 503 with Retry-After when a request times out or the server is
// stopping.
//
// Reloading (Config.Reload) loads a newer checkpoint beside the one served and
// switches to it between two batches: no request is dropped.
package serve
