package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/recipes"
	"github.com/hypergrid-go/hypergrid/registry"
	"github.com/hypergrid-go/hypergrid/tokenizer"
	"github.com/hypergrid-go/hypergrid/train"
)

// recipeSource is a recipe as a checkpoint stores it: the text of every file the load
// read (the recipe, then its includes) and the --set overrides, so that the same recipe
// can be loaded again from the checkpoint alone.
type recipeSource struct {
	Main  string            `json:"main"`
	Files map[string]string `json:"files"`
	Sets  []string          `json:"sets,omitempty"`
}

// sourceOf captures the files r was loaded from (arg as given to loadRecipe).
func sourceOf(arg string, r *registry.Recipe, sets []string) (json.RawMessage, error) {
	read := os.ReadFile
	if _, err := os.Stat(arg); errors.Is(err, os.ErrNotExist) {
		read = recipes.ReadFile
	}
	src := recipeSource{Files: map[string]string{}, Sets: sets}
	for i, f := range r.Source.Files {
		b, err := read(f)
		if err != nil {
			return nil, fmt.Errorf("recipe file %s: %w", f, err)
		}
		if i == 0 {
			src.Main = f
		}
		src.Files[f] = string(b)
	}
	return json.Marshal(src)
}

// loadStoredRecipe loads a recipe saved by sourceOf.
func loadStoredRecipe(raw json.RawMessage) (*registry.Recipe, error) {
	var src recipeSource
	if err := json.Unmarshal(raw, &src); err != nil || src.Main == "" {
		return nil, fmt.Errorf("the checkpoint's recipe cannot be read (%v)", err)
	}
	l := registry.Loader{Sets: src.Sets, ReadFile: func(name string) ([]byte, error) {
		if s, ok := src.Files[name]; ok {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("%s is not stored in the checkpoint: %w", name, os.ErrNotExist)
	}}
	return l.Load(src.Main)
}

// trained is a model restored from a checkpoint, with what it was trained with.
type trained struct {
	dir    string
	ckpt   *checkpoint.Checkpoint
	recipe *registry.Recipe
	tok    *tokenizer.Model
	model  *model.Model
}

// loadTrained verifies and loads the checkpoint at arg (a checkpoint folder or a run's
// output folder), rebuilds its recipe's model and loads the weights and tokenizer.
func loadTrained(arg string) (*trained, error) {
	dir := checkpointDir(arg)
	c, err := checkpoint.Load(dir)
	if err != nil {
		return nil, err
	}
	r, err := loadStoredRecipe(c.State["recipe"])
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	tok, err := tokenizer.Parse(c.Files["tokenizer.model"])
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: tokenizer: %w", dir, err)
	}
	m, err := r.Build(r.Train.Seed)
	if err != nil {
		return nil, err
	}
	if err := train.LoadModelWeights(m, c, dir); err != nil {
		return nil, err
	}
	return &trained{dir: dir, ckpt: c, recipe: r, tok: tok, model: m}, nil
}
