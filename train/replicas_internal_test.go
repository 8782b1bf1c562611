package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/ops"
)

// replicaTestModel is a small HyperGrid T5 with dropout, and a batch of 7 examples
// of two tasks with padded targets.
func replicaTestModel(t *testing.T) (*model.Model, *model.Batch) {
	t.Helper()
	s := model.DefaultSpec()
	s.Vocab, s.DModel, s.Heads, s.DKV, s.EncoderLayers, s.DecoderLayers = 40, 16, 2, 8, 1, 1
	s.RelativeAttention = model.RelativeAttention{Buckets: 8, MaxDistance: 16}
	s.Tasks = []model.TaskSpec{{Name: "a"}, {Name: "b"}}
	g := hyper.DefaultGridConfig()
	g.DFF, g.Grid = 32, hyper.Grid{Rows: 4, Cols: 4}
	s.FFN = g
	m, err := model.New(s, 5)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b := &model.Batch{Size: 7, InputLen: 9, TargetLen: 4, Inputs: make([]int32, 63), Targets: make([]int32, 28), Tasks: make([]int32, 7)}
	for i := range b.Inputs {
		b.Inputs[i] = 1 + rng.Int32N(39)
	}
	for i := range b.Targets {
		if i%4 < 1+i/4%4 { // 1 to 4 targets, then padding
			b.Targets[i] = 1 + rng.Int32N(39)
		}
	}
	for i := range b.Tasks {
		b.Tasks[i] = int32(i % 2)
	}
	return m, b
}

// With 3 replicas a step's gradient is exactly each part's gradient (its own dropout
// stream, its loss weighted by its share of the targets), computed alone from zero,
// added in part order; its loss the parts' weighted losses summed in order. At 1 and
// 2 threads alike.
func TestReplicaGradsSumThePartsInOrder(t *testing.T) {
	for _, threads := range []int{1, 2} {
		func() {
			defer ops.SetThreads(ops.SetThreads(threads))
			m, b := replicaTestModel(t)
			cfg := DefaultConfig()
			cfg.Replicas, cfg.Seed = 3, 9
			s, err := NewStepper(m, cfg)
			if err != nil {
				t.Fatal(err)
			}
			parts := splitBatch(m, b, 3)
			if len(parts) != 3 || parts[2].Batch.Size != 3 {
				t.Fatalf("splitBatch: %d parts", len(parts))
			}
			loss, err := s.runParts(4, parts, &Phases{})
			if err != nil {
				t.Fatal(err)
			}
			// The reference: each part alone on a fresh replica.
			var wantLoss float64
			want := make([][]float32, len(m.Params()))
			for i, p := range parts {
				r, err := m.Replica()
				if err != nil {
					t.Fatal(err)
				}
				tape, drop := autograd.NewTape(), layers.NewDropoutSource(cfg.Seed)
				drop.SetStep(dropoutStream(4, i))
				l, err := r.Loss(tape, p.Batch, model.Options{Train: true, Dropout: drop})
				if err != nil {
					t.Fatal(err)
				}
				wantLoss += float64(l.Data[0]) * p.Weight
				tape.Backward(tape.Scale(l, float32(p.Weight)))
				for k, q := range r.Params() {
					if i == 0 {
						want[k] = append([]float32(nil), q.Grad...)
						continue
					}
					for j, g := range q.Grad {
						want[k][j] += g
					}
				}
			}
			if math.Float64bits(loss) != math.Float64bits(wantLoss) {
				t.Errorf("threads %d: loss %v, want %v", threads, loss, wantLoss)
			}
			var wsum float64
			for _, p := range parts {
				wsum += p.Weight
			}
			if math.Abs(wsum-1) > 1e-12 {
				t.Errorf("part weights sum to %v", wsum)
			}
			for k, p := range m.Params() {
				for j, g := range p.Grad {
					if math.Float32bits(g) != math.Float32bits(want[k][j]) {
						t.Fatalf("threads %d: %s gradient [%d] = %v, want %v", threads, p.Name, j, g, want[k][j])
					}
				}
			}
		}()
	}
}
