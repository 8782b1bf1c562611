package layers

import (
	"math"
	"math/rand/v2"

	"github.com/hypergrid-go/hypergrid/autograd"
)

// Init draws initial parameter values from a deterministic random stream.
type Init struct {
	rng *rand.Rand
}

// NewInit returns an initializer whose stream is determined by seed.
func NewInit(seed uint64) *Init {
	return &Init{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Normal fills p with draws from N(0, std²) and returns p.
func (in *Init) Normal(p *autograd.Param, std float64) *autograd.Param {
	for i := range p.Data {
		p.Data[i] = float32(in.rng.NormFloat64() * std)
	}
	return p
}

// Fill sets every value of p to v and returns p.
func (in *Init) Fill(p *autograd.Param, v float32) *autograd.Param {
	for i := range p.Data {
		p.Data[i] = v
	}
	return p
}

// Fan returns the usual standard deviation 1/√fanIn for a weight with fanIn inputs.
func Fan(fanIn int) float64 { return 1 / math.Sqrt(float64(fanIn)) }
