package model

import "fmt"

// Batch is a batch of examples as padded token id matrices (pad id 0).
type Batch struct {
	// Size is the number of examples.
	Size int
	// Inputs holds Size rows of InputLen token ids, padded with 0.
	Inputs   []int32
	InputLen int
	// Targets holds Size rows of TargetLen output token ids (t5), padded with 0. The
	// decoder reads them shifted right behind the start token (id 0) and learns to
	// predict every non-padding one.
	Targets   []int32
	TargetLen int
	// Tasks holds each example's task index into Spec.Tasks (nil: all task 0).
	Tasks []int32
	// Labels holds each example's class (encoder-only classification tasks; the entry
	// of a regression example is ignored).
	Labels []int32
	// Values holds each example's target value (encoder-only regression tasks; the
	// entry of a classification example is ignored).
	Values []float32
}

// Validate checks the batch against the model's spec: shapes, token ids in the
// vocabulary, task indices, and labels within each task's classes.
func (b *Batch) Validate(s *Spec) error {
	if b.Size <= 0 {
		return fmt.Errorf("batch: size %d; want at least one example", b.Size)
	}
	if b.InputLen <= 0 || len(b.Inputs) != b.Size*b.InputLen {
		return fmt.Errorf("batch: %d input ids for %d examples of length %d", len(b.Inputs), b.Size, b.InputLen)
	}
	if err := checkIDs("input", b.Inputs, b.InputLen, s.Vocab); err != nil {
		return err
	}
	if b.Tasks != nil {
		if len(b.Tasks) != b.Size {
			return fmt.Errorf("batch: %d task indices for %d examples", len(b.Tasks), b.Size)
		}
		n := max(1, len(s.Tasks))
		for i, t := range b.Tasks {
			if t < 0 || int(t) >= n {
				return fmt.Errorf("batch: example %d has task index %d; the model has %d task(s)", i, t, n)
			}
		}
	}
	if s.Arch == ArchT5 {
		if b.Targets != nil {
			if b.TargetLen <= 0 || len(b.Targets) != b.Size*b.TargetLen {
				return fmt.Errorf("batch: %d target ids for %d examples of length %d", len(b.Targets), b.Size, b.TargetLen)
			}
			if err := checkIDs("target", b.Targets, b.TargetLen, s.Vocab); err != nil {
				return err
			}
		}
		return nil
	}
	if b.Labels != nil && len(b.Labels) != b.Size {
		return fmt.Errorf("batch: %d labels for %d examples", len(b.Labels), b.Size)
	}
	if b.Values != nil && len(b.Values) != b.Size {
		return fmt.Errorf("batch: %d values for %d examples", len(b.Values), b.Size)
	}
	for i := range b.Size {
		task := s.Tasks[b.task(i)]
		if task.Kind == Classification && b.Labels != nil && (b.Labels[i] < 0 || int(b.Labels[i]) >= task.Classes) {
			return fmt.Errorf("batch: example %d of task %q has label %d; want 0..%d", i, task.Name, b.Labels[i], task.Classes-1)
		}
	}
	return nil
}

// task returns example i's task index.
func (b *Batch) task(i int) int {
	if b.Tasks == nil {
		return 0
	}
	return int(b.Tasks[i])
}

func checkIDs(what string, ids []int32, length, vocab int) error {
	for i, id := range ids {
		if id < 0 || int(id) >= vocab {
			return fmt.Errorf("batch: %s token %d of example %d is %d, outside the vocabulary [0, %d)", what, i%length, i/length, id, vocab)
		}
	}
	return nil
}
