package train_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/dist"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/train"
)

// newTiny builds a trainer of the tiny recipe (without dropout, so that a step split
// into micro-batches or ranks computes the same function) with the --set values sets.
func newTiny(t *testing.T, comm dist.Comm, sets ...string) *train.Trainer {
	t.Helper()
	tr, err := newTinyErr(t, comm, sets...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func newTinyErr(t *testing.T, comm dist.Comm, sets ...string) (*train.Trainer, error) {
	t.Helper()
	r, err := recipe.Loader{Sets: append([]string{"model.dropout=0"}, sets...)}.Parse("tiny.yaml", []byte(tinyRecipe))
	if err != nil {
		return nil, err
	}
	tasks, err := train.ReadTasks(r.Data, train.SplitTrain, train.SplitDev)
	if err != nil {
		return nil, err
	}
	tok, err := train.BuildTokenizer(r.Tokenizer, tasks)
	if err != nil {
		return nil, err
	}
	m, err := r.Build(r.Train.Seed)
	if err != nil {
		return nil, err
	}
	return train.New(m, tok, tasks, r.Train, r.Data, train.Options{Comm: comm})
}

// closeLosses fails unless got and want agree to within rel (relative).
func closeLosses(t *testing.T, what string, got, want []float64, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d losses, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		worst = max(worst, math.Abs(got[i]-want[i])/math.Abs(want[i]))
	}
	if worst > rel {
		t.Errorf("%s: losses differ by up to %.2g relative, more than %.0g:\ngot  %v\nwant %v", what, worst, rel, got, want)
	}
}

// lossTolerance is the relative difference allowed between the losses of a step run
// whole and split (into micro-batches or over ranks): float32 sums in another order.
const lossTolerance = 1e-5

// TestGradAccumMatchesFullBatch: batch 8 as 1, 2 and 8 micro-batches (uneven: 3) give
// the losses of the unsplit batch over 20 steps, within lossTolerance, and the same
// evaluation.
func TestGradAccumMatchesFullBatch(t *testing.T) {
	defer ops.SetThreads(ops.SetThreads(1))
	sets, accums := []string{"train.steps=20", "train.eval_limit=16"}, []string{"2", "3", "8"}
	if testing.Short() { // qemu, race, purego: fewer steps, one split
		sets, accums = []string{"train.steps=4", "train.eval_limit=8"}, []string{"3"}
	}
	full, err := newTiny(t, nil, sets...).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, accum := range accums {
		t.Run("accum="+accum, func(t *testing.T) {
			res, err := newTiny(t, nil, append(sets, "train.grad_accum="+accum)...).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			closeLosses(t, "grad_accum="+accum, res.Losses, full.Losses, lossTolerance)
			sameEval(t, res, full)
		})
	}
}

// sameEval fails unless two runs' dev metrics agree within lossTolerance.
func sameEval(t *testing.T, got, want *train.Result) {
	t.Helper()
	if len(got.Eval) != len(want.Eval) {
		t.Fatalf("%d tasks evaluated, want %d", len(got.Eval), len(want.Eval))
	}
	for i, w := range want.Eval {
		for name, v := range w.Metrics {
			g := got.Eval[i].Metrics[name]
			if math.Abs(g-v) > lossTolerance*max(1, math.Abs(v)) {
				t.Errorf("%s %s = %v, want %v", w.Task, name, g, v)
			}
		}
	}
}

// TestDataParallelMatchesOneProcess: 2 and 3 ranks (goroutines with dist.NewLocal),
// with and without micro-batches or model replicas, give the losses and evaluation of one process on
// the same global batch; every rank reports the same.
func TestDataParallelMatchesOneProcess(t *testing.T) {
	defer ops.SetThreads(ops.SetThreads(1))
	type split struct {
		ranks           int
		accum, replicas string
	}
	sets, splits := []string{"train.steps=15", "train.eval_limit=16"}, []split{{2, "1", "1"}, {3, "1", "1"}, {2, "2", "1"}, {2, "1", "2"}}
	if testing.Short() { // qemu, race, purego: fewer steps, one split
		sets, splits = []string{"train.steps=4", "train.eval_limit=8"}, []split{{2, "2", "1"}}
	}
	one, err := newTiny(t, nil, sets...).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range splits {
		t.Run(fmt.Sprintf("ranks=%d,accum=%s,replicas=%s", tc.ranks, tc.accum, tc.replicas), func(t *testing.T) {
			comms, err := dist.NewLocal(tc.ranks, 3*time.Minute) // generous: each rank trains its tokenizer before the first collective, on a loaded machine too
			if err != nil {
				t.Fatal(err)
			}
			// Every rank builds its trainer (New broadcasts rank 0's weights: a
			// collective) and runs it in a goroutine of its own.
			results := make([]*train.Result, tc.ranks)
			errs := make([]error, tc.ranks)
			var wg sync.WaitGroup
			for i, c := range comms {
				wg.Go(func() {
					tr, err := newTinyErr(t, c, append(sets, "train.grad_accum="+tc.accum, "train.replicas="+tc.replicas)...)
					if err != nil {
						errs[i] = err
						return
					}
					results[i], errs[i] = tr.Run(context.Background())
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("rank %d: %v", i, err)
				}
				closeLosses(t, "rank", results[i].Losses, one.Losses, lossTolerance)
				sameEval(t, results[i], one)
			}
		})
	}
}

// New refuses a global batch that leaves a rank's micro-batch empty (before any
// collective call, so one rank alone reports it).
func TestDataParallelBatchTooSmall(t *testing.T) {
	comms, err := dist.NewLocal(2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, err = newTinyErr(t, comms[0], "train.batch_size=3", "train.grad_accum=2")
	if err == nil || !strings.Contains(err.Error(), "train.batch_size: is 3, fewer than the 2 ranks × train.grad_accum 2") {
		t.Fatalf("got %v", err)
	}
}

func TestGradAccumValidate(t *testing.T) {
	for _, tc := range []struct {
		accum, batch int
		want         string
	}{
		{0, 8, ""},
		{1, 8, ""},
		{8, 8, ""},
		{9, 8, "grad_accum: is 9, more than train.batch_size (8)"},
		{-1, 8, "grad_accum: is -1; want 1"},
		{train.MaxGradAccum + 1, train.MaxBatchSize, "want 1 (no accumulation) up to 65536"},
	} {
		c := train.DefaultConfig()
		c.GradAccum, c.BatchSize = tc.accum, tc.batch
		var got string
		for _, err := range c.Validate() {
			got += err.Error()
		}
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("grad_accum %d, batch %d: %q; want %q", tc.accum, tc.batch, got, tc.want)
		}
	}
}

func TestMicroBatch(t *testing.T) {
	for _, tc := range []struct{ batch, accum, ranks, want int }{
		{32, 1, 1, 32}, {32, 4, 1, 8}, {32, 4, 2, 4}, {33, 4, 2, 5}, {5, 8, 1, 1}, {8, 0, 0, 8},
	} {
		c := train.Config{BatchSize: tc.batch, GradAccum: tc.accum}
		if got := c.MicroBatch(tc.ranks); got != tc.want {
			t.Errorf("batch %d accum %d ranks %d: MicroBatch = %d, want %d", tc.batch, tc.accum, tc.ranks, got, tc.want)
		}
	}
}

// TestGradAccumResumesExactly: with train.grad_accum 3, or on 2 model replicas (and
// dropout: every micro-batch draws masks of its own), 6 steps, then a resumed run to
// 12, give the losses of an uninterrupted 12-step run, bit for bit.
func TestGradAccumResumesExactly(t *testing.T) {
	splits := [][]string{{"train.grad_accum=3"}, {"train.replicas=2"}}
	n := 12
	if testing.Short() {
		splits, n = splits[:1], 6
	}
	for _, split := range splits {
		t.Run(strings.Join(split, ","), func(t *testing.T) { resumesExactly(t, n, split...) })
	}
}

// resumesExactly runs the tiny recipe with the --set values split for n steps, and
// for n/2 then resumed to n (checkpoints every 3 steps), and fails unless the losses
// are the same bit for bit.
func resumesExactly(t *testing.T, n int, split ...string) {
	sets := append([]string{"train.checkpoint_every=3", "train.eval_limit=8"}, split...)
	steps := func(k int) string { return fmt.Sprintf("train.steps=%d", k) }
	full, err := runTinyOpts(t, runOpts{out: t.TempDir()}, append(sets, steps(n))...)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	first, err := runTinyOpts(t, runOpts{out: dir}, append(sets, steps(n/2))...)
	if err != nil {
		t.Fatal(err)
	}
	second, err := runTinyOpts(t, runOpts{out: dir, resume: true}, append(sets, steps(n))...)
	if err != nil {
		t.Fatal(err)
	}
	got := append(append([]float64(nil), first.Losses...), second.Losses...)
	if len(got) != n {
		t.Fatalf("%d losses after resuming, want %d", len(got), n)
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(full.Losses[i]) {
			t.Fatalf("step %d: resumed run's loss %v, uninterrupted run's %v", i+1, got[i], full.Losses[i])
		}
	}
}
