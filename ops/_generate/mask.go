package main

import "fmt"

// The dropout mask kernels draw eight masks side by side, one xorshift64* stream each.
// Mask i holds n values (n a multiple of 4) at dst + i·n: draw d of stream i advances its
// state by xorshiftShifts, multiplies it by xorshiftMul, and gives its four 16-bit
// fields, low to high, to values 4d … 4d+3, each 0 where the field is below threshold
// and keep otherwise — the generic Go loop (ops.dropoutMasksGeneric) stream by stream,
// eight at a time. The kernels of every ISA take the stream's constants from here.

// xorshiftMul is xorshift64*'s output multiplier (ops.xorshiftMul).
const xorshiftMul uint64 = 0x2545f4914f6cdd1d

// xorshiftShifts is the xorshift64 state update, in order: s ^= s>>12, s ^= s<<25,
// s ^= s>>27 (ops.xorshiftNext).
var xorshiftShifts = []struct {
	left bool
	n    int
}{{false, 12}, {true, 25}, {false, 27}}

// mulHalf is the immediate operand of the low (hi false) or high 32 bits of
// xorshiftMul, for ISAs that multiply 64-bit lanes from 32-bit halves.
func mulHalf(hi bool) string {
	if hi {
		return fmt.Sprintf("$%#x", xorshiftMul>>32)
	}
	return fmt.Sprintf("$%#x", xorshiftMul&0xffffffff)
}
