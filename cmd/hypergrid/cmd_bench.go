package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hypergrid-go/hypergrid/internal/sysmem"
	"github.com/hypergrid-go/hypergrid/ops"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// benchCommand is one "hypergrid bench <name>" subcommand.
type benchCommand struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// benchCommands holds the bench subcommands; other files add theirs in init.
var benchCommands = map[string]benchCommand{
	"gemm":  {"time ops.Gemm on one shape; prints a line ending in gflops=X", benchGemm},
	"gated": {"time ops.GridGatedGemm with a random gate per example; prints gflops=X", benchGated},
}

func init() {
	register(&command{
		name:    "bench",
		summary: "benchmark kernels (and, with a subcommand, one operation); no subcommand prints a summary",
		run:     runBench,
	})
}

func runBench(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c, ok := benchCommands[args[0]]
		if !ok {
			return usageError("unknown bench subcommand %q; known: %s", args[0], strings.Join(benchNames(), ", "))
		}
		return c.run(args[1:], stdout, stderr)
	}
	fs := newFlags("bench", "[gemm|gated|...] [flags]", stderr)
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix kernels")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: hypergrid bench [subcommand] [flags]\n\nWithout a subcommand, prints a summary of the kernels on the shapes of a t5-mini training step.\n\nsubcommands:\n")
		for _, n := range benchNames() {
			fmt.Fprintf(stderr, "  %-6s %s\n", n, benchCommands[n].summary)
		}
		fmt.Fprintf(stderr, "\nflags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return benchSummary(stdout, *threads)
}

func benchNames() []string {
	var names []string
	for n := range benchCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// benchRounds is how many timed rounds measure keeps the best of: many short rounds,
// so that on a shared machine at least one runs undisturbed.
const benchRounds = 15

// measure runs f until about budget has passed in each of rounds rounds and returns the
// best time per call, the way the OpenBLAS peer script measures.
func measure(f func(), budget time.Duration, rounds int) time.Duration {
	f() // warm up: page in the operands and fill the buffer pools
	start := time.Now()
	f()
	one := max(time.Since(start), time.Microsecond)
	reps := max(1, int(budget/one))
	best := time.Duration(1<<63 - 1)
	for r := 0; r < rounds; r++ {
		start := time.Now()
		for i := 0; i < reps; i++ {
			f()
		}
		best = min(best, time.Since(start)/time.Duration(reps))
	}
	return best
}

func randomMatrix(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func gflops(flops float64, d time.Duration) float64 { return flops / d.Seconds() / 1e9 }

func timeGemm(m, n, k int, ta, tb bool, threads int, budget time.Duration) time.Duration {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b, c := randomMatrix(rng, m*k), randomMatrix(rng, k*n), make([]float32, m*n)
	lda, ldb := k, n
	if ta {
		lda = m
	}
	if tb {
		ldb = k
	}
	prev := ops.SetThreads(threads)
	defer ops.SetThreads(prev)
	return measure(func() { ops.Gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n) }, budget, benchRounds)
}

func benchGemm(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench gemm", "--m M --n N --k K [--trans-a] [--trans-b] [--threads T]", stderr)
	m := fs.Int("m", 1024, "rows of op(A) and C")
	n := fs.Int("n", 1024, "columns of op(B) and C")
	k := fs.Int("k", 1024, "columns of op(A), rows of op(B)")
	ta := fs.Bool("trans-a", false, "A is stored k×m and used transposed")
	tb := fs.Bool("trans-b", false, "B is stored n×k and used transposed")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines")
	impl := fs.String("impl", "hypergrid", "whose Gemm to time: hypergrid (ops.Gemm) or gonum (blas32.Gemm, the pure-Go peer)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *m <= 0 || *n <= 0 || *k <= 0 || *threads <= 0 {
		return usageError("bench gemm: --m, --n, --k and --threads must be positive")
	}
	var d time.Duration
	isa := string(ops.ActiveISA())
	switch *impl {
	case "hypergrid":
		d = timeGemm(*m, *n, *k, *ta, *tb, *threads, 100*time.Millisecond)
	case "gonum":
		isa = "gonum"
		d = timeGonumGemm(*m, *n, *k, *ta, *tb, *threads, 100*time.Millisecond)
	default:
		return usageError("bench gemm: --impl %q: want hypergrid or gonum", *impl)
	}
	fmt.Fprintf(stdout, "gemm isa=%s m=%d n=%d k=%d trans_a=%v trans_b=%v threads=%d ms=%.3f gflops=%.1f\n",
		isa, *m, *n, *k, *ta, *tb, *threads, float64(d.Microseconds())/1000, gflops(2*float64(*m)*float64(*n)*float64(*k), d))
	return nil
}

// timeGonumGemm times gonum's blas32.Gemm (pure Go) on the same operands as timeGemm.
// gonum splits its work over GOMAXPROCS goroutines, so threads sets GOMAXPROCS.
func timeGonumGemm(m, n, k int, ta, tb bool, threads int, budget time.Duration) time.Duration {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b, c := randomMatrix(rng, m*k), randomMatrix(rng, k*n), make([]float32, m*n)
	A := blas32.General{Rows: m, Cols: k, Stride: k, Data: a}
	tA := blas.NoTrans
	if ta {
		A, tA = blas32.General{Rows: k, Cols: m, Stride: m, Data: a}, blas.Trans
	}
	B := blas32.General{Rows: k, Cols: n, Stride: n, Data: b}
	tB := blas.NoTrans
	if tb {
		B, tB = blas32.General{Rows: n, Cols: k, Stride: k, Data: b}, blas.Trans
	}
	C := blas32.General{Rows: m, Cols: n, Stride: n, Data: c}
	prev := runtime.GOMAXPROCS(threads)
	defer runtime.GOMAXPROCS(prev)
	return measure(func() { blas32.Gemm(tA, tB, 1, A, B, 0, C) }, budget, benchRounds)
}

// parseGrid reads "RxC".
func parseGrid(s string) (int, int, error) {
	r, c, ok := strings.Cut(strings.ToLower(s), "x")
	if !ok {
		return 0, 0, fmt.Errorf("grid %q: want ROWSxCOLS, e.g. 32x32", s)
	}
	gr, err1 := strconv.Atoi(r)
	gc, err2 := strconv.Atoi(c)
	if err1 != nil || err2 != nil || gr <= 0 || gc <= 0 {
		return 0, 0, fmt.Errorf("grid %q: want two positive integers ROWSxCOLS, e.g. 32x32", s)
	}
	return gr, gc, nil
}

type gatedShape struct{ batch, rows, k, n, gr, gc int }

func (s gatedShape) flops() float64 {
	return 2 * float64(s.batch*s.rows) * float64(s.k) * float64(s.n)
}

// timeGated times the forward grid-gated product and, when backward is set, its two
// backward products; each with a different random gate per example.
func timeGated(s gatedShape, threads int, backward bool, budget time.Duration) time.Duration {
	rng := rand.New(rand.NewPCG(3, 4))
	m := s.batch * s.rows
	a, w, g := randomMatrix(rng, m*s.k), randomMatrix(rng, s.k*s.n), randomMatrix(rng, s.batch*s.gr*s.gc)
	c := make([]float32, m*s.n)
	prev := ops.SetThreads(threads)
	defer ops.SetThreads(prev)
	if !backward {
		return measure(func() { ops.GridGatedGemm(s.batch, s.rows, s.k, s.n, s.gr, s.gc, a, s.k, w, s.n, g, 0, c, s.n) }, budget, benchRounds)
	}
	da, dw, dg := make([]float32, m*s.k), make([]float32, s.k*s.n), make([]float32, len(g))
	return measure(func() {
		ops.GridGatedGemmGradA(s.batch, s.rows, s.k, s.n, s.gr, s.gc, c, s.n, w, s.n, g, 0, da, s.k)
		ops.GridGatedGemmGradBG(s.batch, s.rows, s.k, s.n, s.gr, s.gc, a, s.k, c, s.n, w, s.n, g, dw, s.n, dg)
	}, budget, benchRounds)
}

// timePlainBackward times the two plain Gemms of a linear layer's backward pass.
func timePlainBackward(m, n, k, threads int, budget time.Duration) time.Duration {
	rng := rand.New(rand.NewPCG(5, 6))
	a, w, dc := randomMatrix(rng, m*k), randomMatrix(rng, k*n), randomMatrix(rng, m*n)
	da, dw := make([]float32, m*k), make([]float32, k*n)
	prev := ops.SetThreads(threads)
	defer ops.SetThreads(prev)
	return measure(func() {
		ops.Gemm(false, true, m, k, n, 1, dc, n, w, n, 0, da, k)
		ops.Gemm(true, false, k, n, m, 1, a, k, dc, n, 0, dw, n)
	}, budget, benchRounds)
}

func benchGated(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench gated", "--batch B --rows R --k K --n N --grid RxC [--threads T] [--backward]", stderr)
	batch := fs.Int("batch", 32, "examples, each with its own gate grid")
	rows := fs.Int("rows", 128, "rows (tokens) per example")
	k := fs.Int("k", 1024, "inner dimension (rows of the gated weight, d_ff)")
	n := fs.Int("n", 256, "output columns (d_model)")
	grid := fs.String("grid", "32x32", "gate grid ROWSxCOLS; ROWS divides k, COLS divides n")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines")
	backward := fs.Bool("backward", false, "time the two backward products instead of the forward one")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	gr, gc, err := parseGrid(*grid)
	if err != nil {
		return usageError("bench gated: --grid: %v", err)
	}
	if *batch <= 0 || *rows <= 0 || *k <= 0 || *n <= 0 || *threads <= 0 {
		return usageError("bench gated: --batch, --rows, --k, --n and --threads must be positive")
	}
	if *k%gr != 0 || *n%gc != 0 {
		return usageError("bench gated: a %dx%d grid does not tile a %dx%d weight: ROWS must divide --k and COLS must divide --n", gr, gc, *k, *n)
	}
	s := gatedShape{*batch, *rows, *k, *n, gr, gc}
	d := timeGated(s, *threads, *backward, 100*time.Millisecond)
	flops := s.flops()
	if *backward {
		flops *= 2
	}
	fmt.Fprintf(stdout, "gated isa=%s batch=%d rows=%d k=%d n=%d grid=%dx%d backward=%v threads=%d ms=%.3f gflops=%.1f\n",
		ops.ActiveISA(), *batch, *rows, *k, *n, gr, gc, *backward, *threads, float64(d.Microseconds())/1000, gflops(flops, d))
	return nil
}

// benchSummary times the kernels on the shapes of a t5-mini training step: the plain
// Gemm in the three transposes training uses, and the grid-gated products against the
// plain products of the same shape.
func benchSummary(w io.Writer, threads int) error {
	const budget = 40 * time.Millisecond
	fmt.Fprintf(w, "hypergrid kernel summary: isa=%s threads=%d (hypergrid cpu lists every kernel)\n\n", ops.ActiveISA(), threads)
	fmt.Fprintf(w, "%-34s %10s %10s\n", "gemm shape", "ms", "GFLOP/s")
	for _, s := range []struct {
		m, n, k int
		ta, tb  bool
	}{{1024, 1024, 1024, false, false}, {4096, 1024, 256, false, false}, {4096, 256, 1024, false, true}, {1024, 256, 4096, true, false}} {
		d := timeGemm(s.m, s.n, s.k, s.ta, s.tb, threads, budget)
		name := fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k)
		if s.ta {
			name += " (Aᵀ)"
		}
		if s.tb {
			name += " (Bᵀ)"
		}
		fmt.Fprintf(w, "%-34s %10.3f %10.1f\n", name, float64(d.Microseconds())/1000, gflops(2*float64(s.m*s.n)*float64(s.k), d))
	}
	s := gatedShape{32, 128, 1024, 256, 32, 32}
	fmt.Fprintf(w, "\ngrid-gated FFN output weight: batch %d × %d rows, %d→%d, grid %dx%d\n", s.batch, s.rows, s.k, s.n, s.gr, s.gc)
	plainF := timeGemm(s.batch*s.rows, s.n, s.k, false, false, threads, budget)
	gatedF := timeGated(s, threads, false, budget)
	plainB := timePlainBackward(s.batch*s.rows, s.n, s.k, threads, budget)
	gatedB := timeGated(s, threads, true, budget)
	fmt.Fprintf(w, "%-34s %10s %10s %8s\n", "product", "plain ms", "gated ms", "ratio")
	fmt.Fprintf(w, "%-34s %10.3f %10.3f %8.3f\n", "forward", ms(plainF), ms(gatedF), gatedF.Seconds()/plainF.Seconds())
	fmt.Fprintf(w, "%-34s %10.3f %10.3f %8.3f\n", "backward (input + weight grads)", ms(plainB), ms(gatedB), gatedB.Seconds()/plainB.Seconds())
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// startCPUProfile writes a CPU profile to path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: cannot create %s: %w (does its folder exist?)", path, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// timedLoop is what the benches measure of their timed loop: the time per iteration,
// the cores it kept busy, ops' kernel and product-shape counts (with --profile) and the
// peak RSS so far.
type timedLoop struct {
	per     time.Duration
	cores   string
	kernels []ops.OpStats
	shapes  []ops.ShapeStats
	packing time.Duration // the products' time spent packing operands (ops.ProfilePacking)
	rss     string
}

// timeLoop runs body(0..steps-1) with ops' kernel profile on when profile is set and a
// CPU profile written to cpuProfile when that is not empty, and measures it.
func timeLoop(steps int, profile bool, cpuProfile string, body func(i int) error) (timedLoop, error) {
	if profile {
		ops.StartProfile()
		defer ops.StopProfile() // on an error; a no-op after the one below
	}
	stopCPU := func() {}
	if cpuProfile != "" {
		stop, err := startCPUProfile(cpuProfile)
		if err != nil {
			return timedLoop{}, err
		}
		stopCPU = sync.OnceFunc(stop)
		defer stopCPU()
	}
	cpu0, cpuOK := sysmem.CPUTime()
	start := time.Now()
	for i := range steps {
		if err := body(i); err != nil {
			return timedLoop{}, err
		}
	}
	wall := time.Since(start)
	tl := timedLoop{per: wall / time.Duration(steps), cores: "unknown", rss: "unknown"}
	if cpu, ok := sysmem.CPUTime(); ok && cpuOK && wall > 0 {
		tl.cores = fmt.Sprintf("%.2f", (cpu-cpu0).Seconds()/wall.Seconds())
	}
	stopCPU() // before the profile tables: they time other work
	if profile {
		tl.kernels = ops.StopProfile()
		tl.shapes = ops.ProfileShapes()
		tl.packing = ops.ProfilePacking()
	}
	if b, ok := sysmem.PeakRSS(); ok {
		tl.rss = fmt.Sprintf("%.0f", float64(b)/(1<<20))
	}
	return tl, nil
}
