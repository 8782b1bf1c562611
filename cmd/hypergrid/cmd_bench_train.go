package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"syscall"
	"time"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/optim"
)

func init() {
	benchCommands["train"] = benchCommand{"time training steps of a recipe on random tokens (the batch shape of shared/bench/torch_t5.py); prints tokens_per_s=X peak_rss_mb=Y", benchTrain}
}

// benchTrain times full training steps (forward, backward, AdamW) of a recipe's model on
// random tokens with the batch shape of the PyTorch peer: 32 examples of 128 source
// tokens and 8 target tokens. Like the peer, it counts source tokens per second.
func benchTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench train", "RECIPE [--threads T] [--steps K] [--batch B] [--src-len L] [--tgt-len L]", stderr)
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix kernels")
	steps := fs.Int("steps", 10, "timed steps (after 2 warm-up steps)")
	batch := fs.Int("batch", 32, "examples per step")
	srcLen := fs.Int("src-len", 128, "source tokens per example")
	tgtLen := fs.Int("tgt-len", 8, "target tokens per example")
	var sets setFlag
	fs.Var(&sets, "set", "override a recipe value (repeatable)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("bench train takes one recipe, e.g. recipes/t5-mini.yaml")
	}
	if *threads <= 0 || *steps <= 0 || *batch <= 0 || *srcLen <= 0 || *tgtLen <= 0 {
		return usageError("bench train: --threads, --steps, --batch, --src-len and --tgt-len must be positive")
	}
	r, err := loadRecipe(rest[0], sets)
	if err != nil {
		return recipeError(err)
	}
	if r.Model.Arch != model.ArchT5 {
		return usageError("bench train measures encoder-decoder (t5) recipes; %s is %s", rest[0], r.Model.Arch)
	}
	prevThreads := ops.SetThreads(*threads)
	defer ops.SetThreads(prevThreads)
	prevProcs := runtime.GOMAXPROCS(*threads)
	defer runtime.GOMAXPROCS(prevProcs)
	m, err := r.Build(0)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(0, 1))
	vocab := int32(m.Spec.Vocab)
	b := &model.Batch{Size: *batch, InputLen: *srcLen, TargetLen: *tgtLen,
		Inputs: make([]int32, *batch**srcLen), Targets: make([]int32, *batch**tgtLen)}
	for i := range b.Inputs {
		b.Inputs[i] = 1 + rng.Int32N(vocab-1)
	}
	for i := range b.Targets {
		b.Targets[i] = 1 + rng.Int32N(vocab-1)
	}
	params := m.Params()
	op := make([]optim.Param, len(params))
	for i, p := range params {
		op[i] = optim.Param{Name: p.Name, Value: p.Data, Grad: p.Grad, NoDecay: p.NoDecay}
	}
	opt, err := optim.NewAdamW(optim.DefaultAdamWConfig(), op)
	if err != nil {
		return err
	}
	tape := autograd.NewTape()
	dropout := layers.NewDropoutSource(1)
	step := func(i int) error {
		tape.Reset()
		dropout.SetStep(uint64(i))
		loss, err := m.Loss(tape, b, model.Options{Train: true, Dropout: dropout})
		if err != nil {
			return err
		}
		m.ZeroGrad()
		tape.Backward(loss)
		opt.Step(1e-3)
		return nil
	}
	for i := 0; i < 2; i++ {
		if err := step(i); err != nil {
			return err
		}
	}
	start := time.Now()
	for i := 0; i < *steps; i++ {
		if err := step(2 + i); err != nil {
			return err
		}
	}
	per := time.Since(start) / time.Duration(*steps)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Fprintf(stdout, "bench_train recipe=%s isa=%s threads=%d params=%d step_ms=%.1f tokens_per_s=%.0f peak_rss_mb=%.0f\n",
		rest[0], ops.ActiveISA(), *threads, m.NumParams(), float64(per.Microseconds())/1000,
		float64(*batch**srcLen)/per.Seconds(), float64(ru.Maxrss)/1024)
	return nil
}
