package job

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/dist"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/tokenizer"
	"github.com/hypergrid-go/hypergrid/train"
)

// Options are the settings of a run that are not in its recipe.
type Options struct {
	// DataDir overrides the recipe's data.dir ("" keeps it).
	DataDir string
	// Steps overrides train.steps when positive.
	Steps int
	// CheckpointDir is where the trainer keeps its checkpoint ("" keeps none).
	CheckpointDir string
	// Resume restores the run from this checkpoint (read from ResumeDir): weights,
	// optimizer, data position and tokenizer.
	Resume    *checkpoint.Checkpoint
	ResumeDir string
	// MemoryLimit bounds the model's estimated training memory (see CheckMemory):
	// Auto is the machine's memory.
	MemoryLimit MemoryLimit
	// Comm makes the run one rank of a data-parallel job (nil: one process): see
	// train.Options.Comm. Only rank 0 writes checkpoints (Attach keeps the other ranks'
	// output quiet), and the run's Info records the rank count.
	Comm dist.Comm
}

// Setup is a run ready to train.
type Setup struct {
	// Recipe is the recipe, with the Options applied to its data: and train: sections.
	Recipe *recipe.Recipe
	// Info is what the run stores of its Options.
	Info Info
	// Tasks holds the tasks' training and dev examples.
	Tasks []train.TaskData
	// Tokenizer is the run's tokenizer: the recipe's, one trained on the tasks'
	// training text, or the checkpoint's when resuming.
	Tokenizer *tokenizer.Model
	// Model is the model, initialised from train.seed (or restored).
	Model *model.Model
	// Trainer trains it.
	Trainer *train.Trainer
	// Init says what the model took from model.init.from (nil without it, and when
	// resuming); its Warnings are for the user.
	Init *InitReport
}

// Prepare makes the run of recipe r: it checks that the model's estimated memory fits
// (CheckMemory), reads the tasks, makes the tokenizer, builds the model (checking that
// the tokenizer fits its vocabulary) and the trainer, and restores the trainer from
// opts.Resume when given.
func Prepare(r *recipe.Recipe, opts Options) (*Setup, error) {
	s := &Setup{Recipe: r, Info: Info{DataDir: opts.DataDir, Steps: r.Train.Steps, Ranks: ranks(opts.Comm)}}
	if opts.Steps > 0 {
		r.Train.Steps, s.Info.Steps = opts.Steps, opts.Steps
	}
	if opts.DataDir != "" {
		r.Data.Dir = opts.DataDir
	}
	if err := CheckMemory(r, true, opts.MemoryLimit); err != nil {
		return nil, err
	}
	var err error
	if s.Tasks, err = train.ReadTasks(r.Data, train.SplitTrain, train.SplitDev); err != nil {
		return nil, err
	}
	if opts.Resume != nil {
		b, ok := opts.Resume.Files[train.TokenizerFile]
		if !ok {
			return nil, fmt.Errorf("checkpoint %s has no %s", opts.ResumeDir, train.TokenizerFile)
		}
		if s.Tokenizer, err = tokenizer.Parse(b); err != nil {
			return nil, fmt.Errorf("checkpoint %s: tokenizer: %w", opts.ResumeDir, err)
		}
		if s.Tokenizer, err = train.WithExtraIDs(s.Tokenizer, r.Tokenizer.ExtraIDs); err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", opts.ResumeDir, err)
		}
	} else if r.Model.Init.From == "" || r.Tokenizer.Model != "" {
		if s.Tokenizer, err = train.BuildTokenizer(r.Tokenizer, s.Tasks); err != nil {
			return nil, err
		}
	}
	if s.Model, err = r.Build(r.Train.Seed); err != nil {
		return nil, err
	}
	if r.Model.Init.From != "" && opts.Resume == nil {
		if err := s.initFrom(r); err != nil {
			return nil, err
		}
	}
	if err := checkVocab(r, s.Tokenizer, s.Model.Spec.Vocab); err != nil {
		return nil, err
	}
	s.Trainer, err = train.New(s.Model, s.Tokenizer, s.Tasks, r.Train, r.Data, train.Options{
		CheckpointDir: opts.CheckpointDir,
		State:         runState(r, s.Info, train.Defs(s.Tasks)),
		Comm:          opts.Comm,
	})
	if err != nil {
		return nil, err
	}
	if opts.Resume != nil {
		if err := s.Trainer.Restore(opts.Resume, opts.ResumeDir); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ranks returns the number of ranks of c (1 for nil).
func ranks(c dist.Comm) int {
	if c == nil {
		return 1
	}
	return max(c.Size(), 1)
}
