package hyper

import (
	"fmt"
	"slices"

	"github.com/hypergrid-go/hypergrid/registry"

	"github.com/hypergrid-go/hypergrid/layers"
)

// Composition says which of the grid's two factors are local (projected from the
// example's conditioning vector) and which are global (free vectors shared by all
// tasks): the first letter is the rows' factor r, the second the columns' c.
type Composition string

// The four compositions.
const (
	LG Composition = "LG" // local rows, global columns (the paper's default)
	GL Composition = "GL" // global rows, local columns
	LL Composition = "LL" // both local
	GG Composition = "GG" // both global: a learned, task-independent gate
)

// Valid reports whether c is one of the four compositions.
func (c Composition) Valid() bool { return c == LG || c == GL || c == LL || c == GG }

// rowsLocal and colsLocal report which factors are local.
func (c Composition) rowsLocal() bool { return c == LG || c == LL }
func (c Composition) colsLocal() bool { return c == GL || c == LL }

// Conditioning names the source of the per-example vector that local factors are
// computed from.
type Conditioning string

// The conditioning sources.
const (
	// FirstToken uses the normalised FFN input at the first position, which carries
	// the T5 task prefix.
	FirstToken Conditioning = "first_token"
	// Mean uses the mean of the normalised FFN input over the example's real tokens.
	// It looks at every position, so it is refused in a causal (decoder) stack.
	Mean Conditioning = "mean"
	// TaskEmbedding uses a learned per-task vector: each local factor is a row of a
	// Tasks×size table, selected by the example's task index.
	TaskEmbedding Conditioning = "task_embedding"
)

// Valid reports whether c is a supported conditioning source.
func (c Conditioning) Valid() bool { return c == FirstToken || c == Mean || c == TaskEmbedding }

// Gated weight names for GridConfig.Weights.
const (
	WeightWo   = "wo"   // the output projection W2 (d_ff×d_model), as in the paper
	WeightWi   = "wi"   // the input projection(s) W1 (d_model×d_ff), wi0 and wi1
	WeightBoth = "both" // wo and wi
)

// Grid is the gate grid's shape: Rows blocks over the gated weight's input dimension
// and Cols blocks over its output dimension.
type Grid struct {
	Rows int `yaml:"rows"`
	Cols int `yaml:"cols"`
}

// GridConfig configures the HyperGrid feed-forward layer ("ffn.hypergrid"). The embedded
// GLUConfig gives the underlying feed-forward layer (d_ff, activation, gated).
type GridConfig struct {
	layers.GLUConfig `yaml:",inline"`
	// Composition is LG, GL, LL or GG.
	Composition Composition `yaml:"composition"`
	// Grid is the gate grid; rows must divide the gated weight's input width and cols
	// its output width.
	Grid Grid `yaml:"grid"`
	// Conditioning is first_token, mean or task_embedding.
	Conditioning Conditioning `yaml:"conditioning"`
	// Weights lists the gated weights: wo, wi, or both.
	Weights []string `yaml:"weights"`
	// Stacks lists the stacks whose feed-forward layers are gated (encoder, decoder);
	// the others get the plain GLU layer.
	Stacks []layers.Stack `yaml:"stacks"`
	// GateInit is the gates' initial level: the gate is 2·GateInit·σ(r cᵀ), so it
	// equals GateInit where r cᵀ = 0, which is where training starts (global factors
	// start near 0). 0.5 gives the paper's plain σ(r cᵀ); 1 starts as the ungated
	// layer.
	GateInit float64 `yaml:"gate_init"`
	// ExactInit starts every gate at exactly GateInit: the columns' factor c starts at
	// zero (the rows' factor r keeps its random start), so r cᵀ = 0 and σ = ½ exactly.
	// With gate_init 1 the layer starts as exactly the ungated layer, bit for bit: what
	// a HyperGrid model started from a dense checkpoint (model.init.from) wants. The
	// gates still train: c's gradient is rᵀ·∂gate, non-zero from the first step, and r's
	// follows once c has moved. Off by default, so existing recipes train as before.
	ExactInit bool `yaml:"exact_init"`
}

// DefaultGridConfig returns the paper's setting on T5.1.1's feed-forward layer: an LG
// 32×32 block grid on wo, conditioned on the first token, in both stacks, with a plain
// sigmoid gate (initial level 0.5).
func DefaultGridConfig() *GridConfig {
	return &GridConfig{
		GLUConfig:    *layers.DefaultGLUConfig(),
		Composition:  LG,
		Grid:         Grid{Rows: 32, Cols: 32},
		Conditioning: FirstToken,
		Weights:      []string{WeightWo},
		Stacks:       []layers.Stack{layers.Encoder, layers.Decoder},
		GateInit:     0.5,
	}
}

// Validate reports every invalid setting that does not depend on the model's shape
// (the grid's divisibility is checked by BuildFFN, which knows d_model).
func (c *GridConfig) Validate() []error {
	errs := c.GLUConfig.Validate()
	if !c.Composition.Valid() {
		errs = append(errs, registry.FieldErrorf("composition", "is %q; want LG, GL, LL or GG", string(c.Composition)))
	}
	if c.Grid.Rows <= 0 {
		errs = append(errs, registry.FieldErrorf("grid.rows", "is %d; want a positive number of row blocks (1 for a column-only grid)", c.Grid.Rows))
	} else if c.Grid.Rows > layers.MaxWidth {
		errs = append(errs, registry.FieldErrorf("grid.rows", "is %d; want at most %d (2^20), and a divisor of the gated weight's input width", c.Grid.Rows, layers.MaxWidth))
	}
	if c.Grid.Cols <= 0 {
		errs = append(errs, registry.FieldErrorf("grid.cols", "is %d; want a positive number of column blocks (1 for a row-only grid)", c.Grid.Cols))
	} else if c.Grid.Cols > layers.MaxWidth {
		errs = append(errs, registry.FieldErrorf("grid.cols", "is %d; want at most %d (2^20), and a divisor of the gated weight's output width", c.Grid.Cols, layers.MaxWidth))
	}
	if c.Grid.Rows > 0 && c.DFF > 0 && c.DFF%c.Grid.Rows != 0 && c.gates(WeightWo) {
		errs = append(errs, registry.FieldErrorf("grid.rows", "is %d, which does not divide d_ff (%d) of the gated wo; pick a divisor of d_ff", c.Grid.Rows, c.DFF))
	}
	if c.Grid.Cols > 0 && c.DFF > 0 && c.DFF%c.Grid.Cols != 0 && c.gates(WeightWi) {
		errs = append(errs, registry.FieldErrorf("grid.cols", "is %d, which does not divide d_ff (%d) of the gated wi; pick a divisor of d_ff", c.Grid.Cols, c.DFF))
	}
	if !c.Conditioning.Valid() {
		errs = append(errs, registry.FieldErrorf("conditioning", "is %q; want first_token, mean or task_embedding", string(c.Conditioning)))
	}
	if len(c.Weights) == 0 {
		errs = append(errs, registry.FieldErrorf("weights", "is empty; list the gated weights: [wo], [wi] or [both]"))
	}
	for i, w := range c.Weights {
		if w != WeightWo && w != WeightWi && w != WeightBoth {
			errs = append(errs, registry.FieldErrorf(fmt.Sprintf("weights[%d]", i), "is %q; want wo, wi or both", w))
		}
	}
	if len(c.Stacks) == 0 {
		errs = append(errs, registry.FieldErrorf("stacks", "is empty; list the gated stacks: [encoder], [decoder] or [encoder, decoder]"))
	}
	for i, s := range c.Stacks {
		if s != layers.Encoder && s != layers.Decoder {
			errs = append(errs, registry.FieldErrorf(fmt.Sprintf("stacks[%d]", i), "is %q; want encoder or decoder", string(s)))
		}
		if slices.Index(c.Stacks, s) != i {
			errs = append(errs, registry.FieldErrorf(fmt.Sprintf("stacks[%d]", i), "repeats %q", string(s)))
		}
	}
	if !(c.GateInit > 0 && c.GateInit <= 1e3) {
		errs = append(errs, registry.FieldErrorf("gate_init", "is %v; want a positive initial gate level (0.5 = plain sigmoid, 1 = start as the ungated layer)", c.GateInit))
	}
	return errs
}

// gates reports whether the weight kind (wo or wi) is gated.
func (c *GridConfig) gates(w string) bool {
	return slices.Contains(c.Weights, w) || slices.Contains(c.Weights, WeightBoth)
}

// BuildFFN builds the HyperGrid layer for site, or the plain GLU layer when site's
// stack is not listed in Stacks. It checks that the grid tiles the gated weights
// and that the conditioning source suits the stack.
func (c *GridConfig) BuildFFN(site layers.Site) (layers.FeedForward, error) {
	if _, err := c.Footprint(site); err != nil {
		return nil, err
	}
	if !slices.Contains(c.Stacks, site.Stack) {
		return layers.NewGLU(site, c.GLUConfig), nil
	}
	return newGridFFN(site, *c), nil
}

// SizedBuilder implements layers.Sizer.
func (c *GridConfig) SizedBuilder() any { return c }

// Footprint implements layers.Sizer: the GLU layer's footprint (GLUConfig.Footprint),
// plus, in a gated stack, each gate's factors (a d_model×size projection, a
// tasks×size table or a global vector of size values, size being the grid's rows or
// cols) and the activations of the conditioning and the gates: per example the
// conditioning vector (d_model), the factors (rows+cols), the outer product, the
// sigmoid and its scaling (3·rows·cols; one more for GG, whose one grid is copied to
// every example), and a few indices. It returns BuildFFN's error when the settings or
// the site are invalid.
func (c *GridConfig) Footprint(site layers.Site) (layers.Footprint, error) {
	if errs := c.Validate(); len(errs) > 0 {
		return layers.Footprint{}, layers.Errs(errs)
	}
	f, err := c.GLUConfig.Footprint(site)
	if err != nil {
		return layers.Footprint{}, err
	}
	if !slices.Contains(c.Stacks, site.Stack) {
		return f, nil
	}
	if errs := c.siteErrors(site); len(errs) > 0 {
		return layers.Footprint{}, layers.Errs(errs)
	}
	d, gr, gc := int64(site.DModel), int64(c.Grid.Rows), int64(c.Grid.Cols)
	act := &f.Activations
	if c.Composition != GG && c.Conditioning != TaskEmbedding {
		act.PerExample += d + 2 // the conditioning vector and its row indices
		if c.Conditioning == Mean {
			act.PerRow++ // the pooling weights
		}
	}
	factor := func(local bool, size int64) layers.ParamShape {
		switch {
		case !local:
			return layers.ParamShape{Rows: 1, Cols: size}
		case c.Conditioning == TaskEmbedding:
			return layers.ParamShape{Rows: int64(site.NumTasks), Cols: size}
		default:
			return layers.ParamShape{Rows: d, Cols: size}
		}
	}
	gate := func() {
		f.Params = append(f.Params, factor(c.Composition.rowsLocal(), gr), factor(c.Composition.colsLocal(), gc))
		perGate := gr + gc + 3*gr*gc + 2
		if c.Composition == GG {
			perGate += gr * gc
		}
		act.PerExample += perGate
		if f.Step != nil { // the GLU footprint's own, made for this call
			// GridFFN.ForwardStep keeps each example's gates from the first step.
			f.Step.CachePerExample += gr * gc
		}
	}
	if c.gates(WeightWi) {
		gate()
	}
	if c.gates(WeightWo) {
		gate()
	}
	return f, nil
}

// siteErrors reports the settings that do not suit a gated site: a grid that does not
// tile the gated weights' d_model side, and a conditioning source the stack or the
// model cannot give.
func (c *GridConfig) siteErrors(site layers.Site) []error {
	var errs []error
	if c.gates(WeightWo) && site.DModel%c.Grid.Cols != 0 {
		errs = append(errs, registry.FieldErrorf("grid.cols", "is %d, which does not divide d_model (%d) of the gated wo; pick a divisor of d_model", c.Grid.Cols, site.DModel))
	}
	if c.gates(WeightWi) && site.DModel%c.Grid.Rows != 0 {
		errs = append(errs, registry.FieldErrorf("grid.rows", "is %d, which does not divide d_model (%d) of the gated wi; pick a divisor of d_model", c.Grid.Rows, site.DModel))
	}
	if c.Conditioning == Mean && site.Stack == layers.Decoder {
		errs = append(errs, registry.FieldErrorf("conditioning", "mean pools over every position, which a causal decoder must not see; use first_token or task_embedding, or gate only the encoder (stacks: [encoder])"))
	}
	if c.Conditioning == TaskEmbedding && c.Composition != GG && site.NumTasks < 1 {
		errs = append(errs, registry.FieldErrorf("conditioning", "task_embedding learns one vector per task, but the model declares no tasks; declare the tasks it serves under model:, e.g. model: {tasks: [{name: sentiment}, {name: paraphrase}]}, or use first_token"))
	}
	// A local factor is a d_model×size projection or a tasks×size table.
	height, of := site.DModel, "d_model"
	if c.Conditioning == TaskEmbedding {
		height, of = site.NumTasks, "the number of tasks"
	}
	for _, f := range []struct {
		local bool
		path  string
		size  int
	}{{c.Composition.rowsLocal(), "grid.rows", c.Grid.Rows}, {c.Composition.colsLocal(), "grid.cols", c.Grid.Cols}} {
		if _, ok := layers.Elements(height, f.size); f.local && height > 0 && !ok {
			errs = append(errs, registry.FieldErrorf(f.path, "is %d, which with %s (%d) makes a gate factor of more than %d (2^36) values; use a smaller grid", f.size, of, height, layers.MaxElements))
		}
	}
	return errs
}
