package train

import (
	"fmt"
	"math"
	"time"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/dist"
	"github.com/hypergrid-go/hypergrid/model"
)

// Part is one micro-batch of a step: a slice of the step's (global) batch, and the
// share of the step's loss it carries — its loss normaliser (target tokens of a t5
// model, examples of an encoder) over the whole batch's, so that the weighted sum of
// the parts' mean losses, and of their gradients, is the whole batch's.
type Part struct {
	Batch  *model.Batch
	Weight float64
	// Index numbers the part within the step's global batch (rank by rank, then
	// micro-batch by micro-batch): it picks the part's dropout masks. Part 0's masks
	// are those of an unsplit step.
	Index int
}

// bucketFloats is the size of one allreduce bucket: 4 Mi values (16 MiB). On this
// project's 2-core test machine 16 MiB buckets summed t5-mini's 52 MiB of gradients
// faster than 4 MiB ones (no overlap with the backward pass: see reduceGrads).
const bucketFloats = 1 << 22

// SetComm makes the stepper a rank of a data-parallel run over c: StepParts sums the
// ranks' gradients (and losses) before clipping, so that every rank takes the same
// optimizer step. Nil or a one-rank c: no reduction.
func (s *Stepper) SetComm(c dist.Comm) {
	if c != nil && c.Size() <= 1 {
		c = nil
	}
	s.comm = c
}

// dropoutStream is the dropout step of part index of step: part 0 keeps the step's own
// masks (an unsplit step is unchanged); the others draw masks of their own (steps are
// below MaxSteps = 2^40).
func dropoutStream(step, index int) uint64 {
	return uint64(step) | uint64(index)<<40
}

// StepParts runs training step number step over parts, this rank's micro-batches of
// the step's batch: each part's forward and backward pass in turn, its loss scaled by
// its Weight so that the summed gradient is the whole batch's; then, in a distributed
// run (SetComm), the gradients and losses are summed over the ranks (in buckets, in
// the order the backward pass finishes the parameters: last layers first); then
// clipping and one optimizer step. The result's Loss is the whole (global) batch's.
// A non-finite loss or gradient on any rank skips the step on every rank.
func (s *Stepper) StepParts(step int, parts []Part) (StepResult, error) {
	if len(parts) == 0 {
		return StepResult{}, fmt.Errorf("step %d: no micro-batches", step+1)
	}
	if len(parts) == 1 && s.comm == nil && parts[0].Index == 0 && parts[0].Weight == 1 && len(s.reps) <= 1 {
		return s.Step(step, parts[0].Batch)
	}
	var untimed Phases
	acc := &untimed
	if s.phases != nil {
		s.phases.Steps++
		acc = s.phases
	}
	res := StepResult{LR: s.sched.LR(step)}
	loss, err := s.runParts(step, parts, acc)
	if err != nil {
		return StepResult{}, err
	}
	res.Loss = loss
	if s.comm != nil {
		end := s.phase("reduce", &acc.Reduce)
		start := time.Now()
		l := []float64{res.Loss}
		err := s.comm.AllreduceSum64(l)
		if err == nil {
			err = s.reduceGrads()
		}
		res.Reduce, res.ReduceBytes = time.Since(start), s.reduced
		end()
		if err != nil {
			return res, fmt.Errorf("step %d: summing the gradients over %d ranks: %w", step+1, s.comm.Size(), err)
		}
		res.Loss = l[0]
		acc.ReduceBytes = s.reduced
	}
	if math.IsNaN(res.Loss) || math.IsInf(res.Loss, 0) {
		res.Skipped = true
		return res, nil
	}
	s.update(&res, acc)
	return res, nil
}

// reduceGrads sums every trainable parameter's gradient over the ranks: the
// gradients are packed, last parameter first (the order the backward pass finishes
// them), into buckets of bucketFloats values, each summed with one allreduce and
// unpacked. The buckets and their order depend only on the model, so every rank makes
// the same calls.
//
// The reduction runs after the backward pass rather than overlapping it: the tape
// finishes a parameter's gradient only when its last use has been walked, and it has
// no hook to say so, so a bucket could start only after the pass anyway.
func (s *Stepper) reduceGrads() error {
	if cap(s.rbuf) == 0 {
		s.rbuf = make([]float32, 0, bucketFloats)
	}
	s.reduced = 0
	type span struct {
		p      *autograd.Param
		lo, hi int // the part of p.Grad in the bucket
	}
	var spans []span
	buf := s.rbuf[:0]
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if err := s.comm.AllreduceSum(buf); err != nil {
			return err
		}
		s.reduced += int64(4 * len(buf))
		off := 0
		for _, sp := range spans {
			off += copy(sp.p.Grad[sp.lo:sp.hi], buf[off:])
		}
		buf, spans = buf[:0], spans[:0]
		return nil
	}
	for i := len(s.params) - 1; i >= 0; i-- {
		p := s.params[i]
		if p.Frozen() {
			continue
		}
		for lo := 0; lo < len(p.Grad); {
			n := min(len(p.Grad)-lo, bucketFloats-len(buf))
			buf = append(buf, p.Grad[lo:lo+n]...)
			spans = append(spans, span{p, lo, lo + n})
			lo += n
			if len(buf) == bucketFloats {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// BroadcastWeights copies rank root's parameter values to every rank of c (all
// parameters, frozen ones too), so that every rank starts from the same model.
func BroadcastWeights(c dist.Comm, params []*autograd.Param, root int) error {
	if c == nil || c.Size() <= 1 {
		return nil
	}
	for _, p := range params {
		if err := c.Broadcast(p.Data, root); err != nil {
			return fmt.Errorf("broadcasting the weights of rank %d (%s): %w", root, p.Name, err)
		}
	}
	return nil
}
