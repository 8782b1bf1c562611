package main

import "fmt"

// dropoutMasksKernel is the NEON dropout mask kernel (see mask.go for what a kernel
// draws): the eight streams in the 64-bit lanes of V0…V3, two a register, each step of
// the draw emitted for the four registers in turn so that their chains of dependent
// instructions overlap.
//
// NEON has no 64-bit multiplication, so the low 64 bits of s·m are built from 32-bit
// halves as on AVX2: lo(s)·lo(m) + (hi(s)·lo(m) + lo(s)·hi(m))·2³², with UZP1/UZP2
// splitting the halves and UMULL/UMLAL multiplying them. The four 16-bit fields of each
// product are widened to 32 bits (UXTL for the low stream, UXTL2 for the high one),
// compared with the threshold (CMHS: unsigned, field ≥ threshold is kept) and ANDed with
// keep's bits: four values a stream, stored with a post-increment of its mask's pointer.
//
// Go's arm64 assembler has no UMULL, UMLAL or CMHS: those are WORD encodings with the
// instruction in a comment.
//
// Registers: R1…R8 the masks' pointers, R0 the draws left, R9 the states' address, R10
// and R20 scratch; V0…V3 the states, V4…V7 xorshift temporaries, V8…V11 the low halves
// then the low streams' values, V12…V15 the high halves then the high streams' values,
// V16…V19 the products, V20…V23 the cross terms, V24 keep's bits, V25 the threshold,
// V26 lo(m) and V27 hi(m) in every 32-bit lane.
func (n arm64NEON) dropoutMasksKernel() *fn {
	f := &fn{
		name: "dropoutMasks8NEON",
		params: []param{{"dst", "*float32"}, {"n", "int"}, {"states", "*uint64"},
			{"threshold", "int"}, {"keep", "float32"}},
		doc: "draws the eight dropout masks of n values each at dst + i·n from the xorshift64* streams after states[i] (NEON).",
	}
	a := newAsm(f)
	a.I("MOVD", a.arg("dst", ""), "R1")
	a.I("MOVD", a.arg("n", ""), "R0")
	a.I("LSL", imm(2), "R0", "R10") // a mask's bytes
	for i := 2; i <= 8; i++ {
		a.I("ADD", "R10", fmt.Sprintf("R%d", i-1), fmt.Sprintf("R%d", i))
	}
	a.I("LSR", imm(2), "R0", "R0") // draws
	a.I("MOVD", a.arg("states", ""), "R9")
	a.I("VLD1", "(R9)", "[V0.D2, V1.D2, V2.D2, V3.D2]")
	a.I("MOVWU", a.arg("keep", ""), "R20")
	a.I("VDUP", "R20", "V24.S4")
	a.I("MOVD", a.arg("threshold", ""), "R20")
	a.I("VDUP", "R20", "V25.S4")
	a.I("MOVW", mulHalf(false), "R20")
	a.I("VDUP", "R20", "V26.S4")
	a.I("MOVW", mulHalf(true), "R20")
	a.I("VDUP", "R20", "V27.S4")
	a.I("CBZ", "R0", "done")
	a.L("loop")
	each := func(emit func(i int)) {
		for i := range 4 {
			emit(i)
		}
	}
	v := func(base, i int, arr string) string { return fmt.Sprintf("V%d.%s", base+i, arr) }
	for _, sh := range xorshiftShifts {
		op := "VUSHR"
		if sh.left {
			op = "VSHL"
		}
		each(func(i int) { a.I(op, imm(sh.n), v(0, i, "D2"), v(4, i, "D2")) })
		each(func(i int) { a.I("VEOR", v(4, i, "B16"), v(0, i, "B16"), v(0, i, "B16")) })
	}
	each(func(i int) { a.I("VUZP1", v(0, i, "S4"), v(0, i, "S4"), v(8, i, "S4")) })  // lo(s) in the low 2S
	each(func(i int) { a.I("VUZP2", v(0, i, "S4"), v(0, i, "S4"), v(12, i, "S4")) }) // hi(s)
	each(func(i int) { neonUmull(a, 0x2ea0c000, "UMULL", 20+i, 12+i, 26) })          // hi(s)·lo(m)
	each(func(i int) { neonUmull(a, 0x2ea08000, "UMLAL", 20+i, 8+i, 27) })           // + lo(s)·hi(m)
	each(func(i int) { neonUmull(a, 0x2ea0c000, "UMULL", 16+i, 8+i, 26) })           // lo(s)·lo(m)
	each(func(i int) { a.I("VSHL", imm(32), v(20, i, "D2"), v(20, i, "D2")) })
	each(func(i int) { a.I("VADD", v(20, i, "D2"), v(16, i, "D2"), v(16, i, "D2")) })
	each(func(i int) { a.I("VUXTL", v(16, i, "H4"), v(8, i, "S4")) })
	each(func(i int) { a.I("VUXTL2", v(16, i, "H8"), v(12, i, "S4")) })
	for _, lohi := range []int{8, 12} {
		each(func(i int) {
			r := lohi + i
			word(a, 0x6ea03c00|25<<16|uint32(r)<<5|uint32(r), "CMHS V%d.4S, V%d.4S, V25.4S", r, r)
		})
		each(func(i int) { a.I("VAND", "V24.B16", v(lohi, i, "B16"), v(lohi, i, "B16")) })
	}
	// Register i holds streams 2i (its low lane) and 2i+1.
	each(func(i int) {
		a.I("VST1.P", "["+v(8, i, "S4")+"]", fmt.Sprintf("16(R%d)", 1+2*i))
		a.I("VST1.P", "["+v(12, i, "S4")+"]", fmt.Sprintf("16(R%d)", 2+2*i))
	})
	a.I("SUBS", imm(1), "R0", "R0")
	a.I("BNE", "loop")
	a.L("done")
	a.I("RET")
	a.done()
	return f
}

// neonUmull emits the widening multiply op (base: UMULL or UMLAL, 2S → 2D) Vd.2D ← Vn.2S
// × Vm.2S as a WORD.
func neonUmull(a *asm, base uint32, name string, d, n, m int) {
	word(a, base|uint32(m)<<16|uint32(n)<<5|uint32(d), "%s V%d.2D, V%d.2S, V%d.2S", name, d, n, m)
}
