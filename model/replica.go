package model

import "fmt"

// Replica returns a second model of m's architecture whose parameters share m's values
// and have gradients of their own: the two may run forward and backward passes at the
// same time (each on its own tape), each pass adding into its own model's gradients,
// while one optimizer updates the shared values between passes. The replica's
// parameters are bound to m's values now; Share binds them again (after m's values
// were replaced, e.g. by loading a checkpoint, or parameters were frozen).
func (m *Model) Replica() (*Model, error) {
	r, err := New(m.Spec, 0)
	if err != nil {
		return nil, fmt.Errorf("model replica: %w", err)
	}
	if err := r.Share(m); err != nil {
		return nil, err
	}
	return r, nil
}

// Share makes r's parameters use m's values (not copies) and m's frozen flags, leaving
// r's gradients its own. The two must be of one architecture (Replica).
func (r *Model) Share(m *Model) error {
	if len(r.params) != len(m.params) {
		return fmt.Errorf("model replica: %d parameters, the model has %d", len(r.params), len(m.params))
	}
	for i, p := range m.params {
		q := r.params[i]
		if q.Name != p.Name || q.Rows != p.Rows || q.Cols != p.Cols {
			return fmt.Errorf("model replica: parameter %d is %s [%d×%d], the model's is %s [%d×%d]", i, q.Name, q.Rows, q.Cols, p.Name, p.Rows, p.Cols)
		}
		q.Data = p.Data
		q.SetFrozen(p.Frozen())
	}
	return nil
}

// Slice returns examples [lo, hi) of b as a batch that shares b's arrays.
func (b *Batch) Slice(lo, hi int) *Batch {
	if lo < 0 || hi > b.Size || lo > hi {
		panic(fmt.Sprintf("model: Batch.Slice(%d, %d) of a batch of %d examples", lo, hi, b.Size))
	}
	s := &Batch{Size: hi - lo, InputLen: b.InputLen, TargetLen: b.TargetLen,
		Inputs: b.Inputs[lo*b.InputLen : hi*b.InputLen]}
	if b.Targets != nil {
		s.Targets = b.Targets[lo*b.TargetLen : hi*b.TargetLen]
	}
	if b.Tasks != nil {
		s.Tasks = b.Tasks[lo:hi]
	}
	if b.Labels != nil {
		s.Labels = b.Labels[lo:hi]
	}
	if b.Values != nil {
		s.Values = b.Values[lo:hi]
	}
	return s
}

// LossNorm is what the model's training loss over b is a mean over (Spec.LossNorm). A
// batch split into parts has the whole's loss as the parts' losses weighted by their
// LossNorm over the whole's.
func (m *Model) LossNorm(b *Batch) float64 { return m.Spec.LossNorm(b.Size, b.Targets) }

// LossNorm is what the training loss over examples examples is a mean over: their
// target tokens to predict (t5: the non-padding ids of targets, each slice one or more
// examples' ids) or the examples themselves (encoder heads).
func (s *Spec) LossNorm(examples int, targets ...[]int32) float64 {
	if s.Arch != ArchT5 {
		return float64(examples)
	}
	n := 0
	for _, t := range targets {
		for _, id := range t {
			if id != 0 {
				n++
			}
		}
	}
	return float64(n)
}
