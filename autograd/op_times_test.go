package autograd_test

import (
	"slices"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/autograd/gradcheck"
)

// TimeOps counts each recorded operation's forward and backward calls under its name
// (a GatedFFN with gates as GridGatedFFN), over every step until it is switched off,
// and a tape not timed counts nothing.
func TestTimeOpsCountsCalls(t *testing.T) {
	x := gradcheck.Random("x", 1, 1, 6, 4)
	w0, w1, wo := gradcheck.Random("w0", 2, 1, 4, 8), gradcheck.Random("w1", 3, 1, 4, 8), gradcheck.Random("wo", 4, 1, 8, 4)
	g := gradcheck.Random("g", 5, 1, 2, 4)
	w := gradcheck.Random("w", 6, 1, 4, 4)
	step := func(tape *autograd.Tape) {
		tape.Reset()
		h := tape.MatMul(&x.Tensor, &w.Tensor, false)
		h = tape.MatMul(h, &w.Tensor, false)
		y := tape.GatedFFN(autograd.ActGELU, h, &w0.Tensor, &w1.Tensor, &wo.Tensor)
		y = tape.GridGatedFFN(autograd.ActGELU, y, &w0.Tensor, &w1.Tensor, &wo.Tensor, &g.Tensor, 2, 2, 2)
		tape.Backward(tape.WeightedSum(y, gradcheck.Weights(y.Len(), 7)))
	}
	tape := autograd.NewTape()
	var times autograd.OpTimes
	tape.TimeOps(&times)
	step(tape)
	step(tape)
	tape.TimeOps(nil)
	step(tape)
	want := map[string]int{"MatMul": 4, "GatedFFN": 2, "GridGatedFFN": 2, "WeightedSum": 2}
	rows := times.Rows()
	if len(rows) != len(want) {
		t.Fatalf("rows %+v, want the kinds %v", rows, want)
	}
	for i, r := range rows {
		if r.Forward.Calls != want[r.Name] || r.Backward.Calls != want[r.Name] {
			t.Errorf("%s: %d forward and %d backward calls, want %d each", r.Name, r.Forward.Calls, r.Backward.Calls, want[r.Name])
		}
		if r.Forward.Wall < 0 || r.Backward.Wall < 0 || r.Forward.CPU < 0 || r.Backward.CPU < 0 {
			t.Errorf("%s: negative time %+v", r.Name, r)
		}
		if i > 0 && rows[i-1].Forward.Wall+rows[i-1].Backward.Wall < r.Forward.Wall+r.Backward.Wall {
			t.Errorf("rows not longest first: %+v", rows)
		}
	}
	var none autograd.OpTimes
	if rows := none.Rows(); !slices.Equal(rows, nil) {
		t.Errorf("an untimed OpTimes has rows %+v", rows)
	}
}
