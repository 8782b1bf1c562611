package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/dist"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/metrics"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/tokenizer"
)

// Options are the settings of a run that are not in its recipe.
type Options struct {
	// CheckpointDir is the folder the trainer keeps its checkpoint in ("" keeps none):
	// written every train.checkpoint_every steps and train.checkpoint_interval of wall
	// time, after the last step, and when the run is interrupted.
	CheckpointDir string
	// State holds extra sections stored in every checkpoint (e.g. "recipe": the recipe
	// as it can be loaded again, "run": the command line's settings), as JSON.
	State map[string]json.RawMessage
	// Now returns the time (time.Now when nil); tests substitute a clock.
	Now func() time.Time
	// Comm makes the trainer one rank of a data-parallel run (nil: one process). Every
	// rank draws the same global batch (train.batch_size) and trains on its shard; the
	// gradients are summed over the ranks; only rank 0 writes checkpoints; evaluation
	// is sharded and gathered.
	Comm dist.Comm
}

// ErrInterrupted is returned (wrapped) by Run when its context was cancelled: the
// current step was finished and, when the trainer keeps one, a checkpoint written.
var ErrInterrupted = errors.New("training interrupted")

// Trainer trains one model on several tasks as one: it draws mixed batches from the
// tasks' training examples, runs the Stepper on them, evaluates the dev splits, keeps
// a resumable checkpoint, and calls the hooks that a program registers (OnStep, OnEval,
// OnCheckpoint, OnEnd) to log, plot or keep the best model.
type Trainer struct {
	cfg     Config
	dc      DataConfig
	opts    Options
	m       *model.Model
	tok     *tokenizer.Model
	tasks   []TaskData
	pred    *infer.Predictor
	stepper *Stepper
	sampler *data.Sampler
	encoded map[string][]*infer.Encoded // each labelled task's training examples
	span    map[string]*spanCorpus      // each span-corruption task's chunks
	step    int
	losses  []float64
	skipped int
	early   earlyState // early stopping's counters (train.early_stopping)

	reduce ReduceStats // the gradients' allreduce in a distributed run

	onStep       []func(*StepInfo) error
	onEval       []func(*EvalInfo) error
	onCheckpoint []func(*CheckpointInfo) error
	onEnd        []func(*Result) error
}

// StepInfo describes a finished step to the OnStep hooks.
type StepInfo struct {
	// Step is the number of steps done (1 after the first); Total is train.steps.
	Step, Total int
	// Loss and LR are the step's; Tokens the batch's real tokens; Duration the step's
	// wall time.
	Loss, LR float64
	Tokens   int
	Duration time.Duration
	// Batch is the step's batch (the hook may keep it: each step has its own); with
	// train.grad_accum or several ranks, this rank's first micro-batch of it.
	Batch *model.Batch
	// Skipped is set when the step was skipped (non-finite loss or gradient), and
	// BadInARow counts such steps in a row.
	Skipped   bool
	BadInARow int
}

// EvalInfo is an evaluation of every task's dev split, for the OnEval hooks.
type EvalInfo struct {
	// Step is the number of steps done when it ran.
	Step int
	// Results holds each task's metrics (0-100), in the order of data.tasks.
	Results []metrics.TaskResult
	// Average is the GLUE-style average (metrics.Average); HasAverage is false when no
	// task has a scored metric.
	Average    float64
	HasAverage bool
}

// CheckpointInfo says that a checkpoint was written.
type CheckpointInfo struct {
	// Step is the step it holds; Dir the folder; Reason why it was written:
	// "every", "interval", "end" or "interrupt".
	Step   int
	Dir    string
	Reason string
}

// Result is what a finished (or interrupted) run reports.
type Result struct {
	// Steps is the number of optimizer steps done.
	Steps int
	// Eval holds each task's dev metrics after the last step (nil when interrupted).
	Eval []metrics.TaskResult
	// Average is the GLUE-style average of Eval.
	Average float64
	// Losses holds the training loss of every step this Run took.
	Losses []float64
	// Skipped counts the steps skipped by the NaN guard.
	Skipped int
	// EarlyStopped is set when train.early_stopping ended the run before train.steps
	// (Steps is then the step it stopped at).
	EarlyStopped bool
}

// OnStep registers f to run after every step; an error stops the run.
func (t *Trainer) OnStep(f func(*StepInfo) error) { t.onStep = append(t.onStep, f) }

// OnEval registers f to run after every evaluation; an error stops the run.
func (t *Trainer) OnEval(f func(*EvalInfo) error) { t.onEval = append(t.onEval, f) }

// OnCheckpoint registers f to run after every checkpoint; an error stops the run.
func (t *Trainer) OnCheckpoint(f func(*CheckpointInfo) error) {
	t.onCheckpoint = append(t.onCheckpoint, f)
}

// OnEnd registers f to run when the run has done all its steps and its last
// evaluation (not when it is interrupted or fails).
func (t *Trainer) OnEnd(f func(*Result) error) { t.onEnd = append(t.onEnd, f) }

// New returns a trainer of m on tasks (their training and dev splits; see ReadTasks),
// with tok the tokenizer m's inputs are encoded with and cfg and dc the recipe's train:
// and data: sections.
func New(m *model.Model, tok *tokenizer.Model, tasks []TaskData, cfg Config, dc DataConfig, opts Options) (*Trainer, error) {
	enc := infer.Encoder{Tok: tok, MaxInputLen: cfg.MaxInputLen, MaxTargetLen: cfg.MaxTargetLen}
	pred, err := infer.NewPredictor(m, enc, cfg.BatchSize, Defs(labelledTasks(tasks)))
	if err != nil {
		return nil, err
	}
	stepper, err := NewStepper(m, cfg)
	if err != nil {
		return nil, err
	}
	pred.UseTape(stepper.Tape())
	t := &Trainer{cfg: cfg, dc: dc, opts: opts, m: m, tok: tok, tasks: labelledTasks(tasks), pred: pred, stepper: stepper,
		encoded: map[string][]*infer.Encoded{}, span: map[string]*spanCorpus{}, early: earlyState{Best: -1}}
	if t.opts.Now == nil {
		t.opts.Now = time.Now
	}
	var td []data.TaskData
	for _, task := range tasks {
		if task.Def.IsSpanCorruption() { // not evaluated: t.tasks leaves it out
			sc, err := newSpanCorpus(tok, task, cfg)
			if err != nil {
				return nil, err
			}
			t.span[task.Def.Name] = sc
			td = append(td, data.TaskData{Name: task.Def.Name, Examples: sc.examples})
			continue
		}
		it, err := pred.Task(task.Def.Name)
		if err != nil {
			return nil, err
		}
		encs := make([]*infer.Encoded, len(task.Train))
		exs := make([]data.Example, len(task.Train))
		for i := range task.Train {
			encs[i] = it.EncodeExample(enc, &task.Train[i])
			exs[i] = task.Train[i]
			exs[i].Index = i // the sampler hands back examples; Index finds their tokens
		}
		t.encoded[task.Def.Name] = encs
		td = append(td, data.TaskData{Name: task.Def.Name, Examples: exs})
	}
	if t.sampler, err = data.NewMixtureSampler(td, dc.Mixture, cfg.Seed); err != nil {
		return nil, err
	}
	if err := t.setupComm(); err != nil {
		return nil, err
	}
	return t, nil
}

// Model returns the model being trained.
func (t *Trainer) Model() *model.Model { return t.m }

// Predictor returns the predictor the trainer evaluates with.
func (t *Trainer) Predictor() *infer.Predictor { return t.pred }

// Step returns the number of steps done so far (after Restore, the checkpoint's).
func (t *Trainer) Step() int { return t.step }

// Config returns the train: section the trainer runs.
func (t *Trainer) Config() Config { return t.cfg }

// Run trains until train.steps, then evaluates every task. When ctx is cancelled it
// finishes the step under way, writes a checkpoint (when it keeps one) and returns an
// error wrapping ErrInterrupted.
func (t *Trainer) Run(ctx context.Context) (*Result, error) {
	cfg := t.cfg
	res := &Result{Steps: t.step}
	if t.step > cfg.Steps {
		return res, fmt.Errorf("the run is at step %d, past train.steps (%d): raise the steps to train further", t.step, cfg.Steps)
	}
	bad := 0
	lastSave := t.opts.Now()
	var stopEval *EvalInfo // the evaluation that stopped the run early
	for t.step < cfg.Steps && !t.early.Stopped {
		if err := t.stopRequested(ctx); err != nil {
			return res, t.interrupt(res, err)
		}
		start := t.opts.Now()
		b, tokens, sr, err := t.trainStep()
		if err != nil {
			return res, err
		}
		t.step++
		res.Losses = append(res.Losses, sr.Loss)
		info := &StepInfo{Step: t.step, Total: cfg.Steps, Loss: sr.Loss, LR: sr.LR, Tokens: tokens, Duration: t.opts.Now().Sub(start), Batch: b, Skipped: sr.Skipped}
		if sr.Skipped {
			bad++
			res.Skipped++
		} else {
			bad = 0
			res.Steps = t.step
		}
		info.BadInARow = bad
		for _, f := range t.onStep {
			if err := f(info); err != nil {
				return res, err
			}
		}
		if sr.Skipped && cfg.MaxBadSteps > 0 && bad >= cfg.MaxBadSteps {
			return res, fmt.Errorf("stopped after %d steps in a row with a non-finite loss or gradient: lower train.lr or check the data", bad)
		}
		last := t.step == cfg.Steps
		// Evaluate before the checkpoint of the same step, so the checkpoint holds the
		// early-stopping counters of every evaluation up to its step.
		if !last && cfg.EvalDue(t.step) {
			ev, err := t.evaluate(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return res, t.interrupt(res, ctx.Err())
				}
				return res, err
			}
			if t.early.observe(cfg.EarlyStopping, ev) {
				stopEval = ev
			}
		}
		reason := ""
		switch {
		case stopEval != nil:
			reason = "early_stop"
		case last:
			reason = "end"
		case cfg.CheckpointEvery > 0 && t.step%cfg.CheckpointEvery == 0:
			reason = "every"
		case cfg.CheckpointInterval > 0 && t.opts.Now().Sub(lastSave) >= cfg.CheckpointInterval:
			reason = "interval"
		}
		if reason != "" && t.opts.CheckpointDir != "" {
			if err := t.checkpoint(reason); err != nil {
				return res, err
			}
			lastSave = t.opts.Now()
		}
	}
	res.Steps = t.step
	res.EarlyStopped = t.early.Stopped
	ev := stopEval
	if ev == nil {
		var err error
		if ev, err = t.evaluate(ctx); err != nil {
			if ctx.Err() != nil {
				return res, t.interrupt(res, ctx.Err())
			}
			return res, err
		}
	}
	res.Eval, res.Average = ev.Results, ev.Average
	for _, f := range t.onEnd {
		if err := f(res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// interrupt writes the checkpoint of an interrupted run.
func (t *Trainer) interrupt(res *Result, cause error) error {
	res.Steps = t.step
	if t.opts.CheckpointDir != "" {
		if err := t.checkpoint("interrupt"); err != nil {
			return fmt.Errorf("%w at step %d (%v), and the checkpoint could not be written: %v", ErrInterrupted, t.step, cause, err)
		}
	}
	return fmt.Errorf("%w at step %d (%v)", ErrInterrupted, t.step, cause)
}

// checkpoint writes the run's checkpoint and calls the hooks.
func (t *Trainer) checkpoint(reason string) error {
	if t.Rank() != 0 {
		return nil // rank 0 writes the run's files
	}
	if err := t.SaveCheckpoint(t.opts.CheckpointDir, map[string]any{StateEarlyStopping: t.early}); err != nil {
		return err
	}
	info := &CheckpointInfo{Step: t.step, Dir: t.opts.CheckpointDir, Reason: reason}
	for _, f := range t.onCheckpoint {
		if err := f(info); err != nil {
			return err
		}
	}
	return nil
}

// batch lays sampled examples out as a model batch; it returns the batch and its number
// of real (non-padding) tokens.
func (t *Trainer) batch(exs []data.Example) (*model.Batch, int) {
	encs := make([]*infer.Encoded, len(exs))
	for i, ex := range exs {
		encs[i] = t.encodedOf(ex)
	}
	return infer.Fill(t.m, encs)
}

// encodedOf returns the tokens of a sampled example: encoded once for a labelled task,
// corrupted for the example's pass for a span-corruption task.
func (t *Trainer) encodedOf(ex data.Example) *infer.Encoded {
	if sc := t.span[ex.Task]; sc != nil {
		return sc.example(ex)
	}
	return t.encoded[ex.Task][ex.Index]
}

// Evaluate scores every task's dev split (at most train.eval_limit examples each) and
// calls the OnEval hooks.
func (t *Trainer) Evaluate() (*EvalInfo, error) { return t.evaluate(context.Background()) }

func (t *Trainer) evaluate(ctx context.Context) (*EvalInfo, error) {
	ev := &EvalInfo{Step: t.step}
	for _, task := range t.tasks {
		if err := t.evalCtx(ctx).Err(); err != nil {
			return nil, err
		}
		r, err := t.evaluateTask(task)
		if err != nil {
			return nil, err
		}
		ev.Results = append(ev.Results, r)
	}
	ev.Average, ev.HasAverage = metrics.Average(ev.Results)
	for _, f := range t.onEval {
		if err := f(ev); err != nil {
			return nil, err
		}
	}
	return ev, nil
}
