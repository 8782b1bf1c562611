package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/data/suite"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/monitor"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/optim"
	"github.com/hypergrid-go/hypergrid/plots"
	"github.com/hypergrid-go/hypergrid/tokenizer"
)

// Options are the run's settings that do not belong in a recipe.
type Options struct {
	// DataDir overrides the data: section's dir (GLUE layout).
	DataDir string
	// OutDir receives the tokenizer, the JSONL metrics log and the plots ("" writes nothing).
	OutDir string
	// Steps overrides the train: section's steps when positive.
	Steps int
	// Threads sets ops.SetThreads when positive.
	Threads int
	// Out receives the progress display and the evaluation tables (nil: discarded).
	Out io.Writer
	// Build makes the model once the tokenizer's vocabulary size is known.
	Build func(vocab int) (*model.Model, error)
	// Resume continues from the checkpoint in OutDir/checkpoint: the weights, the
	// optimizer's moments, the data sampler's position and the tokenizer are restored,
	// so the run goes on exactly as if it had not stopped.
	Resume bool
	// Recipe is the recipe as the caller can reload it (e.g. its files' text and the
	// --set overrides), stored in each checkpoint under the state section "recipe".
	Recipe json.RawMessage
}

// CheckpointDir is the checkpoint folder inside a run's output folder.
const CheckpointDir = "checkpoint"

// Result is what a finished run reports.
type Result struct {
	// Steps is the number of optimizer steps taken.
	Steps int
	// Eval holds each task's dev metrics after the last step.
	Eval []monitor.TaskResult
	// Average is the GLUE-style average of Eval.
	Average float64
	// Losses holds the training loss of every step.
	Losses []float64
	// Skipped counts the steps skipped by the NaN guard.
	Skipped int
}

// task is one task of the run, tokenized.
type task struct {
	def        data.TaskDef
	train, dev []encoded
	// candidates are the token sequences of the possible outputs (label words, or the
	// regression grid's values), and values the value each stands for.
	candidates [][]int32
	values     []float64
}

// encoded is one tokenized example.
type encoded struct {
	ex      data.Example
	in, out []int32
}

// Run trains as the recipe's sections say and returns the final evaluation.
func Run(cfg Config, dc DataConfig, tc TokenizerConfig, opt Options) (*Result, error) {
	if opt.Steps > 0 {
		cfg.Steps = opt.Steps
	}
	if opt.DataDir != "" {
		dc.Dir = opt.DataDir
	}
	if opt.Threads > 0 {
		defer ops.SetThreads(ops.SetThreads(opt.Threads))
	}
	out := opt.Out
	if out == nil {
		out = io.Discard
	}
	if opt.OutDir != "" {
		if err := os.MkdirAll(opt.OutDir, 0o755); err != nil {
			return nil, fmt.Errorf("output folder: %w", err)
		}
	}
	raw, err := readTasks(dc)
	if err != nil {
		return nil, err
	}
	var ckpt *checkpoint.Checkpoint
	if opt.Resume {
		if opt.OutDir == "" {
			return nil, errors.New("resuming needs the output folder of the run")
		}
		if ckpt, err = checkpoint.Load(filepath.Join(opt.OutDir, CheckpointDir)); err != nil {
			return nil, err
		}
		tc.Model = "" // the run's own tokenizer comes from the checkpoint
	}
	var tok *tokenizer.Model
	if ckpt != nil {
		if tok, err = tokenizer.Parse(ckpt.Files["tokenizer.model"]); err != nil {
			return nil, fmt.Errorf("checkpoint tokenizer: %w", err)
		}
	} else if tok, err = tokenizerFor(tc, raw, opt.OutDir); err != nil {
		return nil, err
	}
	m, err := opt.Build(tok.VocabSize())
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() > m.Spec.Vocab {
		return nil, fmt.Errorf("the tokenizer has %d pieces but model.vocab is %d: raise model.vocab or lower tokenizer.vocab", tok.VocabSize(), m.Spec.Vocab)
	}
	tasks, err := encodeTasks(raw, tok, cfg, dc)
	if err != nil {
		return nil, err
	}
	taskIndex, err := taskIndices(m, tasks)
	if err != nil {
		return nil, err
	}
	var log *monitor.Log
	if opt.OutDir != "" {
		if log, err = monitor.OpenLog(filepath.Join(opt.OutDir, "metrics.jsonl")); err != nil {
			return nil, err
		}
		defer log.Close()
	}
	tokBytes := tok.Marshal()
	r := &runner{cfg: cfg, m: m, tasks: tasks, taskIndex: taskIndex, eos: int32(tok.EOSID()), log: log,
		resume: ckpt, best: bestSoFar(opt.OutDir), outDir: opt.OutDir, recipe: opt.Recipe, tokenizer: tokBytes}
	res, err := r.run(dc, out)
	if err != nil {
		return res, err
	}
	if log != nil {
		if err := log.Close(); err != nil {
			return res, err
		}
		writePlots(filepath.Join(opt.OutDir, "metrics.jsonl"), opt.OutDir, out)
		if grids, err := r.meanGates(); err != nil {
			return res, err
		} else if len(grids) > 0 {
			files, err := plots.Gates(grids, opt.OutDir)
			if err != nil {
				fmt.Fprintf(out, "gate heat maps skipped: %v\n", err)
			} else {
				fmt.Fprintf(out, "gate heat maps: %s\n", strings.Join(files, ", "))
			}
		}
	}
	return res, nil
}

// meanGates runs the model over each task's dev split and averages every HyperGrid
// layer's gates over the task's examples: what the grid learned for each task.
func (r *runner) meanGates() (map[string][]plots.Grid, error) {
	out := map[string][]plots.Grid{}
	tape := autograd.NewTape()
	for _, t := range r.tasks {
		sums := map[string][]float64{}
		shapes := map[string][2]int{}
		var order []string
		count := 0
		tap := func(name string, batch, rows, cols int, values []float32) {
			s := sums[name]
			if s == nil {
				s = make([]float64, rows*cols)
				sums[name], shapes[name] = s, [2]int{rows, cols}
				order = append(order, name)
			}
			for e := 0; e < batch; e++ {
				for i := range s {
					s[i] += float64(values[e*rows*cols+i])
				}
			}
		}
		err := r.devBatches(t, tape, func(b *model.Batch, encs []*encoded) error {
			if _, err := r.m.Loss(tape, b, model.Options{Tap: tap}); err != nil {
				return fmt.Errorf("gates of %s: %w", t.def.Name, err)
			}
			count += len(encs)
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, name := range order {
			sh := shapes[name]
			vals := make([]float32, len(sums[name]))
			for i, v := range sums[name] {
				vals[i] = float32(v / float64(count))
			}
			out[t.def.Name] = append(out[t.def.Name], plots.Grid{Layer: name, Rows: sh[0], Cols: sh[1], Values: vals})
		}
	}
	return out, nil
}

// Evaluate scores a trained model on the dev split of every task of dc, with the
// tokenizer it was trained with, and writes the table to out (nil: nowhere).
func Evaluate(m *model.Model, tok *tokenizer.Model, cfg Config, dc DataConfig, dataDir string, out io.Writer) ([]monitor.TaskResult, float64, error) {
	if dataDir != "" {
		dc.Dir = dataDir
	}
	if out == nil {
		out = io.Discard
	}
	raw, err := readTasks(dc)
	if err != nil {
		return nil, 0, err
	}
	tasks, err := encodeTasks(raw, tok, cfg, dc)
	if err != nil {
		return nil, 0, err
	}
	taskIndex, err := taskIndices(m, tasks)
	if err != nil {
		return nil, 0, err
	}
	r := &runner{cfg: cfg, m: m, tasks: tasks, taskIndex: taskIndex, eos: int32(tok.EOSID())}
	progress := monitor.NewProgress(out, monitor.Options{})
	res, err := r.evaluate(0, autograd.NewTape(), progress)
	if err != nil {
		return nil, 0, err
	}
	avg, _ := monitor.GLUEAverage(res)
	return res, avg, nil
}

// LoadModelWeights copies a checkpoint's weights into m, matching parameters by name.
func LoadModelWeights(m *model.Model, c *checkpoint.Checkpoint, where string) error {
	byName := map[string]checkpoint.Tensor{}
	for _, t := range c.Model {
		byName[t.Name] = t
	}
	params := m.Params()
	if len(c.Model) != len(params) {
		return fmt.Errorf("checkpoint %s has %d tensors, the recipe's model has %d parameters: use the recipe the run was trained with", where, len(c.Model), len(params))
	}
	for _, p := range params {
		t, ok := byName[p.Name]
		if !ok || len(t.Data) != len(p.Data) {
			return fmt.Errorf("checkpoint %s: parameter %s is missing or has another shape: use the recipe the run was trained with", where, p.Name)
		}
		copy(p.Data, t.Data)
	}
	return nil
}

// readTasks reads each task's train and dev splits: from the embedded suite when no
// data folder is given, else from the folder in GLUE layout.
func readTasks(dc DataConfig) (map[string][2][]data.Example, error) {
	out := map[string][2][]data.Example{}
	for _, name := range dc.Tasks {
		def, ok := data.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("unknown task %q (known: %v)", name, data.TaskNames())
		}
		var splits [2][]data.Example
		for i, split := range []string{"train", "dev"} {
			var exs []data.Example
			var err error
			if dc.Dir == "" {
				exs, err = suite.Load(name, split)
				if err != nil {
					return nil, fmt.Errorf("task %s is not in the embedded suite (%w); give its files with --data DIR", name, err)
				}
			} else {
				exs, _, err = data.ReadSplit(def, dc.Dir, split, data.ReadOptions{})
				if err != nil {
					return nil, err
				}
			}
			if i == 0 && dc.TrainLimit > 0 && len(exs) > dc.TrainLimit {
				exs = exs[:dc.TrainLimit]
			}
			if len(exs) == 0 {
				return nil, fmt.Errorf("task %s: the %s split is empty", name, split)
			}
			splits[i] = exs
		}
		out[name] = splits
	}
	return out, nil
}

// tokenizerFor loads the configured tokenizer, or trains one on the training text and
// saves it in outDir.
func tokenizerFor(tc TokenizerConfig, raw map[string][2][]data.Example, outDir string) (*tokenizer.Model, error) {
	if tc.Model != "" {
		return tokenizer.Load(tc.Model)
	}
	typ, err := tokenizer.ParseModelType(tc.Type)
	if err != nil {
		return nil, err
	}
	var text []string
	for _, splits := range raw {
		for _, ex := range splits[0] {
			text = append(text, ex.Inputs, ex.Targets)
		}
	}
	// tokenizer.vocab is an upper bound: a small suite's text may yield fewer pieces.
	tok, err := tokenizer.Train(tokenizer.TrainOptions{Sentences: text, VocabSize: tc.Vocab, Type: typ, SoftVocabLimit: true})
	if err != nil {
		return nil, fmt.Errorf("training the tokenizer: %w", err)
	}
	if outDir != "" {
		if err := tok.Save(filepath.Join(outDir, "tokenizer.model")); err != nil {
			return nil, err
		}
	}
	return tok, nil
}

func encodeText(tok *tokenizer.Model, text string, max int, eos int32) []int32 {
	ids := tok.Encode(text)
	n := min(len(ids), max-1)
	out := make([]int32, n+1)
	for i := range n {
		out[i] = int32(ids[i])
	}
	out[n] = eos
	return out
}

func encodeTasks(raw map[string][2][]data.Example, tok *tokenizer.Model, cfg Config, dc DataConfig) ([]*task, error) {
	eos := int32(tok.EOSID())
	var tasks []*task
	for _, name := range dc.Tasks {
		def, _ := data.Lookup(name)
		t := &task{def: def}
		for i, split := range raw[name] {
			enc := make([]encoded, len(split))
			for j, ex := range split {
				enc[j] = encoded{ex: ex, in: encodeText(tok, ex.Inputs, cfg.MaxInputLen, eos), out: encodeText(tok, ex.Targets, cfg.MaxTargetLen, eos)}
			}
			if i == 0 {
				t.train = enc
			} else {
				t.dev = enc
			}
		}
		if def.IsRegression() {
			lo, hi, step := 0.0, 5.0, def.Round
			if len(def.Range) == 2 {
				lo, hi = def.Range[0], def.Range[1]
			}
			if step <= 0 {
				step = (hi - lo) / 25
			}
			for v := lo; v <= hi+step/2; v += step {
				t.values = append(t.values, v)
				t.candidates = append(t.candidates, encodeText(tok, def.ScoreText(v), cfg.MaxTargetLen, eos))
			}
		} else {
			for i, w := range def.LabelWords {
				t.values = append(t.values, float64(i))
				t.candidates = append(t.candidates, encodeText(tok, w, cfg.MaxTargetLen, eos))
			}
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// taskIndices maps each task to its index in the model's task list (nil when the
// model declares no tasks: a T5 model reads the task from its input prefix).
func taskIndices(m *model.Model, tasks []*task) (map[string]int32, error) {
	if len(m.Spec.Tasks) == 0 {
		if m.Spec.Arch == model.ArchEncoder {
			return nil, errors.New("an encoder-only model needs model.tasks, one head per task")
		}
		return nil, nil
	}
	idx := map[string]int32{}
	for i, ts := range m.Spec.Tasks {
		idx[ts.Name] = int32(i)
	}
	for _, t := range tasks {
		if _, ok := idx[t.def.Name]; !ok {
			return nil, fmt.Errorf("task %s is not one of model.tasks; add it there or drop it from data.tasks", t.def.Name)
		}
	}
	return idx, nil
}

// runner holds the state of one run.
type runner struct {
	cfg       Config
	m         *model.Model
	tasks     []*task
	taskIndex map[string]int32
	eos       int32
	log       *monitor.Log
	byName    map[string]*task
	resume    *checkpoint.Checkpoint
	best      float64 // best GLUE-style average so far (-1: none)
	outDir    string
	recipe    json.RawMessage
	tokenizer []byte
}

func (r *runner) run(dc DataConfig, out io.Writer) (*Result, error) {
	cfg := r.cfg
	r.byName = map[string]*task{}
	var td []data.TaskData
	for _, t := range r.tasks {
		r.byName[t.def.Name] = t
		exs := make([]data.Example, len(t.train))
		for i, e := range t.train {
			exs[i] = e.ex
			exs[i].Index = i // the sampler hands back examples; Index finds their tokens
		}
		td = append(td, data.TaskData{Name: t.def.Name, Examples: exs})
	}
	sampler, err := data.NewMixtureSampler(td, dc.Mixture, cfg.Seed)
	if err != nil {
		return nil, err
	}
	params := r.m.Params()
	opt, err := newOptimizer(cfg, params)
	if err != nil {
		return nil, err
	}
	start := 0
	if r.resume != nil {
		if start, err = r.restore(r.resume, opt, sampler); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "resumed from %s at step %d\n", filepath.Join(r.outDir, CheckpointDir), start)
	}
	progress := monitor.NewProgress(out, monitor.Options{Total: cfg.Steps, Start: start})
	dropout := layers.NewDropoutSource(cfg.Seed)
	tape := autograd.NewTape()
	res := &Result{Steps: start}
	bad := 0
	sched := optim.Schedule{Kind: cfg.Schedule, Peak: cfg.LR, Warmup: cfg.Warmup, Steps: cfg.Steps}
	for step := start; step < cfg.Steps; step++ {
		stepStart := time.Now()
		exs := sampler.NextBatch(cfg.BatchSize)
		b, tokens := r.batch(exs)
		tape.Reset()
		dropout.SetStep(uint64(step))
		loss, err := r.m.Loss(tape, b, model.Options{Train: true, Dropout: dropout})
		if err != nil {
			return res, fmt.Errorf("step %d: %w", step+1, err)
		}
		l := float64(loss.Data[0])
		res.Losses = append(res.Losses, l)
		lr := sched.LR(step)
		ok := !math.IsNaN(l) && !math.IsInf(l, 0)
		if ok {
			r.m.ZeroGrad()
			tape.Backward(loss)
			ok = clipGrads(params, cfg.ClipNorm)
		}
		if !ok {
			bad++
			res.Skipped++
			progress.Logf("step %d: loss or gradient is not finite (%v); step skipped (%d in a row)", step+1, l, bad)
			if cfg.MaxBadSteps > 0 && bad >= cfg.MaxBadSteps {
				progress.Finish()
				return res, fmt.Errorf("stopped after %d steps in a row with a non-finite loss or gradient: lower train.lr or check the data", bad)
			}
			continue
		}
		bad = 0
		opt.Step(float32(lr))
		res.Steps = step + 1
		progress.Update(monitor.Update{Step: step + 1, Loss: l, Tokens: tokens, LR: lr})
		if r.log != nil {
			now := time.Now()
			if err := r.log.Train(step+1, now, l, lr, float64(tokens)/now.Sub(stepStart).Seconds()); err != nil {
				return res, err
			}
		}
		if r.outDir != "" && (step+1 == cfg.Steps || cfg.CheckpointEvery > 0 && (step+1)%cfg.CheckpointEvery == 0) {
			if err := r.save(step+1, opt, sampler); err != nil {
				return res, err
			}
		}
		if cfg.EvalEvery > 0 && (step+1)%cfg.EvalEvery == 0 && step+1 < cfg.Steps {
			evals, err := r.evaluate(step+1, tape, progress)
			if err != nil {
				return res, err
			}
			if err := r.trackBest(step+1, evals, opt, sampler, progress); err != nil {
				return res, err
			}
		}
	}
	evals, err := r.evaluate(res.Steps, tape, progress)
	if err != nil {
		return res, err
	}
	if err := r.trackBest(res.Steps, evals, opt, sampler, progress); err != nil {
		return res, err
	}
	progress.Finish()
	res.Eval = evals
	res.Average, _ = monitor.GLUEAverage(evals)
	return res, nil
}

// BestDir is the folder, inside a run's output folder, of the checkpoint with the best
// GLUE-style dev average seen so far.
const BestDir = "best"

// bestSoFar reads the average recorded with the best checkpoint of a run (-1: none).
func bestSoFar(outDir string) float64 {
	if outDir == "" {
		return -1
	}
	c, err := checkpoint.Load(filepath.Join(outDir, BestDir))
	if err != nil {
		return -1
	}
	var avg float64
	if json.Unmarshal(c.State["dev_average"], &avg) != nil {
		return -1
	}
	return avg
}

// trackBest saves the run as its best checkpoint when evals beat the best average so far.
func (r *runner) trackBest(step int, evals []monitor.TaskResult, opt *optimizer, sampler *data.Sampler, progress *monitor.Progress) error {
	avg, ok := monitor.GLUEAverage(evals)
	if r.outDir == "" || !ok || avg <= r.best {
		return nil
	}
	r.best = avg
	if err := r.saveTo(filepath.Join(r.outDir, BestDir), step, opt, sampler, map[string]any{"dev_average": avg}); err != nil {
		return err
	}
	progress.Logf("new best dev average %.2f at step %d: saved %s", avg, step, filepath.Join(r.outDir, BestDir))
	return nil
}

// save writes the checkpoint of the run after step steps.
func (r *runner) save(step int, opt *optimizer, sampler *data.Sampler) error {
	return r.saveTo(filepath.Join(r.outDir, CheckpointDir), step, opt, sampler, nil)
}

// saveTo writes a checkpoint of the run into dir, with extra state sections.
func (r *runner) saveTo(dir string, step int, opt *optimizer, sampler *data.Sampler, extra map[string]any) error {
	c := &checkpoint.Checkpoint{Step: step, State: map[string]json.RawMessage{}, Files: map[string][]byte{"tokenizer.model": r.tokenizer}}
	for _, p := range r.m.Params() {
		c.Model = append(c.Model, checkpoint.Tensor{Name: p.Name, Shape: []int{p.Rows, p.Cols}, Data: p.Data})
	}
	tensors, optStep := opt.state()
	c.Optimizer = tensors
	if r.recipe != nil {
		c.State["recipe"] = r.recipe
	}
	state := map[string]any{"sampler": sampler.State(), "optimizer_step": optStep, "optimizer": r.cfg.Optimizer, "seed": r.cfg.Seed}
	for k, v := range extra {
		state[k] = v
	}
	for name, v := range state {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		c.State[name] = b
	}
	return checkpoint.Save(dir, c)
}

// restore loads the checkpoint c into the model, the optimizer and the sampler and
// returns the step to continue from.
func (r *runner) restore(c *checkpoint.Checkpoint, opt *optimizer, sampler *data.Sampler) (int, error) {
	where := filepath.Join(r.outDir, CheckpointDir)
	if err := LoadModelWeights(r.m, c, where); err != nil {
		return 0, err
	}
	var kind string
	var step int64
	if json.Unmarshal(c.State["optimizer"], &kind) != nil || json.Unmarshal(c.State["optimizer_step"], &step) != nil {
		return 0, fmt.Errorf("checkpoint %s: the optimizer's state is missing", where)
	}
	if kind != r.cfg.Optimizer {
		return 0, fmt.Errorf("checkpoint %s was trained with %s, the recipe says %s: resume with the recipe the run started with", where, kind, r.cfg.Optimizer)
	}
	if err := opt.restore(c.Optimizer, step); err != nil {
		return 0, fmt.Errorf("checkpoint %s: %w", where, err)
	}
	var ss data.SamplerState
	if err := json.Unmarshal(c.State["sampler"], &ss); err != nil {
		return 0, fmt.Errorf("checkpoint %s: sampler position: %w", where, err)
	}
	if err := sampler.Restore(ss); err != nil {
		return 0, fmt.Errorf("checkpoint %s: %w", where, err)
	}
	if c.Step > r.cfg.Steps {
		return 0, fmt.Errorf("checkpoint %s is at step %d, past train.steps (%d): raise --steps to train further", where, c.Step, r.cfg.Steps)
	}
	return c.Step, nil
}

// optimizer is the run's AdamW or Adafactor, with its state as checkpoint tensors.
type optimizer struct {
	adamw     *optim.AdamW
	adafactor *optim.Adafactor
}

func newOptimizer(cfg Config, params []*autograd.Param) (*optimizer, error) {
	op := make([]optim.Param, len(params))
	for i, p := range params {
		op[i] = optim.Param{Name: p.Name, Value: p.Data, Grad: p.Grad, NoDecay: p.NoDecay, Rows: p.Rows, Cols: p.Cols}
	}
	if cfg.Optimizer == "adafactor" {
		acfg := optim.DefaultAdafactorConfig()
		acfg.RelativeStep, acfg.WeightDecay = cfg.RelativeStep, cfg.WeightDecay
		o, err := optim.NewAdafactor(acfg, op)
		return &optimizer{adafactor: o}, err
	}
	acfg := optim.DefaultAdamWConfig()
	acfg.WeightDecay = cfg.WeightDecay
	o, err := optim.NewAdamW(acfg, op)
	return &optimizer{adamw: o}, err
}

// Step applies one update.
func (o *optimizer) Step(lr float32) {
	if o.adamw != nil {
		o.adamw.Step(lr)
	} else {
		o.adafactor.Step(lr)
	}
}

// state returns the optimizer's per-parameter state as named tensors, and its step.
func (o *optimizer) state() ([]checkpoint.Tensor, int64) {
	var ts []checkpoint.Tensor
	add := func(name string, d []float32) {
		if d != nil {
			ts = append(ts, checkpoint.Tensor{Name: name, Shape: []int{len(d)}, Data: d})
		}
	}
	if o.adamw != nil {
		st := o.adamw.State()
		for _, m := range st.Moments {
			add(m.Name+".m", m.M)
			add(m.Name+".v", m.V)
		}
		return ts, st.Step
	}
	st := o.adafactor.State()
	for _, f := range st.Factors {
		add(f.Name+".row", f.Row)
		add(f.Name+".col", f.Col)
		add(f.Name+".v", f.V)
	}
	return ts, st.Step
}

// restore loads tensors saved by state.
func (o *optimizer) restore(ts []checkpoint.Tensor, step int64) error {
	if o.adamw != nil {
		names, parts, err := groupParts(ts, "AdamW moment", "m", "v")
		if err != nil {
			return err
		}
		st := optim.AdamWState{Step: step}
		for _, n := range names {
			st.Moments = append(st.Moments, optim.Moments{Name: n, M: parts[n]["m"], V: parts[n]["v"]})
		}
		return o.adamw.SetState(st)
	}
	names, parts, err := groupParts(ts, "Adafactor factor", "row", "col", "v")
	if err != nil {
		return err
	}
	st := optim.AdafactorState{Step: step}
	for _, n := range names {
		st.Factors = append(st.Factors, optim.Factors{Name: n, Row: parts[n]["row"], Col: parts[n]["col"], V: parts[n]["v"]})
	}
	return o.adafactor.SetState(st)
}

// groupParts splits tensors named "<parameter>.<kind>" by parameter, keeping the order in
// which parameters first appear; a kind not in kinds is an error naming what.
func groupParts(ts []checkpoint.Tensor, what string, kinds ...string) ([]string, map[string]map[string][]float32, error) {
	var names []string
	parts := map[string]map[string][]float32{}
	for _, t := range ts {
		i := strings.LastIndexByte(t.Name, '.')
		if i < 0 || !slices.Contains(kinds, t.Name[i+1:]) {
			return nil, nil, fmt.Errorf("optimizer tensor %q is not an %s (.%s)", t.Name, what, strings.Join(kinds, ", ."))
		}
		name := t.Name[:i]
		if parts[name] == nil {
			parts[name] = map[string][]float32{}
			names = append(names, name)
		}
		parts[name][t.Name[i+1:]] = t.Data
	}
	return names, parts, nil
}

// batch turns sampled examples into a padded model batch; it returns the batch and
// its number of real (non-padding) tokens.
func (r *runner) batch(exs []data.Example) (*model.Batch, int) {
	b := &model.Batch{Size: len(exs)}
	encs := make([]*encoded, len(exs))
	for i, ex := range exs {
		e := &r.byName[ex.Task].train[ex.Index]
		encs[i] = e
		b.InputLen, b.TargetLen = max(b.InputLen, len(e.in)), max(b.TargetLen, len(e.out))
	}
	return r.fill(b, encs)
}

// fill lays the encoded examples into b's padded matrices.
func (r *runner) fill(b *model.Batch, encs []*encoded) (*model.Batch, int) {
	if b.TargetLen == 0 {
		for _, e := range encs {
			b.InputLen, b.TargetLen = max(b.InputLen, len(e.in)), max(b.TargetLen, len(e.out))
		}
	}
	b.Inputs = make([]int32, b.Size*b.InputLen)
	b.Targets = make([]int32, b.Size*b.TargetLen)
	if r.taskIndex != nil {
		b.Tasks = make([]int32, b.Size)
	}
	if r.m.Spec.Arch == model.ArchEncoder {
		b.Labels, b.Values = make([]int32, b.Size), make([]float32, b.Size)
	}
	tokens := 0
	for i, e := range encs {
		copy(b.Inputs[i*b.InputLen:], e.in)
		copy(b.Targets[i*b.TargetLen:], e.out)
		tokens += len(e.in) + len(e.out)
		if b.Tasks != nil {
			b.Tasks[i] = r.taskIndex[e.ex.Task]
		}
		if b.Labels != nil {
			b.Labels[i] = int32(max(e.ex.Label, 0))
			b.Values[i] = float32(e.ex.Score)
		}
	}
	return b, tokens
}

// clipGrads scales the gradients so that their global norm is at most clip (0: no
// clipping). It reports false when the norm is not finite.
func clipGrads(params []*autograd.Param, clip float64) bool {
	var ss float64
	for _, p := range params {
		ss += float64(ops.Dot(p.Grad, p.Grad))
	}
	norm := math.Sqrt(ss)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return false
	}
	if clip > 0 && norm > clip {
		f := float32(clip / norm)
		for _, p := range params {
			ops.Scale(f, p.Grad)
		}
	}
	return true
}

// devBatches runs f over the task's dev split (at most train.eval_limit examples) in
// batches of train.batch_size, resetting the tape before each.
func (r *runner) devBatches(t *task, tape *autograd.Tape, f func(b *model.Batch, encs []*encoded) error) error {
	dev := t.dev
	if r.cfg.EvalLimit > 0 && len(dev) > r.cfg.EvalLimit {
		dev = dev[:r.cfg.EvalLimit]
	}
	for lo := 0; lo < len(dev); lo += r.cfg.BatchSize {
		encs := make([]*encoded, min(lo+r.cfg.BatchSize, len(dev))-lo)
		for i := range encs {
			encs[i] = &dev[lo+i]
		}
		b, _ := r.fill(&model.Batch{Size: len(encs)}, encs)
		tape.Reset()
		if err := f(b, encs); err != nil {
			return err
		}
	}
	return nil
}

// evaluate scores every task's dev split and reports the table.
func (r *runner) evaluate(step int, tape *autograd.Tape, progress *monitor.Progress) ([]monitor.TaskResult, error) {
	var results []monitor.TaskResult
	for _, t := range r.tasks {
		var pred, ref []float64
		err := r.devBatches(t, tape, func(b *model.Batch, encs []*encoded) error {
			p, err := r.predict(tape, b, t)
			if err != nil {
				return fmt.Errorf("evaluating %s: %w", t.def.Name, err)
			}
			for i, e := range encs {
				pred = append(pred, p[i])
				if t.def.IsRegression() {
					ref = append(ref, e.ex.Score)
				} else {
					ref = append(ref, float64(e.ex.Label))
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		res := monitor.TaskResult{Task: t.def.Name, Metrics: map[string]float64{}}
		for _, name := range t.def.Metrics {
			v, err := ComputeMetric(name, pred, ref)
			if err != nil {
				return nil, err
			}
			res.Metrics[name] = v
		}
		results = append(results, res)
	}
	progress.Eval(step, results)
	if r.log != nil {
		if err := r.log.Eval(step, time.Now(), results); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// predict returns the model's prediction for each example of b: a class id, or a value.
func (r *runner) predict(tape *autograd.Tape, b *model.Batch, t *task) ([]float64, error) {
	out := make([]float64, b.Size)
	if r.m.Spec.Arch == model.ArchEncoder {
		ps, err := r.m.Predict(tape, b)
		if err != nil {
			return nil, err
		}
		for i, p := range ps {
			if t.def.IsRegression() {
				out[i] = float64(p.Value)
			} else {
				out[i] = float64(p.Class)
			}
		}
		return out, nil
	}
	// Text-to-text: the most likely of the task's possible outputs (label words, or the
	// values of the regression grid), as T5 scores classification tasks.
	// Each candidate ends with EOS, so a longer label cannot win by a likely prefix.
	best, err := r.m.Classify(tape, b, t.candidates)
	if err != nil {
		return nil, err
	}
	for i, c := range best {
		out[i] = t.values[c]
	}
	return out, nil
}

// writePlots renders the loss and metric plots from the JSONL log; a plot that cannot
// be drawn is reported and skipped (the run's results stand).
func writePlots(logPath, dir string, out io.Writer) {
	recs, err := monitor.ReadFile(logPath)
	if err != nil {
		fmt.Fprintf(out, "plots skipped: %v\n", err)
		return
	}
	for name, f := range map[string]func([]monitor.Record, string) error{"loss.png": plots.Loss, "metrics.png": plots.Metrics} {
		if err := f(recs, filepath.Join(dir, name)); err != nil && !errors.Is(err, plots.ErrNoData) {
			fmt.Fprintf(out, "plot %s skipped: %v\n", name, err)
		}
	}
}

// Prediction is a model's answer for one input of a task.
type Prediction struct {
	// Text is the label word of a classification task, or the value as the task writes
	// its targets (e.g. "3.4").
	Text string `json:"prediction"`
	// Class is the class id of a classification task (-1 for regression).
	Class int `json:"class"`
	// Value is the predicted value of a regression task (the class id otherwise).
	Value float64 `json:"value"`
}

// Predict answers one task for each of the inputs (text-to-text inputs, prefix
// included; see data.TaskDef.InputText), by scoring the task's possible outputs.
func Predict(m *model.Model, tok *tokenizer.Model, cfg Config, task string, inputs []string) ([]Prediction, error) {
	def, ok := data.Lookup(task)
	if !ok {
		return nil, fmt.Errorf("unknown task %q (known: %v)", task, data.TaskNames())
	}
	raw := map[string][2][]data.Example{task: {nil, nil}}
	tasks, err := encodeTasks(raw, tok, cfg, DataConfig{Tasks: []string{task}})
	if err != nil {
		return nil, err
	}
	t := tasks[0]
	taskIndex, err := taskIndices(m, tasks)
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, m: m, tasks: tasks, taskIndex: taskIndex, eos: int32(tok.EOSID())}
	tape := autograd.NewTape()
	out := make([]Prediction, 0, len(inputs))
	for lo := 0; lo < len(inputs); lo += cfg.BatchSize {
		hi := min(lo+cfg.BatchSize, len(inputs))
		encs := make([]*encoded, hi-lo)
		for i := range encs {
			encs[i] = &encoded{ex: data.Example{Task: task, Inputs: inputs[lo+i]},
				in: encodeText(tok, inputs[lo+i], cfg.MaxInputLen, r.eos), out: []int32{r.eos}}
		}
		b, _ := r.fill(&model.Batch{Size: len(encs)}, encs)
		tape.Reset()
		vals, err := r.predict(tape, b, t)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			if def.IsRegression() {
				out = append(out, Prediction{Text: def.ScoreText(v), Class: -1, Value: v})
			} else {
				out = append(out, Prediction{Text: def.LabelWords[int(v)], Class: int(v), Value: v})
			}
		}
	}
	return out, nil
}
