package train

import (
	"context"
	"fmt"
	"math"
	"runtime/pprof"
	"time"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/dist"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/optim"
)

// Stepper runs training steps: the forward pass with dropout, the loss, the backward
// pass, global-norm clipping and the optimizer's update at the schedule's learning
// rate. It is the one training step of the framework: the Trainer runs it on the
// data's batches, and `hypergrid bench train` times it.
type Stepper struct {
	m       *model.Model
	params  []*autograd.Param
	opt     optim.Optimizer
	sched   optim.Schedule
	clip    float64
	dropout *layers.DropoutSource
	tape    *autograd.Tape
	phases  *Phases
	reps    []*replica // the model replicas of train.replicas, the first on m itself
	comm    dist.Comm  // nil or one rank: no reduction
	rbuf    []float32  // the reduction's bucket
	// Reduced counts the gradient bytes this rank has sent to the allreduce.
	reduced int64
}

// Phases is the wall time a Stepper spent in each phase of its steps, for profiles
// (see TimePhases).
type Phases struct {
	// Steps counts the steps timed.
	Steps int
	// Forward is the loss (the forward pass), Backward the gradients, Clip the global
	// norm and clipping, Optimizer the update.
	Forward, Backward, Clip, Optimizer time.Duration
	// Reduce is the gradients' allreduce over the ranks of a distributed run, and
	// ReduceBytes the gradient bytes each step sent to it.
	Reduce      time.Duration
	ReduceBytes int64
	// Replicas is adding the model replicas' gradients into the model's
	// (train.replicas).
	Replicas time.Duration
}

// TimePhases makes the stepper add the time of each phase of every step to p (nil
// stops it). While it times, each phase also runs under the pprof label
// phase=forward|backward|replicas|clip|optimizer, so a CPU profile can be split by
// phase. With model replicas (train.replicas) forward and backward are the first
// replica's passes (backward including the wait for the others), whose own passes
// run under phase=replica.
func (s *Stepper) TimePhases(p *Phases) { s.phases = p }

// phase starts timing the named phase (when timing) and returns the function that
// ends it.
func (s *Stepper) phase(name string, acc *time.Duration) func() {
	if s.phases == nil {
		return func() {}
	}
	start := time.Now()
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("phase", name)))
	return func() {
		*acc += time.Since(start)
		pprof.SetGoroutineLabels(context.Background())
	}
}

// NewStepper returns the stepper of cfg (optimizer, schedule, clipping, seed) for m.
func NewStepper(m *model.Model, cfg Config) (*Stepper, error) {
	params := m.Params()
	op := make([]optim.Param, len(params))
	for i, p := range params {
		op[i] = optim.Param{Name: p.Name, Value: p.Data, Grad: p.Grad, NoDecay: p.NoDecay, Rows: p.Rows, Cols: p.Cols}
	}
	opt, err := optim.New(cfg.Optimizer, optim.Options{WeightDecay: cfg.WeightDecay, RelativeStep: cfg.RelativeStep}, op)
	if err != nil {
		return nil, err
	}
	s := &Stepper{m: m, params: params, opt: opt, clip: cfg.ClipNorm,
		sched:   optim.Schedule{Kind: cfg.Schedule, Peak: cfg.LR, Warmup: cfg.Warmup, Steps: cfg.Steps},
		dropout: layers.NewDropoutSource(cfg.Seed), tape: autograd.NewTape()}
	if s.reps, err = newReplicas(m, cfg.Reps(), cfg.Seed, s.tape, s.dropout); err != nil {
		return nil, err
	}
	return s, nil
}

// Optimizer returns the stepper's optimizer (for its state).
func (s *Stepper) Optimizer() optim.Optimizer { return s.opt }

// Tape returns the stepper's tape, which other passes over the model (evaluation) may
// reuse between steps.
func (s *Stepper) Tape() *autograd.Tape { return s.tape }

// StepResult is what one step did.
type StepResult struct {
	// Loss is the batch's training loss; LR the learning rate of the step.
	Loss, LR float64
	// Skipped is set when the loss or the gradient was not finite: no update was made.
	Skipped bool
	// Reduce is the wall time of the step's allreduce of the gradients over the ranks
	// (distributed runs), and ReduceBytes the gradient bytes this rank sent to it.
	Reduce      time.Duration
	ReduceBytes int64
}

// Step runs training step number step (0-based: it sets the dropout masks and the
// learning rate) on batch b. With model replicas (train.replicas) b is split into one
// part per replica (StepParts).
func (s *Stepper) Step(step int, b *model.Batch) (StepResult, error) {
	if len(s.reps) > 1 {
		return s.StepParts(step, splitBatch(s.m, b, len(s.reps)))
	}
	var untimed Phases
	acc := &untimed // phase does not touch it when not timing
	if s.phases != nil {
		s.phases.Steps++
		acc = s.phases
	}
	end := s.phase("forward", &acc.Forward)
	s.tape.Reset()
	s.dropout.SetStep(uint64(step))
	loss, err := s.m.Loss(s.tape, b, model.Options{Train: true, Dropout: s.dropout})
	end()
	if err != nil {
		return StepResult{}, fmt.Errorf("step %d: %w", step+1, err)
	}
	res := StepResult{Loss: float64(loss.Data[0]), LR: s.sched.LR(step)}
	if math.IsNaN(res.Loss) || math.IsInf(res.Loss, 0) {
		res.Skipped = true
		return res, nil
	}
	end = s.phase("backward", &acc.Backward)
	s.m.DeferZeroGrad()
	s.tape.Backward(loss)
	s.m.SettleGrads()
	end()
	s.update(&res, acc)
	return res, nil
}

// update clips the gradients and takes the optimizer step, or marks res skipped when
// their norm is not finite.
func (s *Stepper) update(res *StepResult, acc *Phases) {
	end := s.phase("clip", &acc.Clip)
	scale, ok := clipScale(s.params, s.clip)
	end()
	if !ok {
		res.Skipped = true
		return
	}
	end = s.phase("optimizer", &acc.Optimizer)
	s.opt.StepScaled(float32(res.LR), scale)
	end()
}

// clipScale returns the factor that brings the gradients' global norm down to clip
// when it is above, else 1 (clip 0: no clipping); the optimizer applies it as it
// reads the gradients. It reports false when the norm is not finite.
func clipScale(params []*autograd.Param, clip float64) (float32, bool) {
	// Each parameter's sum of squares is taken whole, by one goroutine, and the sums
	// are added in order: the same norm whatever the thread count.
	sums := make([]float64, len(params))
	total := 0
	for _, p := range params {
		total += len(p.Grad)
	}
	ops.ParallelFor(len(params), total/max(len(params), 1), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			sums[i] = float64(ops.Dot(params[i].Grad, params[i].Grad))
		}
	})
	var ss float64
	for _, s := range sums {
		ss += s
	}
	norm := math.Sqrt(ss)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return 0, false
	}
	if clip > 0 && norm > clip {
		return float32(clip / norm), true
	}
	return 1, true
}
