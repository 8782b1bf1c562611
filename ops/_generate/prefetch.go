package main

import "fmt"

// prefetchFn declares a prefetch kernel: it asks for the cache lines of n floats from
// p, the line of the last float included, to be fetched into L2 with instruction how,
// a hint that changes no value and, like every prefetch, never faults. n may be 0.
func prefetchFn(name, how string) (*fn, *asm) {
	f := &fn{
		name:   name,
		params: []param{{"p", "*float32"}, {"n", "int"}},
		doc:    fmt.Sprintf("fetches the cache lines of n floats from p into L2 (%s): a hint that changes no value.", how),
	}
	return f, newAsm(f)
}

// prefetchKernelX86 is the amd64 prefetch kernel (any x86-64 runs it).
func prefetchKernelX86() *fn {
	f, a := prefetchFn("prefetchL2AMD64", "PREFETCHT1")
	a.I("MOVQ", a.arg("p", ""), "SI")
	a.I("MOVQ", a.arg("n", ""), "CX")
	a.I("TESTQ", "CX", "CX")
	a.I("JZ", "done")
	a.I("LEAQ", "-4(SI)(CX*4)", "DX") // the last float
	a.L("loop")
	a.I("PREFETCHT1", "(SI)")
	a.I("ADDQ", imm(64), "SI")
	a.I("CMPQ", "SI", "DX")
	a.I("JLS", "loop") // while SI ≤ the last float (unsigned)
	a.I("PREFETCHT1", "(DX)")
	a.L("done")
	a.I("RET")
	a.done()
	return f
}

// prefetchKernel is the arm64 prefetch kernel.
func (n arm64NEON) prefetchKernel() *fn {
	f, a := prefetchFn("prefetchL2NEON", "PRFM PLDL2KEEP")
	a.I("MOVD", a.arg("p", ""), "R0")
	a.I("MOVD", a.arg("n", ""), "R1")
	a.I("CBZ", "R1", "done")
	a.I("ADD", "R1<<2", "R0", "R2")
	a.I("SUB", "$4", "R2", "R2") // the last float
	a.L("loop")
	a.I("PRFM", "(R0)", "PLDL2KEEP")
	a.I("ADD", "$64", "R0", "R0")
	a.I("CMP", "R2", "R0")
	a.I("BLS", "loop") // while R0 ≤ the last float (unsigned)
	a.I("PRFM", "(R2)", "PLDL2KEEP")
	a.L("done")
	a.I("RET")
	a.done()
	return f
}
