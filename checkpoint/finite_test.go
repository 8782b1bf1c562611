package checkpoint

import (
	"errors"
	"math"
	"testing"
)

func TestCheckFinite(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, c := range []struct {
		t    Tensor
		want string
	}{
		{Tensor{Name: "ok", Shape: []int{2, 2}, Data: []float32{0, -1, math.MaxFloat32, math.SmallestNonzeroFloat32}}, ""},
		{Tensor{Name: "empty", Shape: []int{0}}, ""},
		{Tensor{Name: "scalar", Data: []float32{-inf}}, `tensor "scalar" []: element 0 is -Inf; 1 value is not finite`},
		{Tensor{Name: "vec", Shape: []int{4}, Data: []float32{1, inf, 2, nan}}, `tensor "vec" [4]: element 1 is +Inf; 2 values are not finite`},
		{Tensor{Name: "enc.w", Shape: []int{2, 3}, Data: []float32{0, 1, 2, nan, 4, 5}}, `tensor "enc.w" [2 3]: element [1 0] (flat index 3) is NaN; 1 value is not finite`},
		{Tensor{Name: "cube", Shape: []int{2, 2, 2}, Data: []float32{0, 0, 0, 0, 0, 0, 0, -inf}}, `tensor "cube" [2 2 2]: element [1 1 1] (flat index 7) is -Inf; 1 value is not finite`},
		// A shape that does not match the data: the flat index alone.
		{Tensor{Name: "odd", Shape: []int{2, 1}, Data: []float32{0, 0, nan}}, `tensor "odd" [2 1]: element 2 is NaN; 1 value is not finite`},
	} {
		err := c.t.CheckFinite()
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.t.Name, err)
			}
			continue
		}
		var nf *NonFiniteError
		if !errors.As(err, &nf) || nf.Tensor != c.t.Name || err.Error() != c.want {
			t.Errorf("%s: %v\nwant %s", c.t.Name, err, c.want)
		}
	}
}

func BenchmarkCheckFinite(b *testing.B) {
	t := Tensor{Name: "w", Shape: []int{1 << 20}, Data: make([]float32, 1<<20)}
	b.SetBytes(4 << 20)
	for b.Loop() {
		if err := t.CheckFinite(); err != nil {
			b.Fatal(err)
		}
	}
}
