package model

import "github.com/hypergrid-go/hypergrid/autograd"

// GenerateUncached exposes the reference decoder to the external tests and benchmarks.
func (m *Model) GenerateUncached(t *autograd.Tape, b *Batch, maxLen int, eos int32) ([][]int32, error) {
	return m.generateUncached(t, b, maxLen, eos, nil)
}

// InferenceActivationBytes is the part of Spec.Estimate's inference activations that
// one way of answering keeps: a greedy generation of targetLen tokens, or (scoring)
// candidates of targetLen tokens in all.
func (s *Spec) InferenceActivationBytes(batch, inputLen, targetLen int, scoring bool) int64 {
	w := &walker{spec: s, scoring: scoring, failed: map[string]bool{}}
	w.shape(int64(batch), int64(inputLen), int64(targetLen))
	w.walk()
	return 4 * w.act
}

// GenerateOn runs the cached generation with step tape st (in inference mode), so that
// a test can see what the steps after the first use.
func (m *Model) GenerateOn(t, st *autograd.Tape, b *Batch, maxLen int, eos int32) ([][]int32, error) {
	if err := m.checkGenerate(b, maxLen); err != nil {
		return nil, err
	}
	return m.generateOn(t, st, b, maxLen, eos, nil)
}
