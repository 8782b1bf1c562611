package recipe

import (
	"math"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/optim"
)

// adamwFor wraps a model's parameters for AdamW; the model's NoDecay flags carry over.
func adamwFor(t *testing.T, ps []*autograd.Param, cfg optim.AdamWConfig) *optim.AdamW {
	t.Helper()
	params := make([]optim.Param, len(ps))
	for i, p := range ps {
		params[i] = optim.Param{Name: p.Name, Value: p.Data, Grad: p.Grad, NoDecay: p.NoDecay}
	}
	o, err := optim.NewAdamW(cfg, params)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// overfitBatch is a fixed tiny batch: four examples of up to 8 input tokens with up
// to 6 target tokens each (padded with 0), ids inside t5-mini's vocabulary. Two
// examples share their first input tokens but not their targets.
func overfitBatch(vocab int) *model.Batch {
	in := []int32{
		11, 523, 87, 1999, 42, 7, 318, 1,
		12, 640, 91, 2500, 43, 8, 777, 1,
		11, 523, 87, 5, 6, 1, 0, 0,
		13, 3000, 1, 0, 0, 0, 0, 0,
	}
	tgt := []int32{
		301, 17, 905, 1, 0, 0,
		77, 4001, 23, 64, 5, 1,
		902, 17, 1, 0, 0, 0,
		6, 6, 7001, 7001, 1, 0,
	}
	for i := range in {
		in[i] %= int32(vocab)
	}
	for i := range tgt {
		tgt[i] %= int32(vocab)
	}
	return &model.Batch{Size: 4, Inputs: in, InputLen: 8, Targets: tgt, TargetLen: 6}
}

// overfit trains the recipe's model on the fixed batch with AdamW until the loss falls
// below goal, and returns the losses seen.
func overfit(t *testing.T, path string, maxSteps int, goal float64) []float64 {
	t.Helper()
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Build(7)
	if err != nil {
		t.Fatal(err)
	}
	opt := adamwFor(t, m.Params(), optim.AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0})
	batch := overfitBatch(r.Model.Vocab)
	tape := autograd.NewTape()
	var losses []float64
	start := time.Now()
	for step := range maxSteps {
		tape.Reset()
		// Dropout off: the test checks that the whole model can fit the batch, and
		// dropout's noise keeps a loss measured with it well above the goal.
		loss, err := m.Loss(tape, batch, model.Options{})
		if err != nil {
			t.Fatal(err)
		}
		l := float64(loss.Data[0])
		losses = append(losses, l)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			t.Fatalf("step %d: loss is %v", step, l)
		}
		if l < goal {
			break
		}
		m.ZeroGrad()
		tape.Backward(loss)
		opt.Step(overfitLR)
	}
	t.Logf("%s: %d steps, %.1f ms/step, loss %.4f -> %.4f", path, len(losses),
		float64(time.Since(start).Milliseconds())/float64(len(losses)), losses[0], losses[len(losses)-1])
	return losses
}

// TestShippedRecipesOverfitTinyBatch trains the full t5-mini and t5-mini-hypergrid
// architectures (no overrides) on a fixed batch of four short examples; each must fit
// it (loss < 0.05) within 300 AdamW steps. It takes about 10 s with the generic
// kernels (≈ 0.12 s a step), so -short skips it.
func TestShippedRecipesOverfitTinyBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two 13.5M-parameter models for ~100 steps; run without -short")
	}
	for _, name := range []string{"t5-mini", "t5-mini-hypergrid"} {
		t.Run(name, func(t *testing.T) {
			losses := overfit(t, "../recipes/"+name+".yaml", 300, 0.05)
			if last := losses[len(losses)-1]; last >= 0.05 {
				t.Errorf("loss %.4f after %d steps, want < 0.05", last, len(losses))
			}
		})
	}
}

// overfitLR is the learning rate of the overfitting test: constant, no warm-up. At
// 1e-3 Adam's first steps overshoot and the loss hovers around 0.1 for hundreds of
// steps; 3e-4 reaches the goal in well under 100 steps on both recipes.
const overfitLR = 3e-4
