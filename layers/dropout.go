package layers

import "github.com/hypergrid-go/hypergrid/autograd"

// DropoutSource hands out the seeds of the dropout masks of a training run. The masks
// of a step depend only on the run's seed, the step number and the order of dropout
// calls in the forward pass, so a run is reproducible and can be resumed bit-exactly.
type DropoutSource struct {
	seed, step, calls uint64
}

// NewDropoutSource returns a source for the run seed.
func NewDropoutSource(seed uint64) *DropoutSource { return &DropoutSource{seed: seed} }

// SetStep starts the masks of training step step.
func (d *DropoutSource) SetStep(step uint64) { d.step, d.calls = step, 0 }

// next returns the seed of the next mask.
func (d *DropoutSource) next() uint64 {
	d.calls++
	return mix64(mix64(d.seed^0x243f6a8885a308d3) ^ mix64(d.step+0x13198a2e03707344) ^ d.calls*0xa4093822299f31d0)
}

// mix64 is the splitmix64 finaliser.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Dropout zeroes each value of x with probability rate and scales the rest by
// 1/(1-rate) when ctx.Train is set and rate > 0; otherwise it returns x unchanged.
func Dropout(ctx *Context, x *autograd.Tensor, rate float64) *autograd.Tensor {
	if !ctx.Train || rate <= 0 {
		return x
	}
	return ctx.Tape.Dropout(x, float32(rate), ctx.dropoutSeed())
}

// AddDropout returns x + Dropout(ctx, a, rate), the residual connection around a
// sublayer with output a, in one pass when dropout applies (autograd.AddDropout: the
// same values and gradients, with the same mask as Dropout would draw).
func AddDropout(ctx *Context, x, a *autograd.Tensor, rate float64) *autograd.Tensor {
	if !ctx.Train || rate <= 0 {
		return ctx.Tape.Add(x, a)
	}
	return ctx.Tape.AddDropout(x, a, float32(rate), ctx.dropoutSeed())
}

// dropoutSeed is the seed of the next dropout mask: the source's next one, or 0 without
// a source.
func (ctx *Context) dropoutSeed() uint64 {
	if ctx.Dropout == nil {
		return 0
	}
	return ctx.Dropout.next()
}
