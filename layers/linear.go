package layers

import "github.com/hypergrid-go/hypergrid/autograd"

// Linear is y = x·W (+ b): W is In×Out, b (optional) has Out values.
type Linear struct {
	W, B *autograd.Param
}

// NewLinear creates a linear layer named name (parameters name.weight and, with bias,
// name.bias) with W drawn from N(0, std²) and b = 0.
func NewLinear(init *Init, name string, in, out int, bias bool, std float64) *Linear {
	l := &Linear{W: init.Normal(newParam(name+".weight", in, out), std)}
	if bias {
		l.B = newParam(name+".bias", out)
		l.B.NoDecay = true
	}
	return l
}

// Forward maps every row of x (rows×In) to rows×Out.
func (l *Linear) Forward(ctx *Context, x *autograd.Tensor) *autograd.Tensor {
	y := ctx.Tape.MatMul(x, &l.W.Tensor, false)
	if l.B != nil {
		y = ctx.Tape.AddRow(y, &l.B.Tensor)
	}
	return y
}

// Params lists the layer's parameters.
func (l *Linear) Params() []*autograd.Param {
	if l.B == nil {
		return []*autograd.Param{l.W}
	}
	return []*autograd.Param{l.W, l.B}
}
