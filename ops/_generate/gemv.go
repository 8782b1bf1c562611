package main

import "fmt"

// The one-row kernels: a single row of C against an unpacked B (a query against cached
// keys or values in greedy decoding), where packing B would cost as much as the product.
// gemvStrip computes a strip of gemvRegs vectors of the row, acc = Σ_p a[p]·B[p][strip],
// each lane one chain of fused multiply-adds in p order starting from zero: the chain
// the micro-kernels compute for every element of C, so the two agree bit for bit.

// gemvRegs is how many vector registers (accumulators) one strip spans.
const gemvRegs = 4

func (x x86) gemvKernel() *fn {
	f := &fn{
		name: "gemvStrip" + x.name,
		params: []param{{"kc", "int"}, {"a", "*float32"}, {"b", "*float32"},
			{"ldb", "int"}, {"acc", "*float32"}},
		doc: fmt.Sprintf("stores acc[0:%d] = Σ_{p<kc} a[p]·b[p·ldb : p·ldb+%d], fused multiply-adds in p order from zero (%s).",
			gemvRegs*x.lanes, gemvRegs*x.lanes, x.name),
	}
	a := newAsm(f)
	a.I("MOVQ", a.arg("kc", ""), "CX")
	a.I("MOVQ", a.arg("a", ""), "AX")
	a.I("MOVQ", a.arg("b", ""), "BX")
	a.I("MOVQ", a.arg("ldb", ""), "DX")
	a.I("SHLQ", "$2", "DX")
	a.I("MOVQ", a.arg("acc", ""), "DI")
	bc := x.r(gemvRegs)
	for v := range gemvRegs {
		x.zero(a, x.r(v))
	}
	a.I("TESTQ", "CX", "CX")
	a.I("JZ", "store")
	a.L("loop")
	a.I("VBROADCASTSS", "(AX)", bc)
	for v := range gemvRegs {
		a.I("VFMADD231PS", mem(v*x.lanes*4, "BX"), bc, x.r(v))
	}
	a.I("ADDQ", "$4", "AX")
	a.I("ADDQ", "DX", "BX")
	a.I("DECQ", "CX")
	a.I("JNZ", "loop")
	a.L("store")
	for v := range gemvRegs {
		a.I("VMOVUPS", x.r(v), mem(v*x.lanes*4, "DI"))
	}
	a.I("VZEROUPPER")
	a.I("RET")
	a.done()
	return f
}

func (n arm64NEON) gemvKernel() *fn {
	f := &fn{
		name: "gemvStripNEON",
		params: []param{{"kc", "int"}, {"a", "*float32"}, {"b", "*float32"},
			{"ldb", "int"}, {"acc", "*float32"}},
		doc: fmt.Sprintf("stores acc[0:%d] = Σ_{p<kc} a[p]·b[p·ldb : p·ldb+%d], fused multiply-adds in p order from zero (NEON).",
			gemvRegs*4, gemvRegs*4),
	}
	a := newAsm(f)
	a.I("MOVD", a.arg("kc", ""), "R0")
	a.I("MOVD", a.arg("a", ""), "R1")
	a.I("MOVD", a.arg("b", ""), "R2")
	a.I("MOVD", a.arg("ldb", ""), "R3")
	a.I("LSL", "$2", "R3", "R3")
	a.I("MOVD", a.arg("acc", ""), "R4")
	bv, bc := gemvRegs, 2*gemvRegs
	for v := range gemvRegs {
		a.I("VEOR", fmt.Sprintf("V%d.B16", v), fmt.Sprintf("V%d.B16", v), fmt.Sprintf("V%d.B16", v))
	}
	a.I("CBZ", "R0", "store")
	a.L("loop")
	a.I("VLD1R.P", "4(R1)", "["+vreg(bc)+"]")
	a.I("VLD1", "(R2)", regList(bv, gemvRegs))
	for v := range gemvRegs {
		a.I("VFMLA", vreg(bv+v), vreg(bc), vreg(v))
	}
	a.I("ADD", "R3", "R2", "R2")
	a.I("SUBS", "$1", "R0", "R0")
	a.I("BNE", "loop")
	a.L("store")
	a.I("VST1", regList(0, gemvRegs), "(R4)")
	a.I("RET")
	a.done()
	return f
}
