package autograd

import "testing"

// The FFN's parts share the rows as evenly as whole units allow, in order and without
// gaps, and cut them into blocks of at most the block height.
func TestFFNSplitSharesRowsEvenly(t *testing.T) {
	for _, tc := range []struct{ m, rows, unit, parts int }{
		{4096, 80, 8, 2}, {256, 80, 8, 2}, {256, 80, 8, 3}, {4096, 80, 8, 16}, {37, 16, 8, 3},
		{256, 80, 8, 1}, {5, 80, 8, 2}, {8 * 32, 80, 8, 2}, {4096, 128, 128, 2}, {3 * 50, 50, 50, 2},
	} {
		s := ffnSplit{m: tc.m, rows: tc.rows, unit: tc.unit, parts: tc.parts}
		next, least, most := 0, tc.m, 0
		for q := range tc.parts {
			lo, hi := s.span(q)
			if lo != next || hi < lo || (hi != tc.m && hi%tc.unit != 0) {
				t.Fatalf("%+v: part %d spans [%d, %d) after %d", tc, q, lo, hi, next)
			}
			next = hi
			least, most = min(least, hi-lo), max(most, hi-lo)
			at := lo
			s.blocks(q, func(r0, n int) {
				if r0 != at || n < 1 || n > tc.rows || r0+n > hi {
					t.Fatalf("%+v: part %d [%d, %d): block at %d of %d rows after %d", tc, q, lo, hi, r0, n, at)
				}
				at += n
			})
			if at != hi {
				t.Fatalf("%+v: part %d's blocks end at %d, not %d", tc, q, at, hi)
			}
		}
		if next != tc.m {
			t.Fatalf("%+v: the parts end at %d", tc, next)
		}
		if most-least > tc.unit {
			t.Errorf("%+v: parts of %d to %d rows", tc, least, most)
		}
	}
}
