package main

import "fmt"

// maskBases hold the eight masks' addresses; DI is the byte offset of the current draw's
// four values within each.
var maskBases = []string{"R8", "R9", "R10", "R11", "R12", "R13", "AX", "BX"}

// dropoutMasksKernel is the kernel of x: on AVX-512 the eight streams in the 64-bit lanes
// of one ZMM register, with VPMULLQ for the multiplication; on AVX2 see
// dropoutMasksKernelAVX2.
func (x x86) dropoutMasksKernel() *fn {
	if x.reg != "Z" {
		return x.dropoutMasksKernelAVX2()
	}
	f, a := x.dropoutMasksStart()
	a.I("VMOVDQU64", "(SI)", "Z0")
	a.I("MOVQ", fmt.Sprintf("$%#x", xorshiftMul), "DX")
	a.I("VPBROADCASTQ", "DX", "Z30")
	a.I("MOVQ", a.arg("threshold", ""), "DX")
	a.I("VPBROADCASTD", "DX", "Z29")
	a.I("VBROADCASTSS", a.arg("keep", ""), "Z28")
	dropoutMasksLoop(a)
	xorshiftStep(a, "Z0", "Z1", "VPXORQ")
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
		for q := range 4 {
			dst := fmt.Sprintf("(%s)(DI*1)", maskBases[4*h+q])
			if q == 0 {
				a.I("VMOVUPS", "X"+z[1:], dst)
				continue
			}
			a.I("VEXTRACTF32X4", imm(q), z, "X4")
			a.I("VMOVUPS", "X4", dst)
		}
	}
	dropoutMasksEnd(a)
	return f
}

// dropoutMasksKernelAVX2 is dropoutMasksKernel for AVX2: the eight streams in two YMM
// registers, the 64-bit multiplication built from three 32×32→64-bit VPMULUDQ (the low
// 64 bits of a·m are lo(a)·lo(m) + (hi(a)·lo(m) + lo(a)·hi(m))·2³²), and the comparison
// signed (VPCMPGTD against threshold − 1: fields and threshold are below 2³¹).
func (x x86) dropoutMasksKernelAVX2() *fn {
	f, a := x.dropoutMasksStart()
	a.I("VMOVDQU", "(SI)", "Y0") // streams 0-3
	a.I("VMOVDQU", "32(SI)", "Y1")
	for _, c := range []struct{ half, reg string }{{mulHalf(false), "13"}, {mulHalf(true), "14"}} {
		a.I("MOVQ", c.half, "DX") // the multiplier's low half in Y13, its high half in Y14
		a.I("MOVQ", "DX", "X"+c.reg)
		a.I("VPBROADCASTQ", "X"+c.reg, "Y"+c.reg)
	}
	a.I("MOVQ", a.arg("threshold", ""), "DX")
	a.I("DECQ", "DX")
	a.I("MOVQ", "DX", "X12")
	a.I("VPBROADCASTD", "X12", "Y12")
	a.I("VBROADCASTSS", a.arg("keep", ""), "Y11")
	dropoutMasksLoop(a)
	for h, st := range []string{"Y0", "Y1"} {
		xorshiftStep(a, st, "Y2", "VPXOR")
		// r = s·m mod 2⁶⁴ in Y2.
		a.I("VPMULUDQ", "Y13", st, "Y2") // lo(s)·lo(m)
		a.I("VPSRLQ", imm(32), st, "Y3")
		a.I("VPMULUDQ", "Y13", "Y3", "Y3") // hi(s)·lo(m)
		a.I("VPMULUDQ", "Y14", st, "Y4")   // lo(s)·hi(m)
		a.I("VPADDQ", "Y4", "Y3", "Y3")
		a.I("VPSLLQ", imm(32), "Y3", "Y3")
		a.I("VPADDQ", "Y3", "Y2", "Y2")
		// Streams 4h, 4h+1 (the low 128 bits) and 4h+2, 4h+3: their fields widened, kept
		// where above threshold − 1, four values a stream.
		a.I("VEXTRACTI128", imm(1), "Y2", "X3")
		for q, src := range []string{"X2", "X3"} {
			a.I("VPMOVZXWD", src, "Y5")
			a.I("VPCMPGTD", "Y12", "Y5", "Y5")
			a.I("VPAND", "Y11", "Y5", "Y5")
			a.I("VMOVUPS", "X5", fmt.Sprintf("(%s)(DI*1)", maskBases[4*h+2*q]))
			a.I("VEXTRACTF128", imm(1), "Y5", "X6")
			a.I("VMOVUPS", "X6", fmt.Sprintf("(%s)(DI*1)", maskBases[4*h+2*q+1]))
		}
	}
	dropoutMasksEnd(a)
	return f
}

// dropoutMasksStart declares x's kernel and emits what both ISAs begin with: the masks'
// addresses in maskBases, the draw count in CX, the states' address in SI and DI zeroed.
func (x x86) dropoutMasksStart() (*fn, *asm) {
	f := &fn{
		name: "dropoutMasks8" + x.name,
		params: []param{{"dst", "*float32"}, {"n", "int"}, {"states", "*uint64"},
			{"threshold", "int"}, {"keep", "float32"}},
		doc: fmt.Sprintf("draws the eight dropout masks of n values each at dst + i·n from the xorshift64* streams after states[i] (%s).", x.name),
	}
	a := newAsm(f)
	a.I("MOVQ", a.arg("dst", ""), maskBases[0])
	a.I("MOVQ", a.arg("n", ""), "CX")
	a.I("MOVQ", "CX", "DX")
	a.I("SHLQ", imm(2), "DX") // a mask's bytes
	for i := 1; i < len(maskBases); i++ {
		a.I("LEAQ", fmt.Sprintf("(%s)(DX*1)", maskBases[i-1]), maskBases[i])
	}
	a.I("SHRQ", imm(2), "CX") // draws
	a.I("MOVQ", a.arg("states", ""), "SI")
	a.I("XORQ", "DI", "DI")
	return f, a
}

// xorshiftStep advances the states in register st by one xorshift64 step (tmp is a
// temporary, xor the ISA's XOR).
func xorshiftStep(a *asm, st, tmp, xor string) {
	for _, sh := range xorshiftShifts {
		op := "VPSRLQ"
		if sh.left {
			op = "VPSLLQ"
		}
		a.I(op, imm(sh.n), st, tmp)
		a.I(xor, tmp, st, st)
	}
}

// dropoutMasksLoop opens the draw loop, skipped for a count of 0.
func dropoutMasksLoop(a *asm) {
	a.I("TESTQ", "CX", "CX")
	a.I("JZ", "done")
	a.L("loop")
}

// dropoutMasksEnd closes the draw loop (the next four values of each mask) and the
// function.
func dropoutMasksEnd(a *asm) {
	a.I("ADDQ", imm(16), "DI")
	endCountedLoop(a)
}
