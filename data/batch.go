package data

import (
	"fmt"
	"iter"
)

// InOrder returns the examples in batches of n, in order, the last batch possibly
// shorter: for evaluation, where every example is seen once.
func InOrder(examples []Example, n int) iter.Seq[[]Example] {
	if n <= 0 {
		panic(fmt.Sprintf("data: InOrder: batch size %d must be positive", n))
	}
	return func(yield func([]Example) bool) {
		for start := 0; start < len(examples); start += n {
			if !yield(examples[start:min(start+n, len(examples))]) {
				return
			}
		}
	}
}
