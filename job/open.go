package job

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

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
	// Stored are the task definitions the checkpoint stores (nil in checkpoints
	// written before they were stored), in the order of data.tasks.
	Stored []data.TaskDef
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
	if tok, err = train.WithExtraIDs(tok, r.Tokenizer.ExtraIDs); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
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
	stored, err := storedTasks(c)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if stored != nil && !slices.Equal(taskNames(stored), r.Data.TaskNames()) {
		return nil, fmt.Errorf("checkpoint %s: its task definitions (%s) are not its recipe's data.tasks (%s)", dir,
			strings.Join(taskNames(stored), ", "), strings.Join(r.Data.TaskNames(), ", "))
	}
	return &Trained{Dir: dir, Checkpoint: c, Recipe: r, Info: info, Tokenizer: tok, Model: m, Stored: stored}, nil
}

// Tasks returns the definitions of the tasks the model was trained on (data.tasks),
// as the checkpoint stores them; in checkpoints written before they were stored, the
// registered ones by name and those defined in the run's recipe.
func (t *Trained) Tasks() ([]data.TaskDef, error) {
	if t.Stored != nil {
		defs := make([]data.TaskDef, len(t.Stored))
		for i, d := range t.Stored {
			defs[i] = d.Clone()
		}
		return defs, nil
	}
	defs, err := t.Recipe.Data.Defs()
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", t.Dir, err)
	}
	return defs, nil
}

// SpanTask reports whether name is one of the run's span-corruption tasks.
func (t *Trained) SpanTask(name string) bool {
	defs, err := t.Tasks()
	if err != nil {
		return false
	}
	for _, d := range defs {
		if d.Name == name && d.IsSpanCorruption() {
			return true
		}
	}
	return false
}

// taskNames lists the definitions' names.
func taskNames(defs []data.TaskDef) []string {
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	return names
}

// Predictor returns a predictor of the model for the tasks it was trained on (and
// those only; span-corruption tasks are trained on but have no labels to predict),
// with the run's length limits and batch size.
func (t *Trained) Predictor() (*infer.Predictor, error) {
	all, err := t.Tasks()
	if err != nil {
		return nil, err
	}
	var defs []data.TaskDef
	for _, d := range all {
		if !d.IsSpanCorruption() { // trained on, but nothing to predict
			defs = append(defs, d)
		}
	}
	enc := infer.Encoder{Tok: t.Tokenizer, MaxInputLen: t.Recipe.Train.MaxInputLen, MaxTargetLen: t.Recipe.Train.MaxTargetLen}
	return infer.NewPredictor(t.Model, enc, t.Recipe.Train.BatchSize, defs)
}

// DataConfig returns the run's data: section with the folder it was trained on (or
// dataDir when not empty): what eval reads. With dataDir, a task defined in the
// recipe reads its files from dataDir/<the name of its own folder> when that folder
// exists, else from dataDir itself.
func (t *Trained) DataConfig(dataDir string) train.DataConfig {
	dc := t.Recipe.Data
	if t.Info.DataDir != "" {
		dc.Dir = t.Info.DataDir
	}
	dc.Tasks = slices.Clone(dc.Tasks)
	fromStore := map[int]bool{}
	for i := range dc.Tasks {
		ref := &dc.Tasks[i]
		if _, known := data.Lookup(ref.Name); ref.Registered && !known && i < len(t.Stored) {
			fromStore[i] = true
			// A task registered by the program that trained the run: its stored
			// definition, its files in the data folder's layout.
			*ref = train.TaskRef{TaskDef: t.Stored[i].Clone()}
			if root := cmp.Or(dataDir, dc.Dir); root != "" {
				ref.Dir = filepath.Join(root, filepath.FromSlash(ref.Dir))
			}
		}
	}
	if dataDir != "" {
		dc.Dir = dataDir
		for i := range dc.Tasks {
			ref := &dc.Tasks[i]
			if ref.Registered || fromStore[i] {
				continue
			}
			dir := filepath.Join(dataDir, filepath.Base(ref.Dir))
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				dir = dataDir
			}
			ref.Dir = dir
		}
	}
	return dc
}
