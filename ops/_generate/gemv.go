package main

import "fmt"

// The one-row kernels: a single row of C against an unpacked B (a query against cached
// keys or values in greedy decoding), where packing B would cost as much as the product.
// gemvStrip computes a strip of gemvRegs vectors of the row, acc = Σ_p a[p]·B[p][strip],
// each lane one chain of fused multiply-adds in p order starting from zero: the chain
// the micro-kernels compute for every element of C, so the two agree bit for bit.

// gemvRegs is how many vector registers (accumulators) one strip spans.
const gemvRegs = 4

// The gated one-row kernels (gated true): one row of a grid-gated product (a decoding
// step of a HyperGrid layer, one token per example) against an unpacked weight B whose
// rows all lie in one grid row, so that one gate vector g (the grid row expanded to one
// value per column) scales every step. gemvGatedStrip computes acc = Σ_p a[p]·(B[p][strip]
// ⊙ g), each gated value rounded as the blocked path's gateRows rounds it, then one fused
// multiply-add per step in p order, starting from zero or, when add is not 0, from acc
// (the next grid row of the same k block): the blocked gated product's chain, bit for bit.

// gemvParams are the parameters of gemvStrip, or of gemvGatedStrip.
func gemvParams(gated bool) []param {
	if gated {
		return []param{{"kc", "int"}, {"a", "*float32"}, {"b", "*float32"},
			{"ldb", "int"}, {"gate", "*float32"}, {"acc", "*float32"}, {"add", "int"}}
	}
	return []param{{"kc", "int"}, {"a", "*float32"}, {"b", "*float32"},
		{"ldb", "int"}, {"acc", "*float32"}}
}

// gemvDoc documents gemvStrip, or gemvGatedStrip, of width w.
func gemvDoc(gated bool, w int, isa string) string {
	if gated {
		return fmt.Sprintf("computes acc[0:%d] = Σ_{p<kc} a[p]·(b[p·ldb : p·ldb+%d] ⊙ gate[0:%d]), each product of b and gate rounded, fused multiply-adds in p order from zero, or from acc when add ≠ 0 (%s).",
			w, w, w, isa)
	}
	return fmt.Sprintf("stores acc[0:%d] = Σ_{p<kc} a[p]·b[p·ldb : p·ldb+%d], fused multiply-adds in p order from zero (%s).",
		w, w, isa)
}

func (x x86) gemvKernel(gated bool) *fn {
	name := "gemvStrip" + x.name
	if gated {
		name = "gemvGatedStrip" + x.name
	}
	f := &fn{name: name, params: gemvParams(gated), doc: gemvDoc(gated, gemvRegs*x.lanes, x.name)}
	a := newAsm(f)
	a.I("MOVQ", a.arg("kc", ""), "CX")
	a.I("MOVQ", a.arg("a", ""), "AX")
	a.I("MOVQ", a.arg("b", ""), "BX")
	a.I("MOVQ", a.arg("ldb", ""), "DX")
	a.I("SHLQ", "$2", "DX")
	if gated {
		a.I("MOVQ", a.arg("gate", ""), "SI")
	}
	a.I("MOVQ", a.arg("acc", ""), "DI")
	gate := func(v int) string { return x.r(gemvRegs + v) }
	tmp := func(v int) string { return x.r(2*gemvRegs + v) }
	bc := x.r(gemvRegs)
	if gated {
		a.I("MOVQ", a.arg("add", ""), "R8")
		bc = x.r(3 * gemvRegs)
		for v := range gemvRegs {
			a.I("VMOVUPS", mem(v*x.lanes*4, "SI"), gate(v))
		}
		a.I("TESTQ", "R8", "R8")
		a.I("JZ", "fresh")
		for v := range gemvRegs {
			a.I("VMOVUPS", mem(v*x.lanes*4, "DI"), x.r(v))
		}
		a.I("JMP", "start")
		a.L("fresh")
	}
	for v := range gemvRegs {
		x.zero(a, x.r(v))
	}
	if gated {
		a.L("start")
	}
	a.I("TESTQ", "CX", "CX")
	a.I("JZ", "store")
	a.L("loop")
	a.I("VBROADCASTSS", "(AX)", bc)
	for v := range gemvRegs {
		if gated {
			a.I("VMULPS", mem(v*x.lanes*4, "BX"), gate(v), tmp(v))
			a.I("VFMADD231PS", tmp(v), bc, x.r(v))
		} else {
			a.I("VFMADD231PS", mem(v*x.lanes*4, "BX"), bc, x.r(v))
		}
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

func (n arm64NEON) gemvKernel(gated bool) *fn {
	name := "gemvStripNEON"
	if gated {
		name = "gemvGatedStripNEON"
	}
	f := &fn{name: name, params: gemvParams(gated), doc: gemvDoc(gated, gemvRegs*4, "NEON")}
	a := newAsm(f)
	a.I("MOVD", a.arg("kc", ""), "R0")
	a.I("MOVD", a.arg("a", ""), "R1")
	a.I("MOVD", a.arg("b", ""), "R2")
	a.I("MOVD", a.arg("ldb", ""), "R3")
	a.I("LSL", "$2", "R3", "R3")
	if gated {
		a.I("MOVD", a.arg("gate", ""), "R5")
	}
	a.I("MOVD", a.arg("acc", ""), "R4")
	zero := func(v int) {
		a.I("VEOR", fmt.Sprintf("V%d.B16", v), fmt.Sprintf("V%d.B16", v), fmt.Sprintf("V%d.B16", v))
	}
	gv, bv, tv, bc := 0, gemvRegs, 0, 2*gemvRegs
	if gated {
		a.I("MOVD", a.arg("add", ""), "R6")
		gv, bv, tv, bc = gemvRegs, 2*gemvRegs, 3*gemvRegs, 4*gemvRegs
		a.I("VLD1", "(R5)", regList(gv, gemvRegs))
		a.I("CBZ", "R6", "fresh")
		a.I("VLD1", "(R4)", regList(0, gemvRegs))
		a.I("B", "start")
		a.L("fresh")
	}
	for v := range gemvRegs {
		zero(v)
	}
	if gated {
		a.L("start")
	}
	a.I("CBZ", "R0", "store")
	a.L("loop")
	a.I("VLD1R.P", "4(R1)", "["+vreg(bc)+"]")
	a.I("VLD1", "(R2)", regList(bv, gemvRegs))
	for v := range gemvRegs {
		if gated {
			// The gated value as gateRows rounds it: 0 + b·g in one fused operation.
			zero(tv + v)
			a.I("VFMLA", vreg(gv+v), vreg(bv+v), vreg(tv+v))
			a.I("VFMLA", vreg(tv+v), vreg(bc), vreg(v))
		} else {
			a.I("VFMLA", vreg(bv+v), vreg(bc), vreg(v))
		}
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

// expandRuns writes each of count values bw times in a row: a grid row expanded to one
// gate per column of the weight (the gated products do this for every example).

func (x x86) expandRunsKernel() *fn {
	f := &fn{
		name:   "expandRuns" + x.name,
		params: []param{{"count", "int"}, {"dst", "*float32"}, {"src", "*float32"}, {"bw", "int"}},
		doc:    fmt.Sprintf("writes dst[j·bw + q] = src[j] for j < count, q < bw (%s).", x.name),
	}
	a := newAsm(f)
	a.I("MOVQ", a.arg("count", ""), "CX")
	a.I("MOVQ", a.arg("dst", ""), "DI")
	a.I("MOVQ", a.arg("src", ""), "SI")
	a.I("MOVQ", a.arg("bw", ""), "DX")
	a.I("TESTQ", "CX", "CX")
	a.I("JZ", "done")
	a.L("loop")
	a.I("VBROADCASTSS", "(SI)", x.r(0))
	a.I("MOVQ", "DX", "R8")
	// Whole vectors while they fit, then at most one of each narrower width.
	a.L("full")
	a.I("CMPQ", "R8", imm(x.lanes))
	a.I("JLT", "part")
	a.I("VMOVUPS", x.r(0), "(DI)")
	a.I("ADDQ", imm(x.lanes*4), "DI")
	a.I("SUBQ", imm(x.lanes), "R8")
	a.I("JMP", "full")
	a.L("part")
	for _, piece := range []struct {
		floats int
		reg    string
	}{{8, "Y0"}, {4, "X0"}} {
		if piece.floats >= x.lanes {
			continue
		}
		skip := fmt.Sprintf("below%d", piece.floats)
		a.I("CMPQ", "R8", imm(piece.floats))
		a.I("JLT", skip)
		a.I("VMOVUPS", piece.reg, "(DI)")
		a.I("ADDQ", imm(piece.floats*4), "DI")
		a.I("SUBQ", imm(piece.floats), "R8")
		a.L(skip)
	}
	a.L("one")
	a.I("TESTQ", "R8", "R8")
	a.I("JZ", "next")
	a.I("VMOVSS", "X0", "(DI)")
	a.I("ADDQ", imm(4), "DI")
	a.I("DECQ", "R8")
	a.I("JMP", "one")
	a.L("next")
	a.I("ADDQ", imm(4), "SI")
	endCountedLoop(a)
	return f
}

func (n arm64NEON) expandRunsKernel() *fn {
	f := &fn{
		name:   "expandRunsNEON",
		params: []param{{"count", "int"}, {"dst", "*float32"}, {"src", "*float32"}, {"bw", "int"}},
		doc:    "writes dst[j·bw + q] = src[j] for j < count, q < bw (NEON).",
	}
	a := newAsm(f)
	a.I("MOVD", a.arg("count", ""), "R0")
	a.I("MOVD", a.arg("dst", ""), "R1")
	a.I("MOVD", a.arg("src", ""), "R2")
	a.I("MOVD", a.arg("bw", ""), "R3")
	a.I("CBZ", "R0", "done")
	a.L("loop")
	a.I("VLD1R.P", "4(R2)", "[V0.S4]")
	a.I("MOVD", "R3", "R4")
	a.L("full")
	a.I("CMP", "$4", "R4")
	a.I("BLT", "one")
	a.I("VST1.P", "[V0.S4]", "16(R1)")
	a.I("SUB", "$4", "R4", "R4")
	a.I("B", "full")
	a.L("one")
	a.I("CBZ", "R4", "next")
	a.I("FMOVS.P", "F0", "4(R1)")
	a.I("SUB", "$1", "R4", "R4")
	a.I("B", "one")
	a.L("next")
	a.I("SUBS", "$1", "R0", "R0")
	a.I("BNE", "loop")
	a.L("done")
	a.I("RET")
	a.done()
	return f
}
