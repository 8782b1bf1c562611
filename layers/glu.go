package layers

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/ops"
)

// Activation names the nonlinearity of a feed-forward layer.
type Activation string

// The supported activations.
const (
	GELU Activation = "gelu" // tanh-approximated GELU (GEGLU when gated)
	ReLU Activation = "relu" // ReLU (ReGLU when gated)
	SiLU Activation = "silu" // SiLU/Swish (SwiGLU when gated)
)

// Valid reports whether a is one of the supported activations.
func (a Activation) Valid() bool { return a == GELU || a == ReLU || a == SiLU }

// Apply records the activation of x on the tape.
func (a Activation) Apply(t *autograd.Tape, x *autograd.Tensor) *autograd.Tensor {
	switch a {
	case GELU:
		return t.GELU(x)
	case ReLU:
		return t.ReLU(x)
	case SiLU:
		return t.SiLU(x)
	}
	panic(fmt.Sprintf("layers: unknown activation %q", string(a)))
}

// Gated returns act(x) ⊙ y in one fused pass (autograd.GatedAct).
func (a Activation) Gated(t *autograd.Tape, x, y *autograd.Tensor) *autograd.Tensor {
	return t.GatedAct(a.Act(), x, y)
}

// Act is a's autograd activation (for layers that call the fused feed-forward
// operations, autograd.GatedFFN and autograd.GridGatedFFN, themselves).
func (a Activation) Act() autograd.Act {
	switch a {
	case GELU:
		return autograd.ActGELU
	case ReLU:
		return autograd.ActReLU
	case SiLU:
		return autograd.ActSiLU
	}
	panic(fmt.Sprintf("layers: unknown activation %q", string(a)))
}

// GLUConfig configures the T5 feed-forward sublayer ("ffn.glu"):
// y = (act(x·Wi0) ⊙ x·Wi1)·Wo when gated, y = act(x·Wi0)·Wo when plain; no biases.
type GLUConfig struct {
	// DFF is the hidden width d_ff.
	DFF int `yaml:"d_ff"`
	// Activation is gelu, relu or silu.
	Activation Activation `yaml:"activation"`
	// Gated selects the GLU form (GEGLU/ReGLU/SwiGLU, with the extra Wi1) over the
	// plain form.
	Gated bool `yaml:"gated"`
}

// DefaultGLUConfig returns T5.1.1's feed-forward: GEGLU with d_ff 1024.
func DefaultGLUConfig() *GLUConfig {
	return &GLUConfig{DFF: 1024, Activation: GELU, Gated: true}
}

// Validate reports every invalid setting as a *registry.FieldError.
func (c *GLUConfig) Validate() []error {
	var errs []error
	if c.DFF <= 0 {
		errs = append(errs, fieldErr("d_ff", "is %d; want a positive width such as 1024", c.DFF))
	} else if c.DFF > MaxWidth {
		errs = append(errs, fieldErr("d_ff", "is %d; want at most %d (2^20); T5 uses 1024 to 10240", c.DFF, MaxWidth))
	}
	if !c.Activation.Valid() {
		errs = append(errs, fieldErr("activation", "is %q; want gelu, relu or silu", string(c.Activation)))
	}
	return errs
}

// BuildFFN builds the sublayer for site, with parameters Prefix.wi0, Prefix.wi1 (when
// gated) and Prefix.wo.
func (c *GLUConfig) BuildFFN(site Site) (FeedForward, error) {
	if _, err := c.Footprint(site); err != nil {
		return nil, err
	}
	return NewGLU(site, *c), nil
}

// Footprint implements Sizer: the shapes of wi0, wi1 (when gated) and wo, and the
// hidden layer the forward pass keeps per row of input, 2·d_ff plus the product's
// padded row when gated (x·wi0, x·wi1 and their product) and 2·d_ff when plain (x·wi0
// and its activation); or BuildFFN's error, which includes a d_model·d_ff above
// MaxElements.
func (c *GLUConfig) Footprint(site Site) (Footprint, error) {
	if err := Errs(c.Validate()); err != nil {
		return Footprint{}, err
	}
	if err := site.Check(); err != nil {
		return Footprint{}, err
	}
	if _, ok := Elements(site.DModel, c.DFF); !ok {
		return Footprint{}, fieldErr("d_ff", "is %d, which with d_model %d makes weights of more than %d (2^36) values; reduce d_ff or d_model", c.DFF, site.DModel, MaxElements)
	}
	return gluFootprint(site, *c), nil
}

// SizedBuilder implements Sizer.
func (c *GLUConfig) SizedBuilder() any { return c }

// gluFootprint is the footprint of NewGLU(site, c) for a valid c and site: its
// parameters, and the hidden layer its forward pass keeps per row: three padded rows
// (ops.DirectLD) when gated (x·wi0, x·wi1 and their product) and 2·d_ff when plain
// (x·wi0 and its activation). Gated with GELU, the backward pass writes the gradients
// of x·wi0 and x·wi1 over them (autograd.GatedFFN): those need no buffer of their own.
func gluFootprint(site Site, c GLUConfig) Footprint {
	d, ff := int64(site.DModel), int64(c.DFF)
	// A step is Forward over one position, and keeps nothing (GLU.ForwardStep).
	f := Footprint{Params: []ParamShape{{d, ff}}, Activations: Activations{PerRow: 2 * ff}, Step: &StepFootprint{}}
	if c.Gated {
		f.Params = append(f.Params, ParamShape{d, ff})
		ld := int64(ops.DirectLD(c.DFF))
		f.Activations.PerRow = 3 * ld
		if c.Activation == GELU {
			f.Activations.GradFreeRow = 2 * ld
		}
	}
	f.Params = append(f.Params, ParamShape{ff, d})
	return f
}

// GLU is the feed-forward sublayer built by GLUConfig. Its weights are stored as
// input×output matrices: Wi0 and Wi1 are DModel×DFF, Wo is DFF×DModel.
type GLU struct {
	Config GLUConfig
	// Wi0 is the (activated) input projection, Wi1 the linear gate of the GLU form (nil
	// when plain), Wo the output projection.
	Wi0, Wi1, Wo *autograd.Param
}

// NewGLU creates the layer's parameters for site with T5's initialisation
// (N(0, 1/fan_in)).
func NewGLU(site Site, c GLUConfig) *GLU {
	g := &GLU{Config: c}
	g.Wi0 = site.Init.Normal(site.Param("wi0", site.DModel, c.DFF), Fan(site.DModel))
	if c.Gated {
		g.Wi1 = site.Init.Normal(site.Param("wi1", site.DModel, c.DFF), Fan(site.DModel))
	}
	g.Wo = site.Init.Normal(site.Param("wo", c.DFF, site.DModel), Fan(c.DFF))
	return g
}

// Hidden returns the hidden activations h = act(x·Wi0) [⊙ x·Wi1].
func (g *GLU) Hidden(ctx *Context, x *autograd.Tensor) *autograd.Tensor {
	t := ctx.Tape
	pre := t.MatMul(x, &g.Wi0.Tensor, false)
	if g.Wi1 != nil {
		return g.Config.Activation.Gated(t, pre, t.MatMul(x, &g.Wi1.Tensor, false))
	}
	return g.Config.Activation.Apply(t, pre)
}

// Forward implements FeedForward. The gated form runs as one autograd.GatedFFN (block
// by block, the hidden layer kept in cache; the values and gradients of MatMul(Hidden,
// Wo) bit for bit).
func (g *GLU) Forward(ctx *Context, x *autograd.Tensor, seq Seq) *autograd.Tensor {
	if g.Wi1 != nil {
		return ctx.Tape.GatedFFN(g.Config.Activation.Act(), x, &g.Wi0.Tensor, &g.Wi1.Tensor, &g.Wo.Tensor)
	}
	return ctx.Tape.MatMul(g.Hidden(ctx, x), &g.Wo.Tensor, false)
}

// Params implements FeedForward.
func (g *GLU) Params() []*autograd.Param {
	if g.Wi1 == nil {
		return []*autograd.Param{g.Wi0, g.Wo}
	}
	return []*autograd.Param{g.Wi0, g.Wi1, g.Wo}
}
