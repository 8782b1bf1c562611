package train

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/optim"
	"github.com/hypergrid-go/hypergrid/registry"
	"github.com/hypergrid-go/hypergrid/tokenizer"
)

// Config is the train: section of a recipe.
type Config struct {
	// Steps is the number of optimizer steps.
	Steps int `yaml:"steps"`
	// BatchSize is the number of examples per step (the global batch: on N ranks of a
	// distributed run, all ranks together).
	BatchSize int `yaml:"batch_size"`
	// GradAccum splits each step's batch into this many micro-batches run one after
	// the other, their gradients summed before the one optimizer step: the same step
	// (to float rounding) with the activation memory of a micro-batch. 0 or 1: no
	// split.
	GradAccum int `yaml:"grad_accum"`
	// Replicas cuts each micro-batch (of grad_accum) into that many parts and runs them
	// side by side, each on its own replica of the model (shared weights, gradients of
	// its own) with the kernels' threads divided among them: data parallelism inside
	// one process, which scales with threads better than splitting every kernel does.
	// The replicas' gradients are added in order, so a run's numbers depend on
	// Replicas, not on the thread count. It costs a copy of the gradients per replica.
	// 0 or 1: one model.
	Replicas int `yaml:"replicas"`
	// MaxInputLen and MaxTargetLen truncate the tokenized inputs and targets (EOS
	// included).
	MaxInputLen  int `yaml:"max_input_len"`
	MaxTargetLen int `yaml:"max_target_len"`
	// LR is the peak learning rate.
	LR float64 `yaml:"lr"`
	// Schedule is constant, linear_warmup, inverse_sqrt or linear_decay.
	Schedule string `yaml:"schedule"`
	// Warmup is the number of warm-up steps of linear_warmup, inverse_sqrt and linear_decay.
	Warmup int `yaml:"warmup"`
	// Optimizer is adamw or adafactor (T5's: factored second moments, update clipping,
	// parameter-scaled steps).
	Optimizer string `yaml:"optimizer"`
	// RelativeStep makes Adafactor use its own step size min(1e-2, 1/sqrt(t)) instead of
	// lr and the schedule.
	RelativeStep bool `yaml:"relative_step"`
	// WeightDecay is the decoupled weight decay.
	WeightDecay float64 `yaml:"weight_decay"`
	// ClipNorm clips the global gradient norm (0: no clipping).
	ClipNorm float64 `yaml:"clip_norm"`
	// EvalEvery evaluates on the dev splits every so many steps (0: only at the end).
	EvalEvery int `yaml:"eval_every"`
	// EvalPoints spreads about this many evaluations evenly over the run (every
	// EvalInterval steps, at least MinEvalInterval apart), besides those of EvalEvery,
	// so that the metrics plot is a curve (0: none; the end of the run is always
	// evaluated).
	EvalPoints int `yaml:"eval_points"`
	// EarlyStopping stops the run when the dev average stops improving.
	EarlyStopping EarlyStopping `yaml:"early_stopping"`
	// EvalLimit caps the dev examples evaluated per task (0: all).
	EvalLimit int `yaml:"eval_limit"`
	// CheckpointEvery saves a checkpoint every so many steps (0: not by step count).
	CheckpointEvery int `yaml:"checkpoint_every"`
	// CheckpointInterval saves a checkpoint when this much wall time has passed since
	// the last one (0: not by time). A checkpoint is also written after the last step
	// and when the run is interrupted (SIGINT, SIGTERM).
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// MaxBadSteps stops training after this many steps in a row with a NaN or infinite
	// loss or gradient (each such step is skipped).
	MaxBadSteps int `yaml:"max_bad_steps"`
	// Seed drives the initialisation, the data order and dropout.
	Seed uint64 `yaml:"seed"`
}

// Bounds of the train: section's sizes: they keep every product of them far from
// overflowing; whether a batch fits in memory is the memory estimate's question.
const (
	MaxSteps       = 1 << 40
	MaxBatchSize   = 1 << 20
	MaxSequenceLen = 1 << 20
	// MaxGradAccum bounds train.grad_accum.
	MaxGradAccum = 1 << 16
	// MaxReplicas bounds train.replicas.
	MaxReplicas = 256
)

// Schedules are the learning-rate schedules Config.Schedule accepts.
var Schedules = optim.ScheduleKinds

// DefaultConfig returns the train: section's defaults.
func DefaultConfig() Config {
	return Config{Steps: 1000, BatchSize: 32, GradAccum: 1, Replicas: 1, MaxInputLen: 128, MaxTargetLen: 16, LR: 1e-3,
		Schedule: "inverse_sqrt", Warmup: 100, Optimizer: "adamw", WeightDecay: 0.01, ClipNorm: 1, EvalEvery: 0, EvalPoints: DefaultEvalPoints,
		CheckpointInterval: 5 * time.Minute, MaxBadSteps: 10, Seed: 1}
}

func ferr(path, format string, args ...any) error {
	return registry.FieldErrorf(path, format, args...)
}

// Accum returns the number of micro-batches of a step: GradAccum, at least 1.
func (c *Config) Accum() int { return max(c.GradAccum, 1) }

// Reps returns the number of model replicas: Replicas, at least 1.
func (c *Config) Reps() int { return max(c.Replicas, 1) }

// MicroBatch returns the largest micro-batch a rank runs when the batch is split
// over ranks (at least 1) and then into Accum micro-batches: the batch whose
// activations a step keeps at once.
func (c *Config) MicroBatch(ranks int) int {
	ranks = max(ranks, 1)
	per := (c.BatchSize + ranks - 1) / ranks
	a := c.Accum()
	return max((per+a-1)/a, 1)
}

// Validate reports every problem of the section.
func (c *Config) Validate() []error {
	var errs []error
	pos := func(name string, v, limit int) {
		if v <= 0 {
			errs = append(errs, ferr(name, "is %d; want a positive number", v))
		} else if v > limit {
			errs = append(errs, ferr(name, "is %d; want at most %d", v, limit))
		}
	}
	pos("steps", c.Steps, MaxSteps)
	pos("batch_size", c.BatchSize, MaxBatchSize)
	if c.GradAccum < 0 || c.GradAccum > MaxGradAccum {
		errs = append(errs, ferr("grad_accum", "is %d; want 1 (no accumulation) up to %d micro-batches", c.GradAccum, MaxGradAccum))
	} else if c.BatchSize > 0 && c.GradAccum > c.BatchSize {
		errs = append(errs, ferr("grad_accum", "is %d, more than train.batch_size (%d): every micro-batch needs an example; lower grad_accum or raise batch_size", c.GradAccum, c.BatchSize))
	}
	if c.Replicas < 0 || c.Replicas > MaxReplicas {
		errs = append(errs, ferr("replicas", "is %d; want 1 (one model) up to %d replicas", c.Replicas, MaxReplicas))
	} else if c.BatchSize > 0 && c.GradAccum >= 0 && c.GradAccum <= MaxGradAccum && c.Accum()*c.Reps() > c.BatchSize {
		errs = append(errs, ferr("replicas", "is %d, and grad_accum %d: %d parts of a batch of %d examples; every part needs an example: lower replicas or grad_accum, or raise batch_size", c.Replicas, c.Accum(), c.Accum()*c.Reps(), c.BatchSize))
	}
	pos("max_input_len", c.MaxInputLen, MaxSequenceLen)
	pos("max_target_len", c.MaxTargetLen, MaxSequenceLen)
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		errs = append(errs, ferr("lr", "is %v; want a positive learning rate", c.LR))
	}
	if !slices.Contains(Schedules, c.Schedule) {
		errs = append(errs, ferr("schedule", "is %q; want one of %s", c.Schedule, strings.Join(Schedules, ", ")))
	}
	if c.Optimizer != "adamw" && c.Optimizer != "adafactor" {
		errs = append(errs, ferr("optimizer", "is %q; want adamw or adafactor", c.Optimizer))
	}
	if c.RelativeStep && c.Optimizer != "adafactor" {
		errs = append(errs, ferr("relative_step", "applies to the adafactor optimizer only"))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"warmup", c.Warmup}, {"eval_every", c.EvalEvery}, {"eval_points", c.EvalPoints}, {"eval_limit", c.EvalLimit}, {"checkpoint_every", c.CheckpointEvery}, {"max_bad_steps", c.MaxBadSteps}} {
		if f.v < 0 {
			errs = append(errs, ferr(f.name, "is %d; want 0 or a positive number", f.v))
		}
	}
	if c.EvalPoints > MaxEvalPoints {
		errs = append(errs, ferr("eval_points", "is %d; want at most %d", c.EvalPoints, MaxEvalPoints))
	}
	errs = append(errs, c.earlyStoppingErrors()...)
	if c.CheckpointInterval < 0 {
		errs = append(errs, ferr("checkpoint_interval", "is %v; want 0 (no time-based checkpoints) or a duration such as 10m", c.CheckpointInterval))
	}
	if !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0) {
		errs = append(errs, ferr("weight_decay", "is %v; want 0 or a small positive number such as 0.01", c.WeightDecay))
	}
	if !(c.ClipNorm >= 0) || math.IsInf(c.ClipNorm, 0) {
		errs = append(errs, ferr("clip_norm", "is %v; want 0 (no clipping) or a positive global norm such as 1.0", c.ClipNorm))
	}
	return errs
}

// DataConfig is the data: section of a recipe: which tasks to train on, where their files
// are, and how to mix them.
type DataConfig struct {
	// Tasks lists the tasks: registered task definitions by name (the embedded
	// suite's sentiment, paraphrase, similarity; GLUE's sst2, mrpc, stsb, rte, ...) or
	// tasks defined in the recipe (see TaskRef).
	Tasks []TaskRef `yaml:"tasks"`
	// Dir holds the registered tasks' files in GLUE layout (Dir/<task dir>/train.tsv,
	// dev.tsv). Empty: the embedded default suite. The command line's --data
	// overrides it. Tasks defined in the recipe name their own folder.
	Dir string `yaml:"dir"`
	// Mixture sets the sampling rates of the tasks.
	Mixture data.MixtureSpec `yaml:"mixture"`
	// TrainLimit caps the training examples read per task (0: all).
	TrainLimit int `yaml:"train_limit"`
}

// TaskRef is one entry of data.tasks: a registered task given by its name
// ("- sst2"), or a task defined in the recipe, given as a mapping of data.TaskDef's
// keys:
//
//   - name: topic
//     prefix: topic
//     format: csv            # tsv (with a header line), jsonl or csv
//     dir: topic-data        # relative to the recipe's folder; holds train.csv, dev.csv
//     inputs: [{name: title}, {name: text, column: body}]
//     label: label
//     label_words: [sports, politics, science]
//     metrics: [accuracy, f1_macro]
//
// The recipe loader makes a defined task's dir absolute (relative to the folder of
// the recipe file that defines it), so the definition stored with a run's recipe
// finds its files wherever the run is evaluated from.
type TaskRef struct {
	data.TaskDef `yaml:",inline"`
	// Registered is set for an entry given by name: TaskDef.Name names a registered
	// task and the other fields are empty.
	Registered bool `yaml:"-"`
}

// TaskByName returns the entry of the registered task name.
func TaskByName(name string) TaskRef {
	return TaskRef{TaskDef: data.TaskDef{Name: name}, Registered: true}
}

// DecodeRecipeScalar makes a scalar entry of data.tasks (a name) a registered task.
// The recipe decoder calls it for a scalar; a mapping is decoded into the definition.
func (t *TaskRef) DecodeRecipeScalar(name string) error {
	*t = TaskByName(name)
	return nil
}

// Def returns the entry's task definition: the registered one, or a copy of the
// recipe's.
func (t *TaskRef) Def() (data.TaskDef, error) {
	if !t.Registered {
		return t.TaskDef.Clone(), nil
	}
	def, ok := data.Lookup(t.Name)
	if !ok {
		return data.TaskDef{}, fmt.Errorf("unknown task %q (known: %s); define it in the recipe's data.tasks", t.Name, strings.Join(data.TaskNames(), ", "))
	}
	return def, nil
}

// TaskNames returns the names of the section's tasks, in order.
func (c *DataConfig) TaskNames() []string {
	names := make([]string, len(c.Tasks))
	for i, t := range c.Tasks {
		names[i] = t.Name
	}
	return names
}

// Defs returns the definitions of the section's tasks, in order.
func (c *DataConfig) Defs() ([]data.TaskDef, error) {
	defs := make([]data.TaskDef, len(c.Tasks))
	for i := range c.Tasks {
		def, err := c.Tasks[i].Def()
		if err != nil {
			return nil, err
		}
		defs[i] = def
	}
	return defs, nil
}

// DefaultDataConfig returns the data: section's defaults: the embedded suite, mixed in
// proportion to the tasks' sizes.
func DefaultDataConfig() DataConfig {
	return DataConfig{Tasks: []TaskRef{TaskByName("sentiment"), TaskByName("paraphrase"), TaskByName("similarity")},
		Mixture: data.MixtureSpec{Kind: data.MixProportional}}
}

// Validate reports every problem of the section.
func (c *DataConfig) Validate() []error {
	var errs []error
	if len(c.Tasks) == 0 {
		errs = append(errs, ferr("tasks", "is empty; name at least one task"))
	}
	seen := map[string]bool{}
	for i, t := range c.Tasks {
		at := fmt.Sprintf("tasks[%d]", i)
		name := t.Name
		_, registered := data.Lookup(name)
		switch {
		case t.Registered && !registered:
			errs = append(errs, ferr(at, "unknown task %q; known: %s; or define the task here (a mapping with name, format, dir, inputs, label, label_words, metrics)", name, strings.Join(data.TaskNames(), ", ")))
		case !t.Registered:
			if registered {
				errs = append(errs, ferr(joinKey(at, "name"), "%q is the name of a registered task; give your task another name (or list %q by name to use the registered one)", name, name))
			}
			if err := t.TaskDef.Validate(); err != nil {
				for _, e := range flattenJoined(err) {
					msg := strings.TrimPrefix(e.Error(), fmt.Sprintf("task %q: ", name))
					msg = strings.TrimPrefix(msg, `task "(unnamed)": `)
					errs = append(errs, ferr(joinKey(at, taskDefKey(msg)), "%s", msg))
				}
			}
		}
		if seen[name] {
			errs = append(errs, ferr(at, "task %q is listed twice", name))
		}
		seen[name] = true
	}
	if err := c.Mixture.Validate(); err != nil {
		errs = append(errs, ferr("mixture", "%v", err))
	}
	if c.TrainLimit < 0 {
		errs = append(errs, ferr("train_limit", "is %d; want 0 (all) or a positive number", c.TrainLimit))
	}
	return errs
}

// joinKey appends key (when not empty) to the path at.
func joinKey(at, key string) string {
	if key == "" {
		return at
	}
	return registry.JoinPath(at, key)
}

// taskDefKey returns the key of a task definition that a data.TaskDef.Validate message
// starts with ("label_words[1] is ..." -> "label_words[1]"), or "" when it names none.
func taskDefKey(msg string) string {
	word, _, _ := strings.Cut(msg, " ")
	word = strings.TrimSuffix(word, ":")
	base := word
	if i := strings.IndexAny(base, "[."); i >= 0 {
		base = base[:i]
	}
	switch base {
	case "name", "prefix", "format", "tsv", "dir", "splits", "id", "inputs", "extra", "transform",
		"label", "type", "label_words", "label_values", "round", "range", "metrics", "kind", "span":
		return word
	}
	return ""
}

// flattenJoined splits an errors.Join result into its parts.
func flattenJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// TokenizerConfig is the tokenizer: section: a SentencePiece model file, or how to train
// one on the training text when none is given.
type TokenizerConfig struct {
	// Model is a .model file; empty trains one on the tasks' training text.
	Model string `yaml:"model"`
	// Vocab is the vocabulary size of a trained tokenizer.
	Vocab int `yaml:"vocab"`
	// Type is unigram or bpe for a trained tokenizer.
	Type string `yaml:"type"`
	// ExtraIDs is the number of sentinels <extra_id_0>… added above the pieces, as
	// Hugging Face's T5 tokenizer adds them (100 for T5; see
	// tokenizer.Model.WithExtraIDs). model.vocab must cover pieces + extra_ids. Span
	// corruption needs them.
	ExtraIDs int `yaml:"extra_ids"`
}

// DefaultTokenizerConfig returns the tokenizer: section's defaults.
func DefaultTokenizerConfig() TokenizerConfig {
	return TokenizerConfig{Vocab: 8000, Type: "unigram"}
}

// Validate reports every problem of the section.
func (c *TokenizerConfig) Validate() []error {
	var errs []error
	if c.Model == "" && c.Vocab < 100 {
		errs = append(errs, ferr("vocab", "is %d; a trained tokenizer needs at least 100 pieces", c.Vocab))
	} else if c.Vocab > tokenizer.MaxPieces {
		errs = append(errs, ferr("vocab", "is %d; want at most %d pieces", c.Vocab, tokenizer.MaxPieces))
	}
	if _, err := tokenizer.ParseModelType(c.Type); err != nil {
		errs = append(errs, ferr("type", "%v", err))
	}
	if c.ExtraIDs < 0 || c.ExtraIDs > tokenizer.MaxExtraIDs {
		errs = append(errs, ferr("extra_ids", "is %d; want 0 to %d sentinels (T5 uses 100)", c.ExtraIDs, tokenizer.MaxExtraIDs))
	}
	return errs
}
