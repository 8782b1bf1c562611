package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/train"
	"gonum.org/v1/gonum/stat"
)

func init() {
	benchCommands["train"] = benchCommand{"time the training step of a recipe (the one train runs) on random tokens (the batch shape of shared/bench/torch_t5.py); prints cores_used=C tokens_per_s=X examples_per_s=Y peak_rss_mb=Z", benchTrain}
}

// benchTrain times the training step that "hypergrid train" runs (train.Stepper:
// forward with dropout, backward, clipping, the recipe's optimizer and schedule) on a
// recipe's model, on random tokens with the batch shape of the PyTorch peer: 32
// examples of 128 source tokens and 8 target tokens. Like the peer, it counts source
// tokens per second.
func benchTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench train", "RECIPE [--threads T] [--steps K] [--batch B] [--src-len L] [--tgt-len L] [--profile] [--against-threads N] [--cpuprofile FILE] [--set KEY=VALUE]...", stderr)
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix kernels (divided among the model replicas of train.replicas)")
	steps := fs.Int("steps", 10, "timed steps (after 2 warm-up steps)")
	batch := fs.Int("batch", 32, "examples per step")
	srcLen := fs.Int("src-len", 128, "source tokens per example")
	tgtLen := fs.Int("tgt-len", 8, "target tokens per example")
	var sets setFlag
	fs.Var(&sets, "set", "override a recipe value (repeatable)")
	profile := fs.Bool("profile", false, "after the timing line, time as many steps again with the kernel profile on and print where the step's time goes: its phases, each tape operation's forward and backward time, each kernel's time and GFLOP/s, then the matrix products shape by shape; and the step's useful GFLOP/s (from the timing line) against a Gemm and the FMA peak measured now, then over as many more steps each followed by a 1024³ Gemm, pair by pair")
	against := fs.Int("against-threads", 0, "after the timing line (and the profile), time as many steps again at --threads and at this many threads, alternately, and print the median step time at each and the median of the pairs' speed-ups: a 2-thread over 1-thread speed-up measured in one process, steadier on a shared machine than two runs (needs train.replicas 1)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed steps to this file (samples carry the pprof label phase=forward|backward|replicas|clip|optimizer, and replica on the other model replicas of train.replicas)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("bench train takes one recipe, e.g. recipes/t5-mini.yaml")
	}
	if *threads <= 0 || *steps <= 0 || *batch <= 0 || *srcLen <= 0 || *tgtLen <= 0 || *against < 0 {
		return usageError("bench train: --threads, --steps, --batch, --src-len and --tgt-len must be positive, and --against-threads 0 (off) or positive")
	}
	r, err := loadRecipe(rest[0], sets)
	if err != nil {
		return recipeError(err)
	}
	if *against > 0 && r.Train.Reps() != 1 {
		return usageError("bench train: --against-threads needs train.replicas 1 (the recipe has %d: its replicas share --threads); add --set train.replicas=1", r.Train.Reps())
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
	b := benchBatch(int32(m.Spec.Vocab), *batch, *srcLen, *tgtLen)
	stepper, err := benchStepper(m, r)
	if err != nil {
		return err
	}
	var first, last float64
	for i := 0; i < 2; i++ {
		res, err := stepper.Step(i, b)
		if err != nil {
			return err
		}
		if i == 0 {
			first = res.Loss
		}
	}
	step := func(i int) error {
		res, err := stepper.Step(2+i, b)
		last = res.Loss
		return err
	}
	tl, err := timeLoop(*steps, false, *cpuProfile, step)
	if err != nil {
		return err
	}
	per := tl.per
	fmt.Fprintf(stdout, "bench_train recipe=%s isa=%s threads=%d replicas=%d optimizer=%s params=%d loss_first=%.4f loss_last=%.4f step_ms=%.1f cores_used=%s tokens_per_s=%.0f examples_per_s=%.1f peak_rss_mb=%s\n",
		rest[0], ops.ActiveISA(), *threads, r.Train.Reps(), r.Train.Optimizer, m.NumParams(), first, last, float64(per.Microseconds())/1000,
		tl.cores, float64(*batch**srcLen)/per.Seconds(), float64(*batch)/per.Seconds(), tl.rss)
	if *profile {
		// The tables come from as many more steps with the kernel profile and the
		// phase clocks on; the step's useful GFLOP/s from the steps timed above.
		var phases train.Phases
		var opTimes autograd.OpTimes
		stepper.TimePhases(&phases)
		stepper.Tape().TimeOps(&opTimes)
		prof, err := timeLoop(*steps, true, "", func(i int) error { return step(*steps + i) })
		stepper.Tape().TimeOps(nil)
		stepper.TimePhases(nil)
		if err != nil {
			return err
		}
		pairs, err := timePairs(*steps, func(i int) error { return step(2**steps + i) })
		if err != nil {
			return err
		}
		writeProfiledRun(stdout, "step", "steps", *steps, per, prof.per)
		writeStepProfile(stdout, *steps, phases, &opTimes, prof, per, pairs, *threads, r.Train.Reps())
	}
	if *against > 0 {
		next := *steps // the steps' index goes on from the timed (and profiled) ones
		if *profile {
			next = 3 * *steps
		}
		return benchScaling(stdout, "step", *profile, *steps, *threads, *against, func(i int) error { return step(next + i) })
	}
	return nil
}

// writeProfiledRun says how much the profile's own clocks slowed the profiled units
// (timed) against the unprofiled ones of the timing line (per).
func writeProfiledRun(w io.Writer, unit, units string, steps int, per, timed time.Duration) {
	fmt.Fprintf(w, "\n(the tables below time %d more %s with the profile's clocks on: %.1f ms a %s, %+.1f%% over the %.1f ms above, which the useful GFLOP/s at the end use)\n",
		steps, units, float64(timed.Microseconds())/1000, unit, 100*(timed.Seconds()/per.Seconds()-1), float64(per.Microseconds())/1000)
}

// writeStepProfile prints where a training step's time goes in the profiled steps tl:
// its phases, then each kernel (calls, time and share per step, GFLOP/s of the matrix
// products and their share of the FMA peak), the step's FLOPs and useful GFLOP/s (over
// per, the unprofiled step), against a 1024³ Gemm and the FMA peak (ops.PeakGFLOPS)
// measured now at the same threads. replicas is the step's model replicas
// (train.replicas), whose kernels run side by side.
func writeStepProfile(w io.Writer, steps int, ph train.Phases, ops *autograd.OpTimes, tl timedLoop, per time.Duration, pairs pairedRun, threads, replicas int) {
	other := tl.per*time.Duration(steps) - ph.Forward - ph.Backward - ph.Replicas - ph.Clip - ph.Optimizer
	fmt.Fprintf(w, "\nphase        ms/step   share\n")
	for _, r := range []struct {
		name string
		d    time.Duration
	}{{"forward", ph.Forward}, {"backward", ph.Backward}, {"replicas", ph.Replicas}, {"clip", ph.Clip}, {"optimizer", ph.Optimizer}, {"other", other}} {
		if r.name == "replicas" && r.d == 0 {
			continue
		}
		fmt.Fprintf(w, "%-11s %8s %7s\n", r.name, msPer(r.d, steps), shareOf(r.d, tl.per, steps))
	}
	writeOpTimes(w, steps, ops, tl.per, replicas)
	writeKernelProfile(w, "step", steps, tl, per, pairs, threads, replicas)
}

// writeOpTimes prints the tape's operations (autograd.OpTimes, the first replica's
// tape): calls, forward and backward wall time per step, their share of the step, and
// the cores each direction kept busy (process CPU time over wall time, rough for
// operations of a few milliseconds a call: autograd.OpClock; "-" with replicas, whose
// other tapes run meanwhile). An operation's forward time runs from the previous record
// to its own, so it includes the caller's code in between.
func writeOpTimes(w io.Writer, steps int, p *autograd.OpTimes, per time.Duration, replicas int) {
	rows := p.Rows()
	if len(rows) == 0 {
		return
	}
	cores := func(c autograd.OpClock) string {
		if replicas > 1 || c.Wall <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", c.CPU.Seconds()/c.Wall.Seconds())
	}
	fmt.Fprintf(w, "\n%-22s %11s %8s %8s %7s %9s %9s\n", "tape operation", "calls/step", "fwd ms", "bwd ms", "share", "fwd cores", "bwd cores")
	for _, r := range rows {
		fmt.Fprintf(w, "%-22s %11.1f %8s %8s %7s %9s %9s\n", r.Name, float64(r.Forward.Calls)/float64(steps),
			msPer(r.Forward.Wall, steps), msPer(r.Backward.Wall, steps), shareOf(r.Forward.Wall+r.Backward.Wall, per, steps),
			cores(r.Forward), cores(r.Backward))
	}
}

func msPer(d time.Duration, steps int) string {
	return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000/float64(steps))
}

func shareOf(d, per time.Duration, steps int) string {
	return fmt.Sprintf("%.1f%%", 100*d.Seconds()/(per.Seconds()*float64(steps)))
}

// writeKernelProfile prints each kernel's calls, time, GFLOP/s and share of the FMA
// peak per unit (a training step, a batch) of the profiled units tl, the time left
// outside the kernels, the part of the matrix products' time spent packing their
// operands (included in their rows), then the product shapes (writeShapeProfile) and
// the unit's useful GFLOP/s over timed, its unprofiled time, against a Gemm and the FMA
// peak measured now, at the same thread count, and over the units of pairs against the
// Gemms timed between them (writePairedShare). side is how many
// callers run kernels side by side (the model replicas of train.replicas, else 1):
// their kernel times add up, so a kernel's share is of side × the unit's time, and its
// GFLOP/s, those of one caller's share of the threads, are held against that share of
// the peak.
func writeKernelProfile(w io.Writer, unit string, steps int, tl timedLoop, timed time.Duration, pairs pairedRun, threads, side int) {
	kernels, per := tl.kernels, tl.per
	var flops int64
	var inKernels time.Duration
	peak := ops.PeakGFLOPS(threads, 300*time.Millisecond)
	side = max(side, 1)
	kernelPeak := peak * float64(train.ThreadsPerReplica(threads, side)) / float64(max(threads, 1))
	if side > 1 {
		fmt.Fprintf(w, "\n(%d replicas run their kernels side by side, %d kernel thread(s) each of --threads %d: kernel times are summed over them, so a share is of %d × the %s's time, and a GFLOP/s figure is one replica's)\n",
			side, train.ThreadsPerReplica(threads, side), threads, side, unit)
	}
	all := per * time.Duration(side)
	if threads > side {
		busy := ""
		if unit == "step" { // bench train prints the tape operations first
			busy = "; the tape operations' cores columns above give each layer's CPU time over its wall time, the pool's polling workers included"
		}
		fmt.Fprintf(w, "\n(at %d threads a kernel's time is its calls' wall time added up: a product split over the threads counts once, but the kernels a layer runs side by side on goroutines of their own (the feed-forward blocks, attention's examples) count once per goroutine, so the shares can add up past 100%%, the time outside the kernels then reads low, and those kernels' GFLOP/s are one goroutine's against the whole peak%s)\n",
			threads, busy)
	}
	fmt.Fprintf(w, "\n%-22s %11s %8s %7s %8s %8s\n", "kernel", "calls/"+unit, "ms/"+unit, "share", "GFLOP/s", "of peak")
	for _, k := range kernels {
		flops += k.Flops
		inKernels += k.Time
		gf, ofPeak := "-", "-"
		if k.Flops > 0 && k.Time > 0 {
			g := float64(k.Flops) / k.Time.Seconds() / 1e9
			gf, ofPeak = fmt.Sprintf("%.1f", g), fmt.Sprintf("%.0f%%", 100*g/kernelPeak)
		}
		fmt.Fprintf(w, "%-22s %11.1f %8s %7s %8s %8s\n", k.Name, float64(k.Calls)/float64(steps), msPer(k.Time, steps), shareOf(k.Time, all, steps), gf, ofPeak)
	}
	outside := max(all*time.Duration(steps)-inKernels, 0)
	fmt.Fprintf(w, "%-22s %11s %8s %7s\n", "(outside the kernels)", "", msPer(outside, steps), shareOf(outside, all, steps))
	if tl.packing > 0 {
		// Part of the products' rows (and PackB's) above, not added to them.
		fmt.Fprintf(w, "%-22s %11s %8s %7s\n", "(products' packing)", "", msPer(tl.packing, steps), shareOf(tl.packing, all, steps))
	}
	writeShapeProfile(w, unit, steps, all, tl.shapes)
	ref := referenceGemmGFLOPS(threads)
	useful := float64(flops) / float64(steps) / timed.Seconds() / 1e9
	fmt.Fprintf(w, "\n%s_gflop=%.1f useful_gflops=%.1f gemm_1024_gflops=%.1f useful_share_of_gemm=%.0f%% fma_peak_gflops=%.1f useful_share_of_peak=%.0f%%\n",
		unit, float64(flops)/float64(steps)/1e9, useful, ref, 100*useful/ref, peak, 100*useful/peak)
	writePairedShare(w, unit, float64(flops)/float64(steps), pairs)
}

// pairedRun is a unit (a step, a batch) and a 1024³ Gemm timed one after the other,
// steps times (timePairs).
type pairedRun struct {
	units, gemms []time.Duration
}

// refGemmN is the size of the reference Gemm (n×n×n) of referenceGemmGFLOPS and
// timePairs, and refGemmFlops its FLOPs.
const (
	refGemmN     = 1024
	refGemmFlops = 2 * refGemmN * refGemmN * refGemmN
)

// refGemm is the reference Gemm's operands.
type refGemm struct{ a, b, c []float32 }

// newRefGemm returns the reference Gemm's operands, filled.
func newRefGemm() refGemm {
	const n = refGemmN
	g := refGemm{make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)}
	for i := range g.a {
		g.a[i], g.b[i] = float32(i%7)/7, float32(i%5)/5
	}
	return g
}

// run computes the product at the current thread count and returns how long it took.
func (g refGemm) run() time.Duration {
	const n = refGemmN
	start := time.Now()
	ops.Gemm(false, false, n, n, n, 1, g.a, n, g.b, n, 0, g.c, n)
	return time.Since(start)
}

// timePairs runs body(0..steps-1), each call followed by a 1024³ Gemm at the current
// thread count, run three times with the third timed: after a training step the first
// ran 10-15% below the rest and the second 2-5% (Intel Xeon model 167), the third as
// fast as the fourth. The unit and its reference are then measured under the same
// load: on a shared machine, whose speed drifts from second to second (the best of
// three Gemms after the steps moved 10-15% between runs minutes apart, more than the
// steps did), the best of a few short Gemms measures a fast moment and the steps' mean
// all of them.
func timePairs(steps int, body func(i int) error) (pairedRun, error) {
	g := newRefGemm()
	p := pairedRun{units: make([]time.Duration, steps), gemms: make([]time.Duration, steps)}
	for i := range steps {
		start := time.Now()
		if err := body(i); err != nil {
			return pairedRun{}, err
		}
		p.units[i] = time.Since(start)
		g.run()
		g.run()
		p.gemms[i] = g.run()
	}
	return p, nil
}

// writePairedShare prints the unit's useful GFLOP/s (flops a unit) against the Gemm
// timed right after it, pair by pair: the median of the pairs' own ratios (and their
// range), with the medians of the units' times and of the Gemms' GFLOP/s.
func writePairedShare(w io.Writer, unit string, flops float64, p pairedRun) {
	if len(p.units) == 0 {
		return
	}
	ms, gemms, ratios := make([]float64, len(p.units)), make([]float64, len(p.units)), make([]float64, len(p.units))
	for i := range p.units {
		ms[i] = p.units[i].Seconds() * 1000
		gemms[i] = refGemmFlops / p.gemms[i].Seconds() / 1e9
		ratios[i] = flops / p.units[i].Seconds() / 1e9 / gemms[i]
	}
	lo, hi := slices.Min(ratios), slices.Max(ratios)
	fmt.Fprintf(w, "pairs=%d %s_ms_median=%.1f gemm_1024_gflops_median=%.1f useful_share_of_gemm_paired=%.0f%% (pairs %.0f-%.0f%%: each %s followed by a 1024³ Gemm)\n",
		len(p.units), unit, median(ms), median(gemms), 100*median(ratios), 100*lo, 100*hi, unit)
}

// median is the empirical median of xs (gonum's stat.Quantile at 0.5, as the sweep
// report takes its median tokens/s); xs is sorted in place.
func median(xs []float64) float64 {
	slices.Sort(xs)
	return stat.Quantile(0.5, stat.Empirical, xs, nil)
}

// maxShapeRows is how many product shapes the profile lists (the longest).
const maxShapeRows = 16

// writeShapeProfile prints the matrix products by shape (ops.ProfileShapes), the
// longest first: which products of the kernel table take the time, and how fast each
// runs. all is the unit's time (times side-by-side callers) the shares are of.
func writeShapeProfile(w io.Writer, unit string, steps int, all time.Duration, shapes []ops.ShapeStats) {
	if len(shapes) == 0 {
		return
	}
	head := "product, m×n×k"
	if len(shapes) > maxShapeRows {
		head = fmt.Sprintf("product, m×n×k (the %d longest of %d)", maxShapeRows, len(shapes))
	}
	fmt.Fprintf(w, "\n%-44s %11s %8s %7s %8s\n", head, "calls/"+unit, "ms/"+unit, "share", "GFLOP/s")
	for _, s := range shapes[:min(len(shapes), maxShapeRows)] {
		gf := "-"
		if s.Time > 0 {
			gf = fmt.Sprintf("%.1f", float64(s.Flops)/s.Time.Seconds()/1e9)
		}
		fmt.Fprintf(w, "%-44s %11.1f %8s %7s %8s\n", shapeLabel(s.ProductShape), float64(s.Calls)/float64(steps), msPer(s.Time, steps), shareOf(s.Time, all, steps), gf)
	}
}

// shapeLabel names a product shape: "Gemm Aᵀ·B 256×1024×4096", "GemmStrided A·Bᵀ 4 × 128×128×64".
func shapeLabel(s ops.ProductShape) string {
	a, b := "A", "B"
	if s.TransA {
		a = "Aᵀ"
	}
	if s.TransB {
		b = "Bᵀ"
	}
	dims := fmt.Sprintf("%d×%d×%d", s.M, s.N, s.K)
	if s.Batch != 1 {
		dims = fmt.Sprintf("%d × %s", s.Batch, dims)
	}
	return fmt.Sprintf("%s %s·%s %s", s.Op, a, b, dims)
}

// referenceGemmGFLOPS measures a 1024³ Gemm at the current thread count: the best of
// three, after a warm-up.
func referenceGemmGFLOPS(threads int) float64 {
	g := newRefGemm()
	best := time.Duration(math.MaxInt64)
	for i := 0; i < 4; i++ {
		if d := g.run(); i > 0 && d < best {
			best = d
		}
	}
	return refGemmFlops / best.Seconds() / 1e9
}

// benchStepper returns the step that "hypergrid train" runs for recipe r's model m:
// the recipe's optimizer, schedule, clipping and dropout (train.NewStepper).
func benchStepper(m *model.Model, r *recipe.Recipe) (*train.Stepper, error) {
	return train.NewStepper(m, r.Train)
}

// benchBatch returns a batch of random token ids in [1, vocab): size examples of srcLen
// source and tgtLen target tokens, the same for every run.
func benchBatch(vocab int32, size, srcLen, tgtLen int) *model.Batch {
	rng := rand.New(rand.NewPCG(0, 1))
	b := &model.Batch{Size: size, InputLen: srcLen, TargetLen: tgtLen,
		Inputs: make([]int32, size*srcLen), Targets: make([]int32, size*tgtLen)}
	for i := range b.Inputs {
		b.Inputs[i] = 1 + rng.Int32N(vocab-1)
	}
	for i := range b.Targets {
		b.Targets[i] = 1 + rng.Int32N(vocab-1)
	}
	return b
}
