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
	// BatchSize is the number of examples per step.
	BatchSize int `yaml:"batch_size"`
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
)

// Schedules are the learning-rate schedules Config.Schedule accepts.
var Schedules = optim.ScheduleKinds

// DefaultConfig returns the train: section's defaults.
func DefaultConfig() Config {
	return Config{Steps: 1000, BatchSize: 32, MaxInputLen: 128, MaxTargetLen: 16, LR: 1e-3,
		Schedule: "inverse_sqrt", Warmup: 100, Optimizer: "adamw", WeightDecay: 0.01, ClipNorm: 1, EvalEvery: 0,
		CheckpointInterval: 5 * time.Minute, MaxBadSteps: 10, Seed: 1}
}

func ferr(path, format string, args ...any) error {
	return registry.FieldErrorf(path, format, args...)
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
	}{{"warmup", c.Warmup}, {"eval_every", c.EvalEvery}, {"eval_limit", c.EvalLimit}, {"checkpoint_every", c.CheckpointEvery}, {"max_bad_steps", c.MaxBadSteps}} {
		if f.v < 0 {
			errs = append(errs, ferr(f.name, "is %d; want 0 or a positive number", f.v))
		}
	}
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
	// Tasks names the tasks (registered task definitions: the embedded suite's
	// sentiment, paraphrase, similarity; GLUE's sst2, mrpc, stsb, rte, ...).
	Tasks []string `yaml:"tasks"`
	// Dir holds the tasks' files in GLUE layout (Dir/<task dir>/train.tsv, dev.tsv).
	// Empty: the embedded default suite. The command line's --data overrides it.
	Dir string `yaml:"dir"`
	// Mixture sets the sampling rates of the tasks.
	Mixture data.MixtureSpec `yaml:"mixture"`
	// TrainLimit caps the training examples read per task (0: all).
	TrainLimit int `yaml:"train_limit"`
}

// DefaultDataConfig returns the data: section's defaults: the embedded suite, mixed in
// proportion to the tasks' sizes.
func DefaultDataConfig() DataConfig {
	return DataConfig{Tasks: []string{"sentiment", "paraphrase", "similarity"}, Mixture: data.MixtureSpec{Kind: data.MixProportional}}
}

// Validate reports every problem of the section.
func (c *DataConfig) Validate() []error {
	var errs []error
	if len(c.Tasks) == 0 {
		errs = append(errs, ferr("tasks", "is empty; name at least one task"))
	}
	seen := map[string]bool{}
	for i, name := range c.Tasks {
		if _, ok := data.Lookup(name); !ok {
			errs = append(errs, ferr(fmt.Sprintf("tasks[%d]", i), "unknown task %q; known: %s", name, strings.Join(data.TaskNames(), ", ")))
		}
		if seen[name] {
			errs = append(errs, ferr(fmt.Sprintf("tasks[%d]", i), "task %q is listed twice", name))
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

// TokenizerConfig is the tokenizer: section: a SentencePiece model file, or how to train
// one on the training text when none is given.
type TokenizerConfig struct {
	// Model is a .model file; empty trains one on the tasks' training text.
	Model string `yaml:"model"`
	// Vocab is the vocabulary size of a trained tokenizer.
	Vocab int `yaml:"vocab"`
	// Type is unigram or bpe for a trained tokenizer.
	Type string `yaml:"type"`
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
	return errs
}
