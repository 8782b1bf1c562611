package checkpoint

import (
	"fmt"
	"strconv"
	"strings"
)

// NonFiniteError reports a tensor holding NaN or infinite values.
type NonFiniteError struct {
	// Tensor is the tensor's name.
	Tensor string
	// Shape is the tensor's shape.
	Shape []int
	// Index is the flat (row-major) index of the first non-finite value.
	Index int
	// Value is that value: NaN, +Inf or -Inf.
	Value float32
	// Count is the number of non-finite values in the tensor.
	Count int
}

// Error returns, e.g., `tensor "NAME" [2 3]: element [1 0] (flat index 3) is NaN; 2
// values are not finite`.
func (e *NonFiniteError) Error() string {
	where := fmt.Sprintf("element %d", e.Index)
	if idx, ok := unflatten(e.Index, e.Shape); ok && len(e.Shape) > 1 {
		where = fmt.Sprintf("element %s (flat index %d)", formatIndex(idx), e.Index)
	}
	values := "1 value is"
	if e.Count > 1 {
		values = strconv.Itoa(e.Count) + " values are"
	}
	return fmt.Sprintf("tensor %q %v: %s is %v; %s not finite", e.Tensor, e.Shape, where, e.Value, values)
}

// CheckFinite returns nil when every value of t is finite, and otherwise a
// *NonFiniteError naming t, the index of its first NaN or infinity (row-major, and as
// an index of each dimension) and how many such values it holds. Decoding does not
// check this: F32, F16, BF16 and F64 files can hold NaN and infinities; weights being
// loaded into a model should be checked.
func (t Tensor) CheckFinite() error {
	first, count := -1, 0
	for i, v := range t.Data {
		if v-v != 0 { // NaN and ±Inf; v-v is 0 for every finite v
			if first < 0 {
				first = i
			}
			count++
		}
	}
	if count == 0 {
		return nil
	}
	return &NonFiniteError{Tensor: t.Name, Shape: t.Shape, Index: first, Value: t.Data[first], Count: count}
}

// unflatten turns a row-major flat index into one index per dimension of shape; ok is
// false when shape does not hold index.
func unflatten(flat int, shape []int) (idx []int, ok bool) {
	n, valid := elements(shape)
	if !valid || int64(flat) >= n || flat < 0 {
		return nil, false
	}
	idx = make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = flat % shape[d]
		flat /= shape[d]
	}
	return idx, true
}

func formatIndex(idx []int) string {
	s := make([]string, len(idx))
	for i, v := range idx {
		s[i] = strconv.Itoa(v)
	}
	return "[" + strings.Join(s, " ") + "]"
}
