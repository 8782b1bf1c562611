package dist

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// NewLocal returns the communicators of a job of n ranks that are goroutines of this
// process (n from 1 to MaxLocal), for tests of distributed code without MPI: rank i is
// the i-th Comm, and each must be used by its own goroutine. Sums are taken in rank
// order, so they are the same on every rank. A collective that waits longer than
// timeout for the other ranks returns an Error naming the rank and the call; Abort
// exits the process.
func NewLocal(n int, timeout time.Duration) ([]Comm, error) {
	if n < 1 || n > MaxLocal {
		return nil, fmt.Errorf("dist: %d local ranks; want 1 to %d", n, MaxLocal)
	}
	g := &localGroup{n: n, timeout: timeout, slots: make([]any, n)}
	g.cond = sync.NewCond(&g.mu)
	cs := make([]Comm, n)
	for i := range cs {
		cs[i] = &localComm{g: g, rank: i}
	}
	return cs, nil
}

// MaxLocal bounds NewLocal's rank count.
const MaxLocal = 256

type localGroup struct {
	n       int
	timeout time.Duration
	mu      sync.Mutex
	cond    *sync.Cond
	arrived int
	gen     uint64
	slots   []any
	failed  error
}

// barrier waits until all n ranks have arrived (or the timeout passes).
func (g *localGroup) barrier(rank int, call string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failed != nil {
		return g.failed
	}
	gen := g.gen
	g.arrived++
	if g.arrived == g.n {
		g.arrived = 0
		g.gen++
		g.cond.Broadcast()
		return nil
	}
	timer := time.AfterFunc(g.timeout, func() {
		g.mu.Lock()
		if g.gen == gen && g.failed == nil {
			g.failed = &Error{Rank: rank, Call: call, Msg: fmt.Sprintf("the other ranks did not join in %v", g.timeout)}
		}
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	defer timer.Stop()
	for g.gen == gen && g.failed == nil {
		g.cond.Wait()
	}
	if g.gen == gen {
		return g.failed
	}
	return nil
}

type localComm struct {
	g    *localGroup
	rank int
}

func (c *localComm) Rank() int { return c.rank }
func (c *localComm) Size() int { return c.g.n }

// exchange runs one collective: every rank puts its buffer in its slot; after a
// barrier, compute (reading every slot, writing nothing shared) gives this rank's
// result, which apply writes after a second barrier.
func (c *localComm) exchange(call string, mine any, compute func(slots []any) (func(), error)) error {
	g := c.g
	g.mu.Lock()
	g.slots[c.rank] = mine
	g.mu.Unlock()
	if err := g.barrier(c.rank, call); err != nil {
		return err
	}
	apply, cerr := compute(g.slots)
	if err := g.barrier(c.rank, call); err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}
	apply()
	return nil
}

func sumInto[T float32 | float64](rank int, call string, buf []T) func(slots []any) (func(), error) {
	return func(slots []any) (func(), error) {
		out := make([]T, len(buf))
		for r, s := range slots {
			other := s.([]T)
			if len(other) != len(buf) {
				return nil, &Error{Rank: rank, Call: call, Msg: fmt.Sprintf("%d values here, %d on rank %d", len(buf), len(other), r)}
			}
			for i, v := range other {
				out[i] += v
			}
		}
		return func() { copy(buf, out) }, nil
	}
}

func (c *localComm) AllreduceSum(buf []float32) error {
	return c.exchange("MPI_Allreduce", buf, sumInto(c.rank, "MPI_Allreduce", buf))
}

func (c *localComm) AllreduceSum64(buf []float64) error {
	return c.exchange("MPI_Allreduce", buf, sumInto(c.rank, "MPI_Allreduce", buf))
}

func (c *localComm) checkRoot(root int) error {
	if root < 0 || root >= c.g.n {
		return &Error{Rank: c.rank, Call: "MPI_Bcast", Msg: fmt.Sprintf("root rank %d of a job of %d ranks", root, c.g.n)}
	}
	return nil
}

func bcast[T any](c *localComm, buf []T, root int) error {
	if err := c.checkRoot(root); err != nil {
		return err
	}
	return c.exchange("MPI_Bcast", buf, func(slots []any) (func(), error) {
		src := slots[root].([]T)
		if len(src) != len(buf) {
			return nil, &Error{Rank: c.rank, Call: "MPI_Bcast", Msg: fmt.Sprintf("%d values here, %d on root rank %d", len(buf), len(src), root)}
		}
		out := append([]T(nil), src...)
		return func() { copy(buf, out) }, nil
	})
}

func (c *localComm) Broadcast(buf []float32, root int) error { return bcast(c, buf, root) }

func (c *localComm) BroadcastBytes(buf []byte, root int) error { return bcast(c, buf, root) }

func (c *localComm) Barrier() error { return c.g.barrier(c.rank, "MPI_Barrier") }

func (c *localComm) Abort(code int) { os.Exit(code) }

func (c *localComm) Close() error { return nil }
