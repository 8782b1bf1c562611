package job

import (
	"errors"
	"fmt"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/tokenizer"
	"github.com/hypergrid-go/hypergrid/train"
)

// Trained is a model restored from a checkpoint, with what it was trained with.
type Trained struct {
	// Dir is the checkpoint folder read.
	Dir string
	// Checkpoint is the verified checkpoint.
	Checkpoint *checkpoint.Checkpoint
	// Recipe is the run's recipe, as stored in the checkpoint.
	Recipe *recipe.Recipe
	// Info is what the run was started with (data folder, steps).
	Info Info
	// Tokenizer and Model are the run's, with the checkpoint's weights.
	Tokenizer *tokenizer.Model
	Model     *model.Model
}

// OpenOptions relax Open's checks.
type OpenOptions struct {
	// AllowNonFinite loads NaN or infinite weights instead of refusing them (for
	// debugging a run that diverged).
	AllowNonFinite bool
	// MemoryLimit bounds the model's estimated memory to answer (see CheckMemory):
	// Auto is the machine's memory.
	MemoryLimit MemoryLimit
}

// Open restores the trained model at path: a checkpoint folder, or a run's output
// folder (its checkpoint; see checkpoint.Resolve, which also finishes a checkpoint
// replacement that a crash interrupted). The checkpoint is verified before it is read;
// its recipe is loaded from the copy it stores, its model's memory estimated and
// checked (CheckMemory), the model rebuilt and the weights loaded with their shapes
// checked exactly.
func Open(path string, opts OpenOptions) (*Trained, error) {
	c, dir, err := checkpoint.LoadResolved(path)
	if errors.Is(err, checkpoint.ErrNoCheckpoint) {
		return nil, fmt.Errorf("%w; train a model first (hypergrid train [RECIPE] --out %s), or name a run folder", err, path)
	}
	if err != nil {
		return nil, err
	}
	snap, err := recipe.ParseSnapshot(c.State[StateRecipe])
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	r, err := snap.Load()
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: its recipe: %w", dir, err)
	}
	info, err := parseInfo(c.State[StateRun])
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	b, ok := c.Files[train.TokenizerFile]
	if !ok {
		return nil, fmt.Errorf("checkpoint %s has no %s", dir, train.TokenizerFile)
	}
	tok, err := tokenizer.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: tokenizer: %w", dir, err)
	}
	if err := CheckMemory(r, false, opts.MemoryLimit); err != nil {
		return nil, fmt.Errorf("checkpoint %s: its recipe: %w", dir, err)
	}
	m, err := r.Build(r.Train.Seed)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if err := infer.LoadWeights(m.Params(), c.Model, dir, infer.LoadOptions{AllowNonFinite: opts.AllowNonFinite}); err != nil {
		return nil, err
	}
	return &Trained{Dir: dir, Checkpoint: c, Recipe: r, Info: info, Tokenizer: tok, Model: m}, nil
}

// Tasks returns the definitions of the tasks the model was trained on (data.tasks).
func (t *Trained) Tasks() ([]data.TaskDef, error) {
	var defs []data.TaskDef
	for _, name := range t.Recipe.Data.Tasks {
		def, ok := data.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("checkpoint %s: task %q of its recipe is not known to this program (known: %v)", t.Dir, name, data.TaskNames())
		}
		defs = append(defs, def)
	}
	return defs, nil
}

// Predictor returns a predictor of the model for the tasks it was trained on (and
// those only), with the run's length limits and batch size.
func (t *Trained) Predictor() (*infer.Predictor, error) {
	defs, err := t.Tasks()
	if err != nil {
		return nil, err
	}
	enc := infer.Encoder{Tok: t.Tokenizer, MaxInputLen: t.Recipe.Train.MaxInputLen, MaxTargetLen: t.Recipe.Train.MaxTargetLen}
	return infer.NewPredictor(t.Model, enc, t.Recipe.Train.BatchSize, defs)
}

// DataConfig returns the run's data: section with the folder it was trained on (or
// dataDir when not empty): what eval reads.
func (t *Trained) DataConfig(dataDir string) train.DataConfig {
	dc := t.Recipe.Data
	if t.Info.DataDir != "" {
		dc.Dir = t.Info.DataDir
	}
	if dataDir != "" {
		dc.Dir = dataDir
	}
	return dc
}
