package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/ops"
)

func init() {
	benchCommands["score"] = benchCommand{"time label scoring of a recipe's model (encoder, then the decoder teacher-forced over a target) on random tokens, the peer's --mode score; prints cores_used=C tokens_per_s=X examples_per_s=Y peak_rss_mb=Z", func(args []string, stdout, stderr io.Writer) error {
		return benchInfer("score", args, stdout, stderr)
	}}
	benchCommands["generate"] = benchCommand{"time greedy generation (KV cache) of --tgt-len tokens by a recipe's model on random tokens, the peer's --mode generate; prints cores_used=C tokens_per_s=X examples_per_s=Y peak_rss_mb=Z", func(args []string, stdout, stderr io.Writer) error {
		return benchInfer("generate", args, stdout, stderr)
	}}
}

// benchInfer times the inference passes that predict, eval and serve run — label
// scoring (model.ScoreCandidates with one candidate of --tgt-len tokens: the encoder,
// then the decoder teacher-forced over it) or greedy generation (model.Generate of
// --tgt-len tokens, no EOS) — on random tokens with the PyTorch peer's batch shape.
// Like the peer it counts source tokens per second, and examples per second.
func benchInfer(mode string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench "+mode, "RECIPE [--threads T] [--steps K] [--batch B] [--src-len L] [--tgt-len L] [--profile] [--against-threads N] [--cpuprofile FILE] [--set KEY=VALUE]...", stderr)
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix kernels")
	steps := fs.Int("steps", 5, "timed batches (after 1 warm-up batch)")
	batch := fs.Int("batch", 32, "examples per batch")
	srcLen := fs.Int("src-len", 128, "source tokens per example")
	tgtLen := fs.Int("tgt-len", 8, "target tokens: the candidate's length (score) or the tokens generated (generate)")
	profile := fs.Bool("profile", false, "after the timing line, time as many batches again with the kernel profile on and print where a batch's time goes: each kernel's time and GFLOP/s, then the matrix products shape by shape; and the batch's useful GFLOP/s (from the timing line) against a Gemm and the FMA peak measured now, then over as many more batches each followed by a 1024³ Gemm, pair by pair")
	against := fs.Int("against-threads", 0, "after the timing line (and the profile), time as many batches again at --threads and at this many threads, alternately, and print the median batch time at each and the median of the pairs' speed-ups")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed batches to this file")
	var sets setFlag
	fs.Var(&sets, "set", "override a recipe value (repeatable)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("bench %s takes one recipe, e.g. t5-mini", mode)
	}
	if *threads <= 0 || *steps <= 0 || *batch <= 0 || *srcLen <= 0 || *tgtLen <= 0 || *against < 0 {
		return usageError("bench %s: --threads, --steps, --batch, --src-len and --tgt-len must be positive, and --against-threads 0 (off) or positive", mode)
	}
	r, err := loadRecipe(rest[0], sets)
	if err != nil {
		return err
	}
	if r.Model.Arch != model.ArchT5 {
		return usageError("bench %s measures encoder-decoder (t5) recipes; %s is %s", mode, rest[0], r.Model.Arch)
	}
	defer ops.SetThreads(ops.SetThreads(*threads))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*threads))
	m, err := r.Build(0)
	if err != nil {
		return recipeError(err)
	}
	b := benchBatch(int32(m.Spec.Vocab), *batch, *srcLen, *tgtLen)
	b.Targets, b.TargetLen = nil, 0
	cand := make([]int32, *tgtLen)
	for i := range cand {
		cand[i] = int32(1 + i%(m.Spec.Vocab-1))
	}
	tape := autograd.NewTape()
	run := func() error {
		tape.Reset()
		if mode == "score" {
			_, err := m.ScoreCandidates(tape, b, [][]int32{cand})
			return err
		}
		_, err := m.Generate(tape, b, *tgtLen, -1)
		return err
	}
	if err := run(); err != nil {
		return err
	}
	tl, err := timeLoop(*steps, false, *cpuProfile, func(int) error { return run() })
	if err != nil {
		return err
	}
	per := tl.per
	fmt.Fprintf(stdout, "bench_%s recipe=%s isa=%s threads=%d params=%d batch_ms=%.1f cores_used=%s tokens_per_s=%.0f examples_per_s=%.1f peak_rss_mb=%s\n",
		mode, rest[0], ops.ActiveISA(), *threads, m.NumParams(), float64(per.Microseconds())/1000,
		tl.cores, float64(*batch**srcLen)/per.Seconds(), float64(*batch)/per.Seconds(), tl.rss)
	if *profile {
		prof, err := timeLoop(*steps, true, "", func(int) error { return run() })
		if err != nil {
			return err
		}
		pairs, err := timePairs(*steps, func(int) error { return run() })
		if err != nil {
			return err
		}
		writeProfiledRun(stdout, "batch", "batches", *steps, per, prof.per)
		writeKernelProfile(stdout, "batch", *steps, prof, per, pairs, *threads, 1)
	}
	if *against > 0 {
		return benchScaling(stdout, "batch", *profile, *steps, *threads, *against, func(int) error { return run() })
	}
	return nil
}
