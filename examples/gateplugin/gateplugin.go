// Package gateplugin is an example of a third-party layer plugin for HyperGrid: an
// ordinary Go package, outside the framework's packages, that adds a feed-forward
// layer type to recipes by registering it in its init function. A program that
// imports it, even with a blank import,
//
//	import _ "github.com/hypergrid-go/hypergrid/examples/gateplugin"
//
// can then write `ffn: {type: ffn.gateplugin.grid, ...}` in a recipe.
//
// The layer is a HyperGrid variant with a different gate nonlinearity. ffn.hypergrid
// gates the output projection wo of the feed-forward layer block by block with
// σ(r cᵀ), which lies in (0, 1) (times a scale); ffn.gateplugin.grid uses
//
//	gate = φ(offset + r cᵀ),  φ ∈ {relu, gelu, silu}
//
// with r local (a projection of the example's first token, which carries the task
// prefix) and c global (a free vector). With relu a gate can switch a block of wo off
// exactly for one task and amplify it for another; with offset 1 every gate starts
// at φ(1) (exactly 1 for relu, so training starts from the plain feed-forward layer).
//
// The package uses only the framework's public API: layers for the GLU layer and the
// site, autograd for the forward pass (gradients come for free), registry to register.
package gateplugin

import (
	"math"

	"github.com/hypergrid-go/hypergrid/hyper"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/registry"
)

// ID is the recipe type of the layer.
const ID = "ffn.gateplugin.grid"

func init() {
	registry.Register(ID, func() any { return DefaultConfig() })
}

// Grid is the gate grid: Rows blocks over wo's input (d_ff) and Cols over its output
// (d_model).
type Grid struct {
	Rows int `yaml:"rows"`
	Cols int `yaml:"cols"`
}

// Config configures the layer. It is what the recipe's ffn: mapping decodes into; the
// embedded GLU settings (d_ff, activation, gated) describe the feed-forward layer whose
// wo is gated.
type Config struct {
	layers.GLUConfig `yaml:",inline"`
	// Grid is the gate grid; rows must divide d_ff and cols d_model.
	Grid Grid `yaml:"grid"`
	// Gate is the gate nonlinearity φ: relu, gelu or silu.
	Gate layers.Activation `yaml:"gate"`
	// Offset is added to r cᵀ before φ; it sets where the gates start.
	Offset float64 `yaml:"offset"`
}

// DefaultConfig returns a 16×16 ReLU grid starting at 1 (the ungated layer) on
// T5.1.1's GEGLU feed-forward layer.
func DefaultConfig() *Config {
	return &Config{GLUConfig: *layers.DefaultGLUConfig(), Grid: Grid{Rows: 16, Cols: 16}, Gate: layers.ReLU, Offset: 1}
}

// Validate implements the registry's Validator: every problem is a *registry.FieldError
// naming its field, so that the recipe loader can point at the line.
func (c *Config) Validate() []error {
	errs := c.GLUConfig.Validate()
	if c.Grid.Rows <= 0 {
		errs = append(errs, registry.FieldErrorf("grid.rows", "is %d; want a positive number of row blocks", c.Grid.Rows))
	} else if c.DFF > 0 && c.DFF%c.Grid.Rows != 0 {
		errs = append(errs, registry.FieldErrorf("grid.rows", "is %d, which does not divide d_ff (%d)", c.Grid.Rows, c.DFF))
	}
	if c.Grid.Cols <= 0 {
		errs = append(errs, registry.FieldErrorf("grid.cols", "is %d; want a positive number of column blocks", c.Grid.Cols))
	}
	if !c.Gate.Valid() {
		errs = append(errs, registry.FieldErrorf("gate", "is %q; want relu, gelu or silu", string(c.Gate)))
	}
	if math.IsNaN(c.Offset) || math.IsInf(c.Offset, 0) {
		errs = append(errs, registry.FieldErrorf("offset", "is %v; want a finite number", c.Offset))
	}
	return errs
}

// BuildFFN implements layers.FFNBuilder: the GLU layer's parameters (Prefix.wi0,
// Prefix.wi1, Prefix.wo) and the gate's (Prefix.gate.local_rows, d_model×rows, and
// Prefix.gate.global_cols, cols), both marked as HyperGrid parameters.
func (c *Config) BuildFFN(site layers.Site) (layers.FeedForward, error) {
	errs := c.Validate()
	if c.Grid.Cols > 0 && site.DModel%c.Grid.Cols != 0 {
		errs = append(errs, registry.FieldErrorf("grid.cols", "is %d, which does not divide d_model (%d)", c.Grid.Cols, site.DModel))
	}
	if len(errs) > 0 {
		return nil, layers.Errs(errs)
	}
	f := &FFN{Config: *c, GLU: layers.NewGLU(site, c.GLUConfig)}
	f.LocalRows = site.Init.Normal(site.Param("gate.local_rows", site.DModel, c.Grid.Rows), layers.Fan(site.DModel))
	f.GlobalCols = site.Init.Normal(site.Param("gate.global_cols", c.Grid.Cols), 0.02)
	f.LocalRows.Group, f.GlobalCols.Group = hyper.ParamGroup, hyper.ParamGroup
	f.offset = make([]float32, c.Grid.Rows*c.Grid.Cols)
	for i := range f.offset {
		f.offset[i] = float32(c.Offset)
	}
	return f, nil
}

// FFN is the built layer of one block.
type FFN struct {
	Config Config
	GLU    *layers.GLU
	// LocalRows projects the conditioning vector to the grid's row factor r.
	LocalRows *autograd.Param
	// GlobalCols is the grid's column factor c.
	GlobalCols *autograd.Param
	offset     []float32
}

// Gates returns the batch×(rows·cols) gates φ(offset + r cᵀ) of the examples whose
// normalised first tokens are the rows of cond.
func (f *FFN) Gates(ctx *layers.Context, cond *autograd.Tensor) *autograd.Tensor {
	t := ctx.Tape
	r := t.MatMul(cond, &f.LocalRows.Tensor, false)
	pre := t.Outer(r, &f.GlobalCols.Tensor)
	pre = t.AddRow(pre, t.From(f.offset, 1, len(f.offset)))
	return f.Config.Gate.Apply(t, pre)
}

// Forward implements layers.FeedForward.
func (f *FFN) Forward(ctx *layers.Context, x *autograd.Tensor, seq layers.Seq) *autograd.Tensor {
	t := ctx.Tape
	first := t.Ints(seq.Batch)
	for e := range first {
		first[e] = int32(e * seq.Len)
	}
	gates := f.Gates(ctx, t.GatherRows(x, first))
	h := f.GLU.Hidden(ctx, x)
	return t.GridGatedMatMul(h, &f.GLU.Wo.Tensor, gates, seq.Batch, f.Config.Grid.Rows, f.Config.Grid.Cols)
}

// Params implements layers.FeedForward.
func (f *FFN) Params() []*autograd.Param {
	return append(f.GLU.Params(), f.LocalRows, f.GlobalCols)
}
