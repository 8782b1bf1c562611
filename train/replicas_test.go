package train_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/train"
)

// TestReplicasMatchFullBatch: batch 8 on 2 and 3 model replicas (uneven: 3), and on 2
// replicas of each of 2 micro-batches, gives the losses of one model on the unsplit
// batch within lossTolerance, and the same evaluation.
func TestReplicasMatchFullBatch(t *testing.T) {
	defer ops.SetThreads(ops.SetThreads(2))
	sets, cases := []string{"train.steps=15", "train.eval_limit=16"}, [][]string{
		{"train.replicas=2"}, {"train.replicas=3"}, {"train.replicas=2", "train.grad_accum=2"}}
	if testing.Short() { // qemu, race, purego: fewer steps, one split
		sets, cases = []string{"train.steps=4", "train.eval_limit=8"}, cases[2:]
	}
	full, err := newTiny(t, nil, sets...).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(strings.Join(c, ","), func(t *testing.T) {
			res, err := newTiny(t, nil, append(sets, c...)...).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			closeLosses(t, strings.Join(c, ","), res.Losses, full.Losses, lossTolerance)
			sameEval(t, res, full)
		})
	}
}

// TestReplicasSameAtAnyThreadCount: a run's numbers depend on train.replicas, not on
// the thread count: 2 replicas (with dropout) give the same losses, bit for bit, on 1,
// 2 and 4 kernel threads — and not those of one model (the second replica's part draws
// dropout masks of its own).
func TestReplicasSameAtAnyThreadCount(t *testing.T) {
	sets, threadCounts := []string{"model.dropout=0.1", "train.steps=6", "train.eval_limit=8"}, []int{1, 2, 4}
	if testing.Short() { // qemu, race, purego
		sets, threadCounts = []string{"model.dropout=0.1", "train.steps=3", "train.eval_limit=4"}, []int{1, 2}
	}
	one, err := newTiny(t, nil, sets...).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sets = append(sets, "train.replicas=2")
	var want []float64
	for _, threads := range threadCounts {
		func() {
			defer ops.SetThreads(ops.SetThreads(threads))
			res, err := newTiny(t, nil, sets...).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = res.Losses
				if math.Float64bits(want[0]) == math.Float64bits(one.Losses[0]) {
					t.Fatalf("2 replicas: the first loss is one model's (%v): was the batch split?", want[0])
				}
				return
			}
			for i := range want {
				if math.Float64bits(res.Losses[i]) != math.Float64bits(want[i]) {
					t.Fatalf("%d threads, step %d: loss %v; on 1 thread %v", threads, i+1, res.Losses[i], want[i])
				}
			}
		}()
	}
}

func TestReplicasValidate(t *testing.T) {
	for _, tc := range []struct {
		replicas, accum, batch int
		want                   string
	}{
		{0, 1, 8, ""},
		{1, 1, 8, ""},
		{8, 1, 8, ""},
		{4, 2, 8, ""},
		{9, 1, 8, "replicas: is 9, and grad_accum 1: 9 parts of a batch of 8 examples"},
		{4, 3, 8, "replicas: is 4, and grad_accum 3: 12 parts"},
		{-1, 1, 8, "replicas: is -1; want 1 (one model) up to 256"},
		{train.MaxReplicas + 1, 1, train.MaxBatchSize, "up to 256 replicas"},
	} {
		c := train.DefaultConfig()
		c.Replicas, c.GradAccum, c.BatchSize = tc.replicas, tc.accum, tc.batch
		var got string
		for _, err := range c.Validate() {
			got += err.Error()
		}
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q; want %q", fmt.Sprintf("replicas %d, grad_accum %d, batch %d", tc.replicas, tc.accum, tc.batch), got, tc.want)
		}
	}
}
