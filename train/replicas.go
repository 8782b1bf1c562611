package train

import (
	"context"
	"fmt"
	"runtime/pprof"
	"sync"
	"sync/atomic"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/ops"
)

// Data parallelism inside one process (train.replicas): a step's micro-batches run R
// at a time, each on its own goroutine with its own model replica — the model's
// parameter values shared, its own gradients, tape and dropout stream — with the
// kernels' threads divided among the replicas (one each on R threads) and handed to
// the others as each finishes its micro-batch. Where the kernels split every product,
// softmax and norm over the threads and wait for the slowest at each of a step's ~1000
// joins, replicas run whole passes with no join until the gradients are summed: the
// step scales with threads as far as memory bandwidth allows. The gradients are added
// in part order (replica 0's, then 1's, …), so a run is reproducible for a given
// replica count, whatever the thread count; replicas change the float rounding of the
// summed gradient as grad_accum does.

// replica is one model replica of the step: replica 0 is the Stepper's own model,
// tape and dropout source.
type replica struct {
	m       *model.Model
	tape    *autograd.Tape
	dropout *layers.DropoutSource
}

// newReplicas returns the stepper's n replicas (at least one), the first on m itself.
func newReplicas(m *model.Model, n int, seed uint64, tape *autograd.Tape, dropout *layers.DropoutSource) ([]*replica, error) {
	reps := []*replica{{m: m, tape: tape, dropout: dropout}}
	for len(reps) < n {
		r, err := m.Replica()
		if err != nil {
			return nil, err
		}
		reps = append(reps, &replica{m: r, tape: autograd.NewTape(), dropout: layers.NewDropoutSource(seed)})
	}
	return reps, nil
}

// partResult is what one micro-batch's pass gave.
type partResult struct {
	loss float64 // the part's mean loss times its weight
	err  error
}

// run runs one part's forward and backward pass on the replica, its gradients added
// into the replica's; between (if not nil) is called after the forward pass.
func (r *replica) run(step int, p Part, between func()) partResult {
	r.tape.Reset()
	r.dropout.SetStep(dropoutStream(step, p.Index))
	loss, err := r.m.Loss(r.tape, p.Batch, model.Options{Train: true, Dropout: r.dropout})
	if between != nil {
		between()
	}
	if err != nil {
		return partResult{err: err}
	}
	r.tape.Backward(r.tape.Scale(loss, float32(p.Weight)))
	r.m.SettleGrads() // after the first wave's DeferZeroGrad
	return partResult{loss: float64(loss.Data[0]) * p.Weight}
}

// runParts runs parts on the stepper's replicas, R at a time (one after the other on
// one model), and sums the replicas' gradients into the model's. It returns the step's
// loss: the parts' weighted losses added in part order.
func (s *Stepper) runParts(step int, parts []Part, acc *Phases) (float64, error) {
	used := s.reps[:min(len(s.reps), max(len(parts), 1))]
	for _, r := range used[1:] {
		if err := r.m.Share(s.m); err != nil {
			return 0, err
		}
	}
	results := make([]partResult, len(parts))
	s.runWaves(step, used, parts, results, acc)
	var total float64
	for _, r := range results {
		if r.err != nil {
			return 0, fmt.Errorf("step %d: %w", step+1, r.err)
		}
		total += r.loss
	}
	if len(used) > 1 {
		end := s.phase("replicas", &acc.Replicas)
		s.sumReplicaGrads(used[1:])
		end()
	}
	return total, nil
}

// runWaves runs parts len(reps) at a time, part w+j on replica j, the kernels' threads
// divided among the replicas still running: as each replica finishes its part, the
// others' later kernels split over its threads too, so a replica held up (a slower
// core, a longer part) is helped instead of waited for. The kernels give the same
// bits at any thread count, so this changes no number. Each replica zeroes its
// gradients first, on its own goroutine, the deferred way (its first contributions
// overwrite them; run settles the rest); with no part at all, the model's are cleared.
func (s *Stepper) runWaves(step int, reps []*replica, parts []Part, results []partResult, acc *Phases) {
	n := len(reps)
	threads := ops.Threads()
	if n > 1 {
		defer ops.SetThreads(threads)
	}
	if len(parts) == 0 {
		s.m.ZeroGrad()
	}
	for w := 0; w < len(parts); w += n {
		wave := parts[w:min(w+n, len(parts))]
		var running atomic.Int32
		running.Store(int32(len(wave)))
		// finished hands a finished replica's threads to the ones still running.
		finished := func() {
			if left := running.Add(-1); left > 0 {
				ops.SetThreads(ThreadsPerReplica(threads, int(left)))
			}
		}
		if n > 1 {
			ops.SetThreads(ThreadsPerReplica(threads, len(wave)))
		}
		var wg sync.WaitGroup
		for j := 1; j < len(wave); j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if s.phases != nil {
					pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("phase", "replica")))
				}
				if w == 0 {
					reps[j].m.DeferZeroGrad()
				}
				results[w+j] = reps[j].run(step, wave[j], nil)
				finished()
			}()
		}
		if w == 0 {
			reps[0].m.DeferZeroGrad()
		}
		// Replica 0 runs on this goroutine: its forward pass is the step's forward
		// time, the rest of the wave (its backward pass and the wait for the other
		// replicas) the backward time.
		end := s.phase("forward", &acc.Forward)
		results[w] = reps[0].run(step, wave[0], func() {
			end()
			end = s.phase("backward", &acc.Backward)
		})
		finished()
		wg.Wait()
		end()
		for _, r := range results[w : w+len(wave)] {
			if r.err != nil {
				return
			}
		}
	}
}

// sumReplicaGrads adds the gradients of reps (replicas 1, 2, …) into the model's,
// replica by replica in order: the same sums whatever the thread count (ops.Add splits
// a long gradient over the threads value by value).
func (s *Stepper) sumReplicaGrads(reps []*replica) {
	for i, p := range s.params {
		if p.Frozen() {
			continue
		}
		for _, r := range reps {
			g := r.m.Params()[i].Grad
			ops.Add(p.Grad, p.Grad, g)
		}
	}
}

// ThreadsPerReplica is how many kernel threads each of replicas model replicas
// (train.replicas) uses when a step has threads: an equal share, at least 1.
func ThreadsPerReplica(threads, replicas int) int { return max(1, threads/max(replicas, 1)) }

// splitBatch cuts b into n near-equal contiguous parts (empty ones left out), numbered
// from 0, each weighted by its share of b's loss normaliser (model.LossNorm).
func splitBatch(m *model.Model, b *model.Batch, n int) []Part {
	total := m.LossNorm(b)
	var parts []Part
	for i := range n {
		lo, hi := split(b.Size, n, i)
		if lo == hi {
			continue
		}
		p := Part{Batch: b.Slice(lo, hi), Weight: 1, Index: len(parts)}
		if total > 0 {
			p.Weight = m.LossNorm(p.Batch) / total
		}
		parts = append(parts, p)
	}
	return parts
}
