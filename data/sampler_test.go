package data

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// synthTasks returns tasks whose examples are identified by "task/index".
func synthTasks(sizes map[string]int, order ...string) []TaskData {
	var tasks []TaskData
	for _, name := range order {
		td := TaskData{Name: name}
		for i := range sizes[name] {
			td.Examples = append(td.Examples, Example{Task: name, Index: i, Inputs: fmt.Sprintf("%s/%d", name, i)})
		}
		tasks = append(tasks, td)
	}
	return tasks
}

func ids(exs []Example) []string {
	out := make([]string, len(exs))
	for i, e := range exs {
		out[i] = e.Inputs
	}
	return out
}

func newTestSampler(t *testing.T, seed uint64) *Sampler {
	t.Helper()
	tasks := synthTasks(map[string]int{"a": 7, "b": 30, "c": 3}, "a", "b", "c")
	s, err := NewMixtureSampler(tasks, MixtureSpec{Kind: MixTemperature, Temperature: 2, Cap: 20}, seed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSamplerDeterministic(t *testing.T) {
	a := ids(newTestSampler(t, 42).NextBatch(500))
	b := ids(newTestSampler(t, 42).NextBatch(500))
	if !slices.Equal(a, b) {
		t.Fatal("two samplers with the same seed differ")
	}
	c := ids(newTestSampler(t, 43).NextBatch(500))
	if slices.Equal(a, c) {
		t.Fatal("samplers with different seeds give the same stream")
	}
	// Batches mixes tasks, and gives the same stream as NextBatch.
	var fromIter []string
	mixed := false
	for batch := range newTestSampler(t, 42).Batches(50) {
		tasks := map[string]bool{}
		for _, e := range batch {
			tasks[e.Task] = true
		}
		mixed = mixed || len(tasks) > 1
		fromIter = append(fromIter, ids(batch)...)
		if len(fromIter) == 500 {
			break
		}
	}
	if !slices.Equal(a, fromIter) {
		t.Error("Batches and NextBatch give different streams")
	}
	if !mixed {
		t.Error("no batch mixes tasks")
	}
}

// TestSamplerEpochs checks that every epoch of a task visits each example exactly once,
// in a different order each epoch.
func TestSamplerEpochs(t *testing.T) {
	tasks := synthTasks(map[string]int{"x": 10, "y": 10}, "x", "y")
	s, err := NewSampler(tasks, []float64{1, 1}, 7)
	if err != nil {
		t.Fatal(err)
	}
	var epochs [][]string
	var cur []string
	for len(epochs) < 5 {
		e := s.Next()
		if e.Task != "x" {
			continue
		}
		if e.Epoch != uint64(len(epochs)) {
			t.Fatalf("an example of pass %d says Epoch %d", len(epochs), e.Epoch)
		}
		cur = append(cur, e.Inputs)
		if len(cur) == 10 {
			epochs = append(epochs, cur)
			cur = nil
		}
	}
	want := ids(tasks[0].Examples)
	for i, ep := range epochs {
		sorted := slices.Clone(ep)
		slices.SortFunc(sorted, func(a, b string) int { return strings.Compare(a, b) })
		wantSorted := slices.Clone(want)
		slices.Sort(wantSorted)
		if !slices.Equal(sorted, wantSorted) {
			t.Fatalf("epoch %d does not visit every example once: %v", i, ep)
		}
		if i > 0 && slices.Equal(ep, epochs[i-1]) {
			t.Errorf("epoch %d has the same order as epoch %d", i, i-1)
		}
	}
	if slices.Equal(epochs[0], want) {
		t.Error("the first epoch is not shuffled")
	}
}

// TestSamplerFrequencies checks that the draws follow the rates.
func TestSamplerFrequencies(t *testing.T) {
	s := newTestSampler(t, 1)
	rates := s.Rates()
	const n = 40000
	counts := map[string]int{}
	for range n {
		counts[s.Next().Task]++
	}
	for i, name := range []string{"a", "b", "c"} {
		got := float64(counts[name]) / n
		// binomial standard deviation is at most 0.0025; allow 5 of them
		if math.Abs(got-rates[i]) > 0.0125 {
			t.Errorf("task %s drawn %.4f of the time, rate %.4f", name, got, rates[i])
		}
	}
}

// TestSamplerResume checks that a sampler restored from a saved state (through JSON)
// yields exactly the batches an uninterrupted one does.
func TestSamplerResume(t *testing.T) {
	for _, stop := range []int{0, 1, 3, 17} {
		t.Run(fmt.Sprint(stop), func(t *testing.T) {
			full := newTestSampler(t, 99)
			var want [][]string
			for range stop + 10 {
				want = append(want, ids(full.NextBatch(8)))
			}

			first := newTestSampler(t, 99)
			for range stop {
				first.NextBatch(8)
			}
			saved, err := json.Marshal(first.State())
			if err != nil {
				t.Fatal(err)
			}
			var st SamplerState
			if err := json.Unmarshal(saved, &st); err != nil {
				t.Fatal(err)
			}
			resumed := newTestSampler(t, 99)
			if err := resumed.Restore(st); err != nil {
				t.Fatal(err)
			}
			for i := stop; i < stop+10; i++ {
				if got := ids(resumed.NextBatch(8)); !slices.Equal(got, want[i]) {
					t.Fatalf("batch %d after resuming at %d: %v, want %v", i, stop, got, want[i])
				}
			}
		})
	}
}

func TestSamplerRestoreErrors(t *testing.T) {
	s := newTestSampler(t, 5)
	s.NextBatch(10)
	good := s.State()
	tests := []struct {
		name   string
		modify func(*SamplerState)
		want   string
	}{
		{"seed", func(st *SamplerState) { st.Seed = 6 }, "saved with seed 6"},
		{"tasks", func(st *SamplerState) { st.Tasks = st.Tasks[:2] }, "has 2 tasks"},
		{"name", func(st *SamplerState) { st.Tasks[0].Name = "z" }, `task "z" at position 0`},
		{"size", func(st *SamplerState) { st.Tasks[1].Size = 31 }, "has 31 examples of task"},
		{"rate", func(st *SamplerState) { st.Tasks[2].Rate = 0.5 }, "rate 0.5"},
		{"pos", func(st *SamplerState) { st.Tasks[2].Pos = 3 }, "state is corrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := good
			st.Tasks = slices.Clone(good.Tasks)
			tt.modify(&st)
			fresh := newTestSampler(t, 5)
			before := fresh.State()
			err := fresh.Restore(st)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if after := fresh.State(); after.Step != before.Step || !slices.Equal(after.Tasks, before.Tasks) {
				t.Error("a failed Restore changed the sampler")
			}
		})
	}
}

func TestNewSamplerErrors(t *testing.T) {
	two := synthTasks(map[string]int{"a": 2, "b": 2}, "a", "b")
	tests := []struct {
		name  string
		tasks []TaskData
		rates []float64
		want  string
	}{
		{"none", nil, nil, "no tasks"},
		{"rate count", two, []float64{1}, "1 rates for 2 tasks"},
		{"duplicate", []TaskData{two[0], two[0]}, []float64{1, 1}, `task "a" given twice`},
		{"empty", []TaskData{two[0], {Name: "e"}}, []float64{1, 1}, `task "e" has no examples`},
		{"unnamed", []TaskData{{Examples: two[0].Examples}}, []float64{1}, "task 0 has no name"},
		{"zero rate", two, []float64{1, 0}, "rate 0"},
		{"nan rate", two, []float64{1, math.NaN()}, "rate NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSampler(tt.tasks, tt.rates, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestSamplerStream pins the first draws of a fixed seed, so that a change to the
// generator, which would break resuming runs saved by an older build, is noticed.
func TestSamplerStream(t *testing.T) {
	tasks := synthTasks(map[string]int{"a": 5, "b": 5}, "a", "b")
	s, err := NewSampler(tasks, []float64{1, 1}, 2024)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(ids(s.NextBatch(12)), " ")
	const want = "b/0 a/0 b/3 a/1 b/4 b/1 b/2 b/4 b/3 a/3 a/4 b/1"
	if got != want {
		t.Errorf("stream of seed 2024:\n got %s\nwant %s", got, want)
	}
}

func TestInOrder(t *testing.T) {
	exs := synthTasks(map[string]int{"a": 7}, "a")[0].Examples
	var sizes []int
	var all []string
	for b := range InOrder(exs, 3) {
		sizes = append(sizes, len(b))
		all = append(all, ids(b)...)
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) || !slices.Equal(all, ids(exs)) {
		t.Errorf("batch sizes %v, examples %v", sizes, all)
	}
	for range InOrder(exs, 3) {
		break // stopping early must not panic
	}
}
