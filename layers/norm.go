package layers

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/autograd"
)

// NormKind selects the normalisation of a model.
type NormKind string

// The supported normalisations.
const (
	RMSNormKind   NormKind = "rms"   // T5's RMSNorm: a weight, no bias, no centring
	LayerNormKind NormKind = "layer" // LayerNorm: weight and bias
)

// Valid reports whether k is a supported normalisation.
func (k NormKind) Valid() bool { return k == RMSNormKind || k == LayerNormKind }

// Norm is an RMSNorm or LayerNorm over the last dimension. Its weight starts at 1 and
// its bias (LayerNorm only) at 0.
type Norm struct {
	Kind NormKind
	Eps  float32
	// Weight is the gain; Bias is nil for RMSNorm.
	Weight, Bias *autograd.Param
}

// NewNorm creates a normalisation of width d whose parameters are named name.weight
// (and name.bias for LayerNorm). It panics on an unknown kind.
func NewNorm(name string, kind NormKind, d int, eps float64) *Norm {
	n := &Norm{Kind: kind, Eps: float32(eps)}
	n.Weight = newParam(name+".weight", d)
	n.Weight.NoDecay = true
	for i := range n.Weight.Data {
		n.Weight.Data[i] = 1
	}
	switch kind {
	case RMSNormKind:
	case LayerNormKind:
		n.Bias = newParam(name+".bias", d)
		n.Bias.NoDecay = true
	default:
		panic(fmt.Sprintf("layers: unknown norm %q", string(kind)))
	}
	return n
}

// Forward normalises every row of x.
func (n *Norm) Forward(ctx *Context, x *autograd.Tensor) *autograd.Tensor {
	if n.Bias == nil {
		return ctx.Tape.RMSNorm(x, &n.Weight.Tensor, n.Eps)
	}
	return ctx.Tape.LayerNorm(x, &n.Weight.Tensor, &n.Bias.Tensor, n.Eps)
}

// Params lists the norm's parameters.
func (n *Norm) Params() []*autograd.Param {
	if n.Bias == nil {
		return []*autograd.Param{n.Weight}
	}
	return []*autograd.Param{n.Weight, n.Bias}
}
