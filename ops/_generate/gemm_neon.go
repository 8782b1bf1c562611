package main

import "fmt"

// arm64NEON describes the NEON micro-kernels: mr rows by nv quad registers (4 lanes each).
// Go's arm64 assembler has no vector FADD/FMUL, so additions and products are fused
// multiply-adds: x + y is computed as x + y·1 and x·y as 0 + x·y, both exact.
type arm64NEON struct {
	mr, nv int
}

var neon = arm64NEON{mr: 8, nv: 3}

// gradShape: the NEON tile height 8 already divides power-of-two grid rows.
func (n arm64NEON) gradShape() arm64NEON { return n }

func (n arm64NEON) nr() int { return 4 * n.nv }

func vreg(i int) string { return fmt.Sprintf("V%d.S4", i) }

func (n arm64NEON) acc(r, v int) string { return vreg(r*n.nv + v) }

// regList formats a consecutive register list [Va.S4, Vb.S4, ...].
func regList(first, count int) string {
	s := "["
	for i := 0; i < count; i++ {
		if i > 0 {
			s += ", "
		}
		s += vreg(first + i)
	}
	return s + "]"
}

// kloop accumulates Ap·Bp into V0…V(mr·nv-1). R0 counts k steps, R1 walks A, R2 walks B.
func (n arm64NEON) kloop(a *asm) {
	nacc := n.mr * n.nv
	b0 := nacc        // B vectors
	bc := nacc + n.nv // two broadcast registers
	if bc+2 > 32 {
		panic("gen: NEON micro-tile does not fit the register file")
	}
	for i := 0; i < nacc; i++ {
		a.I("VEOR", fmt.Sprintf("V%d.B16", i), fmt.Sprintf("V%d.B16", i), fmt.Sprintf("V%d.B16", i))
	}
	a.I("CBZ", "R0", "kdone")
	a.L("kloop")
	a.I("VLD1.P", fmt.Sprintf("%d(R2)", n.nr()*4), regList(b0, n.nv))
	for r := 0; r < n.mr; r++ {
		b := vreg(bc + r%2)
		a.I("VLD1R.P", "4(R1)", "["+b+"]")
		for v := 0; v < n.nv; v++ {
			a.I("VFMLA", vreg(b0+v), b, n.acc(r, v))
		}
	}
	a.I("SUBS", "$1", "R0", "R0")
	a.I("BNE", "kloop")
	a.L("kdone")
}

// gemmKernel: C += Ap·Bp, or with overwrite C = Ap·Bp without reading C.
func (n arm64NEON) gemmKernel(overwrite bool) *fn {
	name, what := "gemmKernelNEON", "+="
	if overwrite {
		name, what = "gemmKernelSetNEON", "="
	}
	f := &fn{
		name: name,
		params: []param{{"kc", "int"}, {"a", "*float32"}, {"b", "*float32"},
			{"c", "*float32"}, {"ldc", "int"}},
		doc: fmt.Sprintf("computes C[%d×%d] %s Ap·Bp for kc steps of packed panels (NEON).", n.mr, n.nr(), what),
	}
	a := newAsm(f)
	a.I("MOVD", a.arg("kc", ""), "R0")
	a.I("MOVD", a.arg("a", ""), "R1")
	a.I("MOVD", a.arg("b", ""), "R2")
	a.I("MOVD", a.arg("c", ""), "R3")
	a.I("MOVD", a.arg("ldc", ""), "R4")
	a.I("LSL", "$2", "R4", "R4")
	n.kloop(a)
	nacc := n.mr * n.nv
	one := 31
	a.I("MOVW", "$0x3f800000", "R5")
	a.I("VDUP", "R5", vreg(one))
	a.C("C += tile, as C + tile·1 (or C = tile)")
	for r := 0; r < n.mr; r++ {
		if overwrite {
			a.I("VST1", regList(r*n.nv, n.nv), "(R3)")
		} else {
			a.I("VLD1", "(R3)", regList(nacc, n.nv))
			for v := 0; v < n.nv; v++ {
				a.I("VFMLA", vreg(one), n.acc(r, v), vreg(nacc+v))
			}
			a.I("VST1", regList(nacc, n.nv), "(R3)")
		}
		if r < n.mr-1 {
			a.I("ADD", "R4", "R3", "R3")
		}
	}
	a.I("RET")
	a.done()
	return f
}

func (n arm64NEON) gatedGradKernel() *fn {
	f := &fn{
		name: "gatedGradKernelNEON",
		params: []param{{"kc", "int"}, {"a", "*float32"}, {"b", "*float32"},
			{"db", "*float32"}, {"lddb", "int"}, {"w", "*float32"}, {"ldw", "int"},
			{"gate", "*float32"}, {"hsum", "*float32"}},
		doc: fmt.Sprintf("folds the %d×%d tile Ap·Bp into db (⊙ g) and h (Σ rows ⊙ w) (NEON).", n.mr, n.nr()),
	}
	a := newAsm(f)
	a.I("MOVD", a.arg("kc", ""), "R0")
	a.I("MOVD", a.arg("a", ""), "R1")
	a.I("MOVD", a.arg("b", ""), "R2")
	n.kloop(a)
	a.I("MOVD", a.arg("db", ""), "R3")
	a.I("MOVD", a.arg("lddb", ""), "R4")
	a.I("LSL", "$2", "R4", "R4")
	a.I("MOVD", a.arg("w", ""), "R5")
	a.I("MOVD", a.arg("ldw", ""), "R6")
	a.I("LSL", "$2", "R6", "R6")
	a.I("MOVD", a.arg("gate", ""), "R7")
	a.I("MOVD", a.arg("hsum", ""), "R8")
	nacc := n.mr * n.nv
	g, h, t := nacc, nacc+n.nv, nacc+2*n.nv // t, t+1: the weight row and the db row
	if t+2 > 32 {
		panic("gen: NEON gated grad kernel does not fit the register file")
	}
	a.I("VLD1", "(R7)", regList(g, n.nv))
	a.I("VLD1", "(R8)", regList(h, n.nv))
	for r := 0; r < n.mr; r++ {
		for v := 0; v < n.nv; v++ {
			a.I("VLD1", fmt.Sprintf("(R5)"), "["+vreg(t)+"]")
			a.I("VLD1", fmt.Sprintf("(R3)"), "["+vreg(t+1)+"]")
			a.I("VFMLA", vreg(t), n.acc(r, v), vreg(h+v))
			a.I("VFMLA", vreg(g+v), n.acc(r, v), vreg(t+1))
			a.I("VST1.P", "["+vreg(t+1)+"]", "16(R3)")
			a.I("ADD", "$16", "R5", "R5")
		}
		a.I("SUB", fmt.Sprintf("$%d", n.nr()*4), "R3", "R3")
		a.I("SUB", fmt.Sprintf("$%d", n.nr()*4), "R5", "R5")
		if r < n.mr-1 {
			a.I("ADD", "R4", "R3", "R3")
			a.I("ADD", "R6", "R5", "R5")
		}
	}
	a.I("VST1", regList(h, n.nv), "(R8)")
	a.I("RET")
	a.done()
	return f
}

func (n arm64NEON) scaleRowsKernel() *fn {
	f := &fn{
		name:   "scaleRowsNEON",
		params: []param{{"rows", "int"}, {"dst", "*float32"}, {"src", "*float32"}, {"s", "*float32"}},
		doc:    fmt.Sprintf("computes dst[r][:] = src[r][:]·s[r] for rows rows of %d values (NEON).", n.nr()),
	}
	a := newAsm(f)
	a.I("MOVD", a.arg("rows", ""), "R0")
	a.I("MOVD", a.arg("dst", ""), "R1")
	a.I("MOVD", a.arg("src", ""), "R2")
	a.I("MOVD", a.arg("s", ""), "R3")
	a.I("CBZ", "R0", "done")
	a.L("loop")
	a.I("VLD1R.P", "4(R3)", "["+vreg(0)+"]")
	a.I("VLD1.P", fmt.Sprintf("%d(R2)", n.nr()*4), regList(1, n.nv))
	for v := 0; v < n.nv; v++ {
		d := fmt.Sprintf("V%d.B16", 1+n.nv+v)
		a.I("VEOR", d, d, d)
		a.I("VFMLA", vreg(0), vreg(1+v), vreg(1+n.nv+v))
	}
	a.I("VST1.P", regList(1+n.nv, n.nv), fmt.Sprintf("%d(R1)", n.nr()*4))
	a.I("SUBS", "$1", "R0", "R0")
	a.I("BNE", "loop")
	a.L("done")
	a.I("RET")
	a.done()
	return f
}

// copyGroupsKernel copies n groups of w floats (w a multiple of 4, at most 16), group i
// from src + i·srcStride to dst + i·dstStride floats.
func (n arm64NEON) copyGroupsKernel(w int) *fn {
	if w%4 != 0 || w > 16 {
		panic("gen: NEON copyGroups width must be a multiple of 4 up to 16")
	}
	f := &fn{
		name:   fmt.Sprintf("copyGroups%dNEON", w),
		params: []param{{"n", "int"}, {"dst", "*float32"}, {"src", "*float32"}, {"dstStride", "int"}, {"srcStride", "int"}},
		doc:    fmt.Sprintf("copies n groups of %d floats from src + i·srcStride to dst + i·dstStride (NEON).", w),
	}
	a := newAsm(f)
	a.I("MOVD", a.arg("n", ""), "R0")
	a.I("MOVD", a.arg("dst", ""), "R1")
	a.I("MOVD", a.arg("src", ""), "R2")
	a.I("MOVD", a.arg("dstStride", ""), "R3")
	a.I("LSL", "$2", "R3", "R3")
	a.I("MOVD", a.arg("srcStride", ""), "R4")
	a.I("LSL", "$2", "R4", "R4")
	a.I("CBZ", "R0", "done")
	a.L("loop")
	a.I("VLD1", "(R2)", regList(0, w/4))
	a.I("VST1", regList(0, w/4), "(R1)")
	a.I("ADD", "R4", "R2", "R2")
	a.I("ADD", "R3", "R1", "R1")
	a.I("SUBS", "$1", "R0", "R0")
	a.I("BNE", "loop")
	a.L("done")
	a.I("RET")
	a.done()
	return f
}

func (n arm64NEON) gateRowsKernel() *fn {
	f := &fn{
		name:   "gateRowsNEON",
		params: []param{{"rows", "int"}, {"dst", "*float32"}, {"src", "*float32"}, {"vec", "*float32"}},
		doc:    fmt.Sprintf("computes dst[r][:] = src[r][:] ⊙ vec[:] for rows rows of %d values (NEON).", n.nr()),
	}
	a := newAsm(f)
	a.I("MOVD", a.arg("rows", ""), "R0")
	a.I("MOVD", a.arg("dst", ""), "R1")
	a.I("MOVD", a.arg("src", ""), "R2")
	a.I("MOVD", a.arg("vec", ""), "R3")
	a.I("VLD1", "(R3)", regList(0, n.nv))
	a.I("CBZ", "R0", "done")
	a.L("loop")
	a.I("VLD1.P", fmt.Sprintf("%d(R2)", n.nr()*4), regList(n.nv, n.nv))
	for v := 0; v < n.nv; v++ {
		d := fmt.Sprintf("V%d.B16", 2*n.nv+v)
		a.I("VEOR", d, d, d)
		a.I("VFMLA", vreg(v), vreg(n.nv+v), vreg(2*n.nv+v))
	}
	a.I("VST1.P", regList(2*n.nv, n.nv), fmt.Sprintf("%d(R1)", n.nr()*4))
	a.I("SUBS", "$1", "R0", "R0")
	a.I("BNE", "loop")
	a.L("done")
	a.I("RET")
	a.done()
	return f
}
