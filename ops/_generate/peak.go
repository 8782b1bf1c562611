package main

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// The FMA-peak kernels: the multiply-add throughput of one core, which the matmul
// kernels are measured against (ops.PeakGFLOPS). Each runs n iterations of accs
// independent vector fused multiply-adds acc += m1·m2, every accumulator its own
// dependency chain (more chains than FMA latency × FMA ports on any current core), with
// m1 and m2 broadcast from out[0] and out[1]; it then stores the sum of the
// accumulators' first lanes into out[0], so the work cannot be optimised away and a
// test can check it (accs·n·m1·m2 when that is exact).

// peakAccs is the number of accumulators of an ISA's peak kernel: all registers but
// the two operands and two spare.
func peakAccs(nregs int) int { return nregs - 4 }

func (x x86) peakKernel() *fn {
	accs := peakAccs(x.nregs)
	f := &fn{
		name:   "fmaPeak" + x.name,
		params: []param{{"n", "int"}, {"out", "*float32"}},
		doc:    fmt.Sprintf("runs n iterations of %d independent %d-lane FMAs and stores the sum of their first lanes into out[0] (%s).", accs, x.lanes, x.name),
	}
	a := newAsm(f)
	m1, m2 := x.r(x.nregs-2), x.r(x.nregs-1)
	a.I("MOVQ", a.arg("n", ""), "CX")
	a.I("MOVQ", a.arg("out", ""), "DI")
	a.I("VBROADCASTSS", "(DI)", m1)
	a.I("VBROADCASTSS", "4(DI)", m2)
	for i := range accs {
		x.zero(a, x.r(i))
	}
	a.I("TESTQ", "CX", "CX")
	a.I("JZ", "sum")
	a.L("loop")
	for i := range accs {
		a.I("VFMADD231PS", m1, m2, x.r(i))
	}
	a.I("DECQ", "CX")
	a.I("JNZ", "loop")
	a.L("sum")
	for i := 1; i < accs; i++ {
		a.I("VADDPS", x.r(i), x.r(0), x.r(0))
	}
	a.I("VMOVSS", "X0", "(DI)")
	a.I("VZEROUPPER")
	a.I("RET")
	a.done()
	return f
}

func (n arm64NEON) peakKernel() *fn {
	accs := peakAccs(32)
	f := &fn{
		name:   "fmaPeakNEON",
		params: []param{{"n", "int"}, {"out", "*float32"}},
		doc:    fmt.Sprintf("runs n iterations of %d independent 4-lane FMAs and stores the sum of their first lanes into out[0] (NEON).", accs),
	}
	a := newAsm(f)
	m1, m2, one := vreg(30), vreg(31), vreg(29)
	a.I("MOVD", a.arg("n", ""), "R0")
	a.I("MOVD", a.arg("out", ""), "R1")
	a.I("VLD1R", "(R1)", "["+m1+"]")
	a.I("ADD", "$4", "R1", "R2")
	a.I("VLD1R", "(R2)", "["+m2+"]")
	for i := range accs {
		a.I("VEOR", fmt.Sprintf("V%d.B16", i), fmt.Sprintf("V%d.B16", i), fmt.Sprintf("V%d.B16", i))
	}
	a.I("CBZ", "R0", "sum")
	a.L("loop")
	for i := range accs {
		a.I("VFMLA", m1, m2, vreg(i))
	}
	a.I("SUBS", "$1", "R0", "R0")
	a.I("BNE", "loop")
	a.L("sum")
	a.C("acc0 += acc_i·1: the sum of the accumulators")
	a.I("MOVW", "$0x3f800000", "R5")
	a.I("VDUP", "R5", one)
	for i := 1; i < accs; i++ {
		a.I("VFMLA", one, vreg(i), vreg(0))
	}
	a.I("FMOVS", "F0", "(R1)")
	a.I("RET")
	a.done()
	return f
}

// registerPeak hands a peak kernel to the dispatcher.
func registerPeak(isa string, f *fn, accs, lanes int) jen.Code {
	return jen.Var().Id("_").Op("=").Id("fmaPeakOp").Dot("add").Call(jen.Id(isa), jen.Id("peakKernel").Values(jen.Dict{
		jen.Id("run"):   jen.Id(f.name),
		jen.Id("accs"):  jen.Lit(accs),
		jen.Id("lanes"): jen.Lit(lanes),
	}))
}
