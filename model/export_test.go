package model

import "github.com/hypergrid-go/hypergrid/autograd"

// GenerateUncached exposes the reference decoder to the external tests and benchmarks.
func (m *Model) GenerateUncached(t *autograd.Tape, b *Batch, maxLen int, eos int32) ([][]int32, error) {
	return m.generateUncached(t, b, maxLen, eos, nil)
}
