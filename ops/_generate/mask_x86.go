package main

import "fmt"

// dropoutMasksKernel draws eight dropout masks side by side, one xorshift64* stream in
// each 64-bit lane of a ZMM register (AVX-512 only: the multiplication is VPMULLQ, which
// AVX2 lacks). Mask i holds n values (n a multiple of 4) at dst + i·n: draw d of stream
// i advances its state (s ^= s>>12, s ^= s<<25, s ^= s>>27), multiplies it by
// 0x2545f4914f6cdd1d, and gives its four 16-bit fields, low to high, to values 4d … 4d+3,
// each 0 where the field is below threshold and keep otherwise — the generic Go loop
// (ops.dropoutMasksGeneric) stream by stream, eight at a time.
func (x x86) dropoutMasksKernel() *fn {
	if x.reg != "Z" {
		panic("gen: the dropout mask kernel needs AVX-512 (VPMULLQ)")
	}
	f := &fn{
		name: "dropoutMasks8" + x.name,
		params: []param{{"dst", "*float32"}, {"n", "int"}, {"states", "*uint64"},
			{"threshold", "int"}, {"keep", "float32"}},
		doc: fmt.Sprintf("draws the eight dropout masks of n values each at dst + i·n from the xorshift64* streams after states[i] (%s).", x.name),
	}
	a := newAsm(f)
	// The eight masks' bases: R8, R9, R10, R11, R12, R13, AX, BX; DI is the byte offset
	// of the current draw's four values within each.
	bases := []string{"R8", "R9", "R10", "R11", "R12", "R13", "AX", "BX"}
	a.I("MOVQ", a.arg("dst", ""), "R8")
	a.I("MOVQ", a.arg("n", ""), "CX")
	a.I("MOVQ", "CX", "DX")
	a.I("SHLQ", imm(2), "DX") // a mask's bytes
	for i := 1; i < len(bases); i++ {
		a.I("LEAQ", fmt.Sprintf("(%s)(DX*1)", bases[i-1]), bases[i])
	}
	a.I("SHRQ", imm(2), "CX") // draws
	a.I("MOVQ", a.arg("states", ""), "SI")
	a.I("VMOVDQU64", "(SI)", "Z0")
	a.I("MOVQ", "$0x2545f4914f6cdd1d", "DX")
	a.I("VPBROADCASTQ", "DX", "Z30")
	a.I("MOVQ", a.arg("threshold", ""), "DX")
	a.I("VPBROADCASTD", "DX", "Z29")
	a.I("VBROADCASTSS", a.arg("keep", ""), "Z28")
	a.I("XORQ", "DI", "DI")
	a.I("TESTQ", "CX", "CX")
	a.I("JZ", "done")
	a.L("loop")
	a.I("VPSRLQ", imm(12), "Z0", "Z1")
	a.I("VPXORQ", "Z1", "Z0", "Z0")
	a.I("VPSLLQ", imm(25), "Z0", "Z1")
	a.I("VPXORQ", "Z1", "Z0", "Z0")
	a.I("VPSRLQ", imm(27), "Z0", "Z1")
	a.I("VPXORQ", "Z1", "Z0", "Z0")
	a.I("VPMULLQ", "Z30", "Z0", "Z1")
	// Streams 0-3 (the low 256 bits) and 4-7: their 16 fields widened to 32 bits, in order,
	// four values a stream.
	a.I("VEXTRACTI64X4", imm(1), "Z1", "Y3")
	a.I("VPMOVZXWD", "Y1", "Z2")
	a.I("VPMOVZXWD", "Y3", "Z3")
	a.I("VPCMPUD", imm(5), "Z29", "Z2", "K1") // field ≥ threshold: kept
	a.I("VPCMPUD", imm(5), "Z29", "Z3", "K2")
	a.I("VMOVAPS.Z", "Z28", "K1", "Z2")
	a.I("VMOVAPS.Z", "Z28", "K2", "Z3")
	for h, z := range []string{"Z2", "Z3"} {
		x := "X" + z[1:]
		for q := range 4 {
			dst := fmt.Sprintf("(%s)(DI*1)", bases[4*h+q])
			if q == 0 {
				a.I("VMOVUPS", x, dst)
				continue
			}
			a.I("VEXTRACTF32X4", imm(q), z, "X4")
			a.I("VMOVUPS", "X4", dst)
		}
	}
	a.I("ADDQ", imm(16), "DI")
	a.I("DECQ", "CX")
	a.I("JNZ", "loop")
	a.L("done")
	a.I("VZEROUPPER")
	a.I("RET")
	a.done()
	return f
}
