package job

import (
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/recipe"
)

// The training estimate counts the activations of one micro-batch: train.grad_accum 4
// of batch 32 needs the activations of batch 8, and the rest is unchanged.
func TestEstimateMemoryUsesTheMicroBatch(t *testing.T) {
	est := func(sets ...string) int64 { return trainingEstimate(t, sets...).ActivationBytes }
	for _, tc := range []struct {
		sets []string
		same []string
	}{
		{[]string{"train.batch_size=32", "train.grad_accum=4"}, []string{"train.batch_size=8"}},
		{[]string{"train.batch_size=30", "train.grad_accum=4"}, []string{"train.batch_size=8"}}, // 8+8+7+7
		{[]string{"train.batch_size=32", "train.grad_accum=1"}, []string{"train.batch_size=32"}},
	} {
		if got, want := est(tc.sets...), est(tc.same...); got != want {
			t.Errorf("%s: activations %d bytes, want %d (as %s)", strings.Join(tc.sets, " "), got, want, strings.Join(tc.same, " "))
		}
	}
	if est("train.batch_size=32", "train.grad_accum=4") >= est("train.batch_size=32") {
		t.Error("grad_accum does not lower the estimate")
	}
}

// RanksChange says nothing when the rank count is the run's, and what changes when not.
func TestRanksChange(t *testing.T) {
	for _, tc := range []struct {
		was, now int
		want     string
	}{
		{0, 1, ""}, {1, 1, ""}, {2, 2, ""},
		{2, 4, "the run trained on 2 rank(s) and resumes on 4"},
		{0, 2, "the run trained on 1 rank(s) and resumes on 2"},
	} {
		got := RanksChange(Info{Ranks: tc.was}, tc.now)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("RanksChange(%d, %d) = %q, want %q", tc.was, tc.now, got, tc.want)
		}
	}
}

// Model replicas (train.replicas) cut the micro-batch into parts that run at once, and
// each holds gradients of its own: batch 32 on 4 replicas keeps 4 parts of 8 examples'
// activations (as batch 32 does, to rounding) and 4 copies of the gradients.
func TestEstimateMemoryCountsReplicas(t *testing.T) {
	est := func(sets ...string) model.Estimate { return trainingEstimate(t, sets...) }
	one, part, reps := est("train.batch_size=32"), est("train.batch_size=8"), est("train.batch_size=32", "train.replicas=4")
	if reps.GradBytes != 4*one.GradBytes || reps.ActivationBytes != 4*part.ActivationBytes || reps.ParamBytes != one.ParamBytes {
		t.Errorf("4 replicas: %s; want 4× the gradients of %s and 4× the activations of %s", Describe(reps), Describe(one), Describe(part))
	}
	if want := reps.ParamBytes + reps.GradBytes + reps.OptimizerBytes + reps.ActivationBytes + reps.RuntimeBytes; reps.Total != want {
		t.Errorf("total %d, want the parts' sum %d", reps.Total, want)
	}
}

// trainingEstimate is EstimateMemory's training estimate of the tiny recipe with the
// --set values sets.
func trainingEstimate(t *testing.T, sets ...string) model.Estimate {
	t.Helper()
	r, err := recipe.Loader{Sets: sets}.Parse("tiny.yaml", []byte(tiny))
	if err != nil {
		t.Fatal(err)
	}
	e, ok, err := EstimateMemory(r, true)
	if err != nil || !ok {
		t.Fatalf("EstimateMemory(%v): %v, %v", sets, ok, err)
	}
	return e
}
