package train

import (
	"context"
	"fmt"
	"time"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/metrics"
	"github.com/hypergrid-go/hypergrid/model"
)

// ReduceStats is what the gradients' allreduce cost a distributed run so far.
type ReduceStats struct {
	// Steps is the number of steps this Trainer ran; Bytes the gradient bytes this rank
	// sent to the allreduce over them, and Time its wall time.
	Steps int
	Bytes int64
	Time  time.Duration
}

// ReduceStats returns the allreduce's totals over the steps run so far (zero when not
// distributed).
func (t *Trainer) ReduceStats() ReduceStats { return t.reduce }

// distributed reports whether the trainer is one rank of several (Options.Comm).
func (t *Trainer) distributed() bool { return t.opts.Comm != nil && t.opts.Comm.Size() > 1 }

// Rank returns the trainer's rank in a distributed run (0 otherwise): rank 0 alone
// writes checkpoints, and the hooks of other ranks should write nothing.
func (t *Trainer) Rank() int {
	if t.opts.Comm == nil {
		return 0
	}
	return t.opts.Comm.Rank()
}

// Ranks returns the number of ranks of the run (1 when not distributed).
func (t *Trainer) Ranks() int {
	if t.opts.Comm == nil {
		return 1
	}
	return max(t.opts.Comm.Size(), 1)
}

// setupComm makes the trainer a rank of Options.Comm's job: it checks that every
// rank's micro-batches hold an example, makes the stepper sum gradients over the
// ranks and starts every rank from rank 0's weights.
func (t *Trainer) setupComm() error {
	if !t.distributed() {
		return nil
	}
	n, a, r := t.opts.Comm.Size(), t.cfg.Accum(), t.cfg.Reps()
	if t.cfg.BatchSize < n*a*r {
		return ferr("train.batch_size", "is %d, fewer than the %d ranks × train.grad_accum %d × train.replicas %d: every rank's micro-batch needs an example; raise batch_size or lower grad_accum, replicas or the rank count", t.cfg.BatchSize, n, a, r)
	}
	t.stepper.SetComm(t.opts.Comm)
	return BroadcastWeights(t.opts.Comm, t.m.Params(), 0)
}

// split returns the bounds of part i of n near-equal contiguous parts of size items.
func split(size, n, i int) (lo, hi int) {
	return size * i / n, size * (i + 1) / n
}

// lossNorm is model.Spec.LossNorm of encoded examples.
func (t *Trainer) lossNorm(encs []*infer.Encoded) float64 {
	targets := make([][]int32, len(encs))
	for i, e := range encs {
		targets[i] = e.Out
	}
	return t.m.Spec.LossNorm(len(encs), targets...)
}

// parts lays out this rank's micro-batches of the global batch exs: the rank's
// contiguous shard (split over Ranks) cut into train.grad_accum × train.replicas
// micro-batches, each weighted by its share of the global batch's loss normaliser. It
// also returns the global batch's real tokens (all ranks' together, for tokens/s).
func (t *Trainer) parts(exs []data.Example) ([]Part, int) {
	encs := make([]*infer.Encoded, len(exs))
	tokens := 0
	for i, ex := range exs {
		encs[i] = t.encodedOf(ex)
		tokens += len(encs[i].In) + len(encs[i].Out)
	}
	total := t.lossNorm(encs)
	// With model replicas each micro-batch is cut into train.replicas parts.
	ranks, accum := t.Ranks(), t.cfg.Accum()*t.cfg.Reps()
	lo, hi := split(len(encs), ranks, t.Rank())
	shard := encs[lo:hi]
	var parts []Part
	for k := range accum {
		a, b := split(len(shard), accum, k)
		if a == b {
			continue
		}
		batch, _ := infer.Fill(t.m, shard[a:b])
		w := 1.0
		if total > 0 {
			w = t.lossNorm(shard[a:b]) / total
		}
		parts = append(parts, Part{Batch: batch, Weight: w, Index: t.Rank()*accum + k})
	}
	return parts, tokens
}

// trainStep draws the next global batch and runs the step on it: unsplit on one
// process (the Stepper's Step), else this rank's micro-batches (StepParts). The
// batch returned for the hooks is the step's first micro-batch on this rank.
func (t *Trainer) trainStep() (*model.Batch, int, StepResult, error) {
	exs := t.sampler.NextBatch(t.cfg.BatchSize)
	if !t.distributed() && t.cfg.Accum() == 1 {
		// One process, one micro-batch: the Stepper's Step (which cuts the batch
		// into one part per model replica), as bench train runs it.
		b, tokens := t.batch(exs)
		sr, err := t.stepper.Step(t.step, b)
		return b, tokens, sr, err
	}
	parts, tokens := t.parts(exs)
	sr, err := t.stepper.StepParts(t.step, parts)
	t.reduce.Steps++
	t.reduce.Bytes += sr.ReduceBytes
	t.reduce.Time += sr.Reduce
	var b *model.Batch
	if len(parts) > 0 {
		b = parts[0].Batch
	}
	return b, tokens, sr, err
}

// stopRequested returns ctx's error when the run should stop before its next step. In
// a distributed run the ranks agree first (a one-value allreduce): a rank that was
// interrupted stops them all at the same step.
func (t *Trainer) stopRequested(ctx context.Context) error {
	if !t.distributed() {
		return ctx.Err()
	}
	flag := []float64{0}
	if ctx.Err() != nil {
		flag[0] = 1
	}
	if err := t.opts.Comm.AllreduceSum64(flag); err != nil {
		return fmt.Errorf("step %d: agreeing whether to stop: %w", t.step+1, err)
	}
	if flag[0] == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("another rank was interrupted: %w", context.Canceled)
}

// evalCtx is the context evaluation checks between tasks: in a distributed run none
// (every rank must run the same collectives; the step loop's agreement stops them).
func (t *Trainer) evalCtx(ctx context.Context) context.Context {
	if t.distributed() {
		return context.Background()
	}
	return ctx
}

// evaluateTask scores task's dev split (at most train.eval_limit examples). In a
// distributed run each rank answers a contiguous shard, the answers are gathered with
// one allreduce (each rank fills its own slots of a zeroed buffer, so the sum is
// exact), and every rank scores all of them with the task's metrics, as one process
// would.
func (t *Trainer) evaluateTask(task TaskData) (metrics.TaskResult, error) {
	if !t.distributed() {
		return t.pred.Evaluate(task.Def.Name, task.Dev, t.cfg.EvalLimit)
	}
	exs := task.Dev
	if t.cfg.EvalLimit > 0 && len(exs) > t.cfg.EvalLimit {
		exs = exs[:t.cfg.EvalLimit]
	}
	lo, hi := split(len(exs), t.Ranks(), t.Rank())
	items := make([]infer.Item, hi-lo)
	for i := range items {
		items[i] = infer.Item{Task: task.Def.Name, Input: exs[lo+i].Inputs}
	}
	pred := make([]float64, len(exs))
	if len(items) > 0 {
		ans, err := t.pred.Answer(items)
		if err != nil {
			return metrics.TaskResult{}, fmt.Errorf("evaluating %s: %w", task.Def.Name, err)
		}
		for i, a := range ans {
			pred[lo+i] = a.Value
		}
	}
	if err := t.opts.Comm.AllreduceSum64(pred); err != nil {
		return metrics.TaskResult{}, fmt.Errorf("gathering the %s evaluation: %w", task.Def.Name, err)
	}
	ref := make([]float64, len(exs))
	for i, ex := range exs {
		if task.Def.IsRegression() {
			ref[i] = ex.Score
		} else {
			ref[i] = float64(ex.Label)
		}
	}
	res := metrics.TaskResult{Task: task.Def.Name, Metrics: map[string]float64{}}
	for _, name := range task.Def.Metrics {
		v, err := metrics.Score(name, pred, ref)
		if err != nil {
			return metrics.TaskResult{}, fmt.Errorf("evaluating %s: %w", task.Def.Name, err)
		}
		res.Metrics[name] = v
	}
	return res, nil
}
