package model_test

import (
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/ops"
)

// sub returns the examples idx of b as a batch of their own (inputs and tasks).
func sub(b *model.Batch, idx []int) *model.Batch {
	s := &model.Batch{Size: len(idx), InputLen: b.InputLen}
	for _, e := range idx {
		s.Inputs = append(s.Inputs, b.Inputs[e*b.InputLen:(e+1)*b.InputLen]...)
		s.Tasks = append(s.Tasks, b.Tasks[e])
	}
	return s
}

// A mixed batch, each example with its own candidate set (of different sizes and
// lengths), scores every example exactly as a batch of its own set does, whether the
// passes decode every example or only those left.
func TestScoreCandidateSetsEqualsPerSet(t *testing.T) {
	sets := [][][]int32{
		{{5, 1}, {6, 1}},              // two one-word labels
		{{14, 4, 1}, {15, 1}, {9, 1}}, // three, of different lengths
	}
	for _, tc := range []struct {
		name string
		ffn  layers.FFNBuilder
	}{{"dense", layers.DefaultGLUConfig()}, {"hypergrid", tinyGrid()}} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := model.New(tinySpec(tc.ffn), 3)
			if err != nil {
				t.Fatal(err)
			}
			b := tinyBatch()
			b.Targets = nil
			// Half the examples with a third candidate (the passes decode all), and
			// fewer (the third pass decodes that one alone).
			for _, setOf := range [][]int{{0, 1, 1, 0}, {0, 0, 1, 0}} {
				tape := autograd.NewTape()
				got, err := m.ScoreCandidateSets(tape, b, sets, setOf)
				if err != nil {
					t.Fatal(err)
				}
				for k, set := range sets {
					var idx []int
					for e, s := range setOf {
						if s == k {
							idx = append(idx, e)
						}
					}
					tape.Reset()
					want, err := m.ScoreCandidates(tape, sub(b, idx), set)
					if err != nil {
						t.Fatal(err)
					}
					for j, e := range idx {
						if len(got[e]) != len(set) {
							t.Fatalf("example %d: %d scores for %d candidates", e, len(got[e]), len(set))
						}
						for c := range set {
							if got[e][c] != want[j][c] {
								t.Errorf("example %d (set %d) candidate %d: mixed %v, alone %v", e, k, c, got[e][c], want[j][c])
							}
							if got[e][c] >= 0 {
								t.Errorf("example %d candidate %d: log-likelihood %v >= 0", e, c, got[e][c])
							}
						}
					}
				}
			}
		})
	}
}

func TestScoreCandidateSetsErrors(t *testing.T) {
	m, err := model.New(tinySpec(tinyGrid()), 3)
	if err != nil {
		t.Fatal(err)
	}
	b := tinyBatch()
	b.Targets = nil
	ok := [][]int32{{5, 1}}
	for _, tc := range []struct {
		name  string
		sets  [][][]int32
		setOf []int
	}{
		{"set indices of another batch", [][][]int32{ok}, []int{0, 0}},
		{"set out of range", [][][]int32{ok}, []int{0, 1, 0, 0}},
		{"negative set", [][][]int32{ok}, []int{0, -1, 0, 0}},
		{"empty set", [][][]int32{ok, {}}, []int{0, 0, 0, 0}},
		{"padding id", [][][]int32{ok, {{5, 0, 1}}}, []int{0, 0, 0, 1}},
		{"id beyond the vocabulary", [][][]int32{{{16}}}, []int{0, 0, 0, 0}},
	} {
		if _, err := m.ScoreCandidateSets(autograd.NewTape(), b, tc.sets, tc.setOf); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// Scoring several candidates projects the encoder's output into the cross-attentions'
// keys and values once, not once per candidate (the products of that shape are as
// many as for one candidate), and each candidate's score is the one it gets scored
// alone, bit for bit.
func TestScoreCandidatesProjectsMemoryOnce(t *testing.T) {
	m, err := model.New(tinySpec(tinyGrid()), 3)
	if err != nil {
		t.Fatal(err)
	}
	b := tinyBatch()
	b.Targets = nil
	cands := [][]int32{{5, 1}, {14, 4, 1}, {6}}
	memShape := func() int64 { // products with the encoder output's rows as A
		var n int64
		for _, s := range ops.ProfileShapes() {
			if s.Op == "Gemm" && s.M == b.Size*b.InputLen && !s.TransA {
				n += s.Calls
			}
		}
		return n
	}
	ops.StartProfile()
	all, err := m.ScoreCandidates(autograd.NewTape(), b, cands)
	withAll := memShape()
	ops.StopProfile()
	if err != nil {
		t.Fatal(err)
	}
	ops.StartProfile()
	one, err := m.ScoreCandidates(autograd.NewTape(), b, cands[:1])
	withOne := memShape()
	ops.StopProfile()
	if err != nil {
		t.Fatal(err)
	}
	if withAll != withOne {
		t.Errorf("%d products over the encoder's rows for %d candidates, %d for one: want the same", withAll, len(cands), withOne)
	}
	for c, cand := range cands {
		if c > 0 {
			if one, err = m.ScoreCandidates(autograd.NewTape(), b, [][]int32{cand}); err != nil {
				t.Fatal(err)
			}
		}
		for e := range all {
			if all[e][c] != one[e][0] {
				t.Errorf("example %d candidate %d: %v among all, %v alone", e, c, all[e][c], one[e][0])
			}
		}
	}
}
