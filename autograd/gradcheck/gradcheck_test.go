package gradcheck_test

import (
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/autograd/gradcheck"
)

func TestCheck(t *testing.T) {
	x := gradcheck.Random("x", 1, 1, 3, 4)
	w := gradcheck.Weights(12, 2)
	wrong := gradcheck.Weights(12, 3)
	tests := []struct {
		name string
		loss gradcheck.Loss
		ok   bool
	}{
		{"consistent", func(t *autograd.Tape) *autograd.Tensor {
			return t.WeightedSum(t.GELU(&x.Tensor), w)
		}, true},
		// The recorded pass weighs the outputs differently from the numeric passes, so
		// its gradient is wrong and the check must say so.
		{"inconsistent", func(t *autograd.Tape) *autograd.Tensor {
			if t.Recording() {
				return t.WeightedSum(t.GELU(&x.Tensor), wrong)
			}
			return t.WeightedSum(t.GELU(&x.Tensor), w)
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := gradcheck.Check(tc.loss, []*autograd.Param{x}, gradcheck.Options{MaxPerParam: -1})
			if (err == nil) != tc.ok {
				t.Fatalf("Check = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "x[") {
				t.Errorf("error %q does not name the parameter", err)
			}
		})
	}
}
