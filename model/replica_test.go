package model_test

import (
	"math"
	"slices"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/model"
)

// A replica computes the model's loss bit for bit, on the model's own values (not a
// copy: an update of the model's values is the replica's), and its backward pass adds
// into its own gradients only; Share carries frozen flags over.
func TestReplicaSharesValuesOwnsGrads(t *testing.T) {
	m, err := model.New(tinySpec(tinyGrid()), 3)
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Replica()
	if err != nil {
		t.Fatal(err)
	}
	b := tinyBatch()
	loss := func(m *model.Model) (float32, []float32) {
		tape := autograd.NewTape()
		l, err := m.Loss(tape, b, model.Options{Train: true})
		if err != nil {
			t.Fatal(err)
		}
		m.ZeroGrad()
		tape.Backward(l)
		var grads []float32
		for _, p := range m.Params() {
			grads = append(grads, p.Grad...)
		}
		return l.Data[0], grads
	}
	lm, gm := loss(m)
	m.ZeroGrad()
	lr, gr := loss(r)
	if math.Float32bits(lm) != math.Float32bits(lr) || !slices.Equal(gm, gr) {
		t.Fatalf("replica's loss %v (or gradients) differ from the model's %v", lr, lm)
	}
	for i, p := range m.Params() {
		if slices.ContainsFunc(p.Grad, func(g float32) bool { return g != 0 }) {
			t.Fatalf("the replica's pass wrote into the model's gradient of %s", p.Name)
		}
		if &p.Data[0] != &r.Params()[i].Data[0] {
			t.Fatalf("%s: the replica holds a copy of the model's values", p.Name)
		}
	}
	m.Params()[1].SetFrozen(true)
	if err := r.Share(m); err != nil {
		t.Fatal(err)
	}
	if !r.Params()[1].Frozen() || r.Params()[0].Frozen() {
		t.Error("Share did not carry the frozen flags over")
	}
	other := tinySpec(tinyGrid())
	other.DModel = 32
	o, err := model.New(other, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Share(m); err == nil {
		t.Error("Share accepted a model of another shape")
	}
}

func TestBatchSlice(t *testing.T) {
	b := tinyBatch()
	b.Labels, b.Values = []int32{0, 1, 2, 3}, []float32{0.5, 1.5, 2.5, 3.5}
	s := b.Slice(1, 3)
	if s.Size != 2 || !slices.Equal(s.Inputs, b.Inputs[6:18]) || !slices.Equal(s.Targets, b.Targets[3:9]) ||
		!slices.Equal(s.Tasks, []int32{1, 0}) || !slices.Equal(s.Labels, []int32{1, 2}) || !slices.Equal(s.Values, []float32{1.5, 2.5}) {
		t.Fatalf("Slice(1, 3) = %+v", s)
	}
	if e := b.Slice(4, 4); e.Size != 0 || len(e.Inputs) != 0 {
		t.Fatalf("Slice(4, 4) = %+v", e)
	}
	defer func() {
		if recover() == nil {
			t.Error("Slice(3, 5) of 4 examples did not panic")
		}
	}()
	b.Slice(3, 5)
}

// LossNorm counts a t5 batch's non-padding targets and an encoder batch's examples.
func TestLossNorm(t *testing.T) {
	m, err := model.New(tinySpec(tinyGrid()), 3)
	if err != nil {
		t.Fatal(err)
	}
	b := tinyBatch()
	if got := m.LossNorm(b); got != 11 {
		t.Errorf("t5 LossNorm = %v, want 11 (non-padding targets)", got)
	}
	if got := m.LossNorm(b.Slice(1, 2)); got != 2 {
		t.Errorf("t5 LossNorm of example 1 = %v, want 2", got)
	}
	e, err := model.New(encoderSpec(tinyGrid()), 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.LossNorm(encoderBatch()); got != 4 {
		t.Errorf("encoder LossNorm = %v, want 4 (examples)", got)
	}
}
