package data

import (
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"math"
	"math/bits"
)

// TaskData is the training data of one task of a mixture.
type TaskData struct {
	Name     string
	Examples []Example
}

// Sampler draws examples from a mixture of tasks, forever. Which task the n-th draw
// comes from depends only on the seed, n and the rates; each task's examples are
// visited in an order that is reshuffled every epoch, and that order depends only on
// the seed, the task's name and the epoch. So a sampler restored from a
// [SamplerState] continues exactly as the original would have. The random numbers
// come from this package's own generator (SplitMix64), so the streams do not change
// with the Go version. A Sampler is not safe for concurrent use.
type Sampler struct {
	seed  uint64
	step  uint64
	tasks []*taskCursor
	rates []float64 // normalised
	cum   []float64 // cumulative rates; the last is exactly 1
}

type taskCursor struct {
	name     string
	examples []Example
	salt     uint64 // from the name
	epoch    uint64
	pos      int
	perm     []int // visiting order of this epoch
}

// SamplerState is the position of a Sampler: save it (it marshals to JSON) with a
// checkpoint and give it to Restore to resume. It also records the seed, the tasks,
// their sizes and rates, so that resuming with other data or settings is an error
// rather than a silently different run.
type SamplerState struct {
	Seed  uint64       `json:"seed"`
	Step  uint64       `json:"step"` // examples drawn so far
	Tasks []TaskCursor `json:"tasks"`
}

// TaskCursor is the position of one task in a SamplerState.
type TaskCursor struct {
	Name  string  `json:"name"`
	Size  int     `json:"size"`
	Rate  float64 `json:"rate"`
	Epoch uint64  `json:"epoch"` // completed passes over the task's examples
	Pos   int     `json:"pos"`   // examples drawn in the current epoch
}

// NewSampler returns a sampler over tasks with the given rates (one per task, positive;
// they are normalised to sum to 1, see MixtureSpec.Rates) and seed. Task names must be
// unique and every task needs at least one example.
func NewSampler(tasks []TaskData, rates []float64, seed uint64) (*Sampler, error) {
	if len(tasks) == 0 {
		return nil, errors.New("sampler: no tasks")
	}
	if len(rates) != len(tasks) {
		return nil, fmt.Errorf("sampler: %d rates for %d tasks", len(rates), len(tasks))
	}
	s := &Sampler{seed: seed}
	seen := map[string]bool{}
	for i, t := range tasks {
		switch {
		case t.Name == "":
			return nil, fmt.Errorf("sampler: task %d has no name", i)
		case seen[t.Name]:
			return nil, fmt.Errorf("sampler: task %q given twice", t.Name)
		case len(t.Examples) == 0:
			return nil, fmt.Errorf("sampler: task %q has no examples", t.Name)
		case !(rates[i] > 0) || math.IsInf(rates[i], 0):
			return nil, fmt.Errorf("sampler: task %q has rate %v: rates must be positive and finite", t.Name, rates[i])
		}
		seen[t.Name] = true
		h := fnv.New64a()
		h.Write([]byte(t.Name))
		c := &taskCursor{name: t.Name, examples: t.Examples, salt: h.Sum64()}
		c.perm = s.permutation(c)
		s.tasks = append(s.tasks, c)
	}
	s.rates = normalize(rates)
	s.cum = make([]float64, len(rates))
	var acc float64
	for i, r := range s.rates {
		acc += r
		s.cum[i] = acc
	}
	s.cum[len(s.cum)-1] = 1
	return s, nil
}

// NewMixtureSampler returns a sampler over tasks with the rates of spec.
func NewMixtureSampler(tasks []TaskData, spec MixtureSpec, seed uint64) (*Sampler, error) {
	sizes := make([]int, len(tasks))
	for i, t := range tasks {
		sizes[i] = len(t.Examples)
	}
	rates, err := spec.Rates(sizes)
	if err != nil {
		return nil, fmt.Errorf("sampler: %w", err)
	}
	return NewSampler(tasks, rates, seed)
}

// Rates returns the normalised sampling rate of each task, in the order given.
func (s *Sampler) Rates() []float64 { return append([]float64(nil), s.rates...) }

// Next returns the next example: a copy of the task data's example with Epoch set
// (its Fields are shared with the task data: do not modify them).
func (s *Sampler) Next() Example {
	u := float64(mix64(s.seed^mix64(s.step^pickSalt))>>11) * 0x1p-53
	s.step++
	i := 0
	for i < len(s.cum)-1 && u >= s.cum[i] {
		i++
	}
	c := s.tasks[i]
	ex := c.examples[c.perm[c.pos]]
	ex.Epoch = c.epoch
	c.pos++
	if c.pos == len(c.examples) {
		c.epoch++
		c.pos = 0
		c.perm = s.permutation(c)
	}
	return ex
}

// NextBatch returns the next n examples; a batch may mix tasks (see Example.Task).
func (s *Sampler) NextBatch(n int) []Example {
	if n <= 0 {
		panic(fmt.Sprintf("data: NextBatch(%d): batch size must be positive", n))
	}
	batch := make([]Example, n)
	for i := range batch {
		batch[i] = s.Next()
	}
	return batch
}

// Batches returns an endless sequence of batches of n examples; stop ranging over it
// to stop. The sampler's State after the loop body of a batch is the position just
// after that batch.
func (s *Sampler) Batches(n int) iter.Seq[[]Example] {
	return func(yield func([]Example) bool) {
		for yield(s.NextBatch(n)) {
		}
	}
}

// State returns the sampler's position.
func (s *Sampler) State() SamplerState {
	st := SamplerState{Seed: s.seed, Step: s.step}
	for i, c := range s.tasks {
		st.Tasks = append(st.Tasks, TaskCursor{Name: c.name, Size: len(c.examples), Rate: s.rates[i], Epoch: c.epoch, Pos: c.pos})
	}
	return st
}

// Restore moves the sampler to a position returned by State of a sampler built with
// the same tasks, rates and seed. It is an error if they differ; the sampler is then
// unchanged.
func (s *Sampler) Restore(st SamplerState) error {
	if st.Seed != s.seed {
		return fmt.Errorf("sampler state was saved with seed %d, this sampler has seed %d: resume with the same seed", st.Seed, s.seed)
	}
	if len(st.Tasks) != len(s.tasks) {
		return fmt.Errorf("sampler state has %d tasks, this sampler has %d: resume with the same mixture", len(st.Tasks), len(s.tasks))
	}
	for i, tc := range st.Tasks {
		c := s.tasks[i]
		switch {
		case tc.Name != c.name:
			return fmt.Errorf("sampler state has task %q at position %d, this sampler has %q: resume with the same mixture", tc.Name, i, c.name)
		case tc.Size != len(c.examples):
			return fmt.Errorf("sampler state has %d examples of task %q, this sampler has %d: resume with the same data", tc.Size, tc.Name, len(c.examples))
		case tc.Rate != s.rates[i]:
			return fmt.Errorf("sampler state has rate %v for task %q, this sampler has %v: resume with the same mixture settings", tc.Rate, tc.Name, s.rates[i])
		case tc.Pos < 0 || tc.Pos >= tc.Size:
			return fmt.Errorf("sampler state has position %d in task %q of %d examples: the state is corrupt", tc.Pos, tc.Name, tc.Size)
		}
	}
	s.step = st.Step
	for i, tc := range st.Tasks {
		c := s.tasks[i]
		c.epoch, c.pos = tc.Epoch, tc.Pos
		c.perm = s.permutation(c)
	}
	return nil
}

// Salts that separate the random streams.
const (
	pickSalt    = 0x5851f42d4c957f2d
	shuffleSalt = 0x2545f4914f6cdd1d
)

// permutation returns the visiting order of task c in its current epoch: a
// Fisher-Yates shuffle driven by a SplitMix64 stream seeded from the seed, the task
// name and the epoch.
func (s *Sampler) permutation(c *taskCursor) []int {
	n := len(c.examples)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	state := mix64(s.seed^c.salt) ^ mix64(c.epoch^shuffleSalt)
	for i := n - 1; i > 0; i-- {
		j := boundedRand(&state, uint64(i+1))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}

// mix64 is the SplitMix64 output function.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// splitmix returns the next number of the SplitMix64 stream at *state.
func splitmix(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	return mix64(*state)
}

// boundedRand returns a uniform number in [0, n) (Lemire's method, unbiased).
func boundedRand(state *uint64, n uint64) uint64 {
	hi, lo := bits.Mul64(splitmix(state), n)
	if lo < n {
		threshold := -n % n
		for lo < threshold {
			hi, lo = bits.Mul64(splitmix(state), n)
		}
	}
	return hi
}
