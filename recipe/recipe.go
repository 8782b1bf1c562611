package recipe

import (
	"errors"

	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/registry"
	"github.com/hypergrid-go/hypergrid/train"

	// The HyperGrid layer registers itself ("ffn.hypergrid"); a recipe can name it.
	_ "github.com/hypergrid-go/hypergrid/hyper"
)

// Recipe is a decoded, validated recipe: the typed value of each of its sections.
//
// A section is a field with a yaml tag and, usually, a Validate method; adding one is
// adding a field here (and its defaults to Default). The loader decodes every section
// strictly, validates each value once and reports all problems together.
type Recipe struct {
	// Model is the recipe's model: section, the architecture.
	Model ModelSection `yaml:"model" recipe:"required"`
	// Data is the data: section: the tasks, where their files are, the mixture.
	Data train.DataConfig `yaml:"data"`
	// Tokenizer is the tokenizer: section: a model file, or how to train one.
	Tokenizer train.TokenizerConfig `yaml:"tokenizer"`
	// Train is the train: section: steps, batch, optimizer, schedule, evaluation.
	Train train.Config `yaml:"train"`

	// Source says which files the recipe was read from, which component each pluggable
	// value chose, and where each value was set (for errors found later).
	Source *Info `yaml:"-"`
}

// ModelSection is the model: section of a recipe: model.Spec's plain fields, plus the
// pluggable sublayers as `type:`-tagged mappings.
type ModelSection struct {
	model.Spec `yaml:",inline"`
	// Attention builds every attention sublayer: {type: attn.t5, ...}.
	Attention layers.AttentionBuilder `yaml:"attention"`
	// FFN builds every feed-forward sublayer: {type: ffn.glu | ffn.hypergrid | a
	// plugin's ID, ...its settings}.
	FFN layers.FFNBuilder `yaml:"ffn"`
	// Init starts the model from a checkpoint: {from: CKPT} (see InitConfig).
	Init InitConfig `yaml:"init"`
}

// ModelSpec returns the complete architecture, with the section's pluggable builders
// in place.
func (s *ModelSection) ModelSpec() model.Spec {
	spec := s.Spec
	spec.Attention, spec.FFN = s.Attention, s.FFN
	return spec
}

// Validate checks the architecture's own fields (model.Spec.ValidateFields). The
// pluggable builders are validated by the loader when it decodes them, so that every
// problem is found, and reported, once.
func (s *ModelSection) Validate() []error {
	spec := s.ModelSpec()
	return spec.ValidateFields()
}

// Default returns the values a recipe starts from before its keys are applied:
// model.DefaultSpec (the t5-mini architecture with ffn.glu and attn.t5) and the
// defaults of the data:, tokenizer: and train: sections.
func Default() *Recipe {
	spec := model.DefaultSpec()
	return &Recipe{Model: ModelSection{Spec: spec, Attention: spec.Attention, FFN: spec.FFN},
		Data: train.DefaultDataConfig(), Tokenizer: train.DefaultTokenizerConfig(), Train: train.DefaultConfig()}
}

// Load reads the recipe at path — a file, or a shipped recipe by name ("t5-mini", see
// package recipes) when no such file exists — applies the --set overrides sets
// ("KEY=VALUE", in order) and returns the decoded recipe. Every problem is reported in
// one ErrorList.
func Load(path string, sets ...string) (*Recipe, error) {
	return Loader{Sets: sets}.Load(path)
}

// Load reads the recipe at path (a file, or a shipped recipe by name) with the
// Loader's overrides. See Loader.Decode for the rules.
func (l Loader) Load(path string) (*Recipe, error) {
	r := Default()
	info, err := l.DecodeFile(path, r)
	r.Source = info
	if err != nil {
		return nil, err
	}
	r.resolveTaskDirs()
	return r, nil
}

// Parse decodes recipe text read from the file name (which locates its includes and
// names it in errors).
func (l Loader) Parse(name string, data []byte) (*Recipe, error) {
	r := Default()
	info, err := l.Decode(name, data, r)
	r.Source = info
	if err != nil {
		return nil, err
	}
	r.resolveTaskDirs()
	return r, nil
}

// Build builds the recipe's model with parameters drawn from seed. Problems that only
// the model's shape reveals (a grid that does not tile d_model, a conditioning source
// a stack cannot use) are reported like the loader's, as an ErrorList pointing at the
// recipe lines concerned.
func (r *Recipe) Build(seed uint64) (*model.Model, error) {
	m, err := model.New(r.Model.ModelSpec(), seed)
	if err == nil {
		return m, nil
	}
	return nil, r.ModelErrors(err)
}

// ModelErrors positions the errors of model.New or model.Spec.Estimate for this
// recipe's model: each *registry.FieldError (a path under model:) at the recipe line
// that set the value, others at the model: section.
func (r *Recipe) ModelErrors(err error) ErrorList {
	var list ErrorList
	for _, e := range registry.Flatten(err) {
		path, msg := "model", e.Error()
		var fe *registry.FieldError
		if errors.As(e, &fe) {
			path, msg = registry.JoinPath("model", fe.Path), fe.Msg
		}
		list = append(list, r.Source.Errorf(path, "%s", msg))
	}
	return list.sorted()
}
