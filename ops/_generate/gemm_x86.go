package main

import "fmt"

// The amd64 matmul micro-kernels. Each computes one mr×nr tile of C from a packed panel
// of A (kc steps of mr values) and a packed panel of B (kc steps of nr values), keeping
// the tile in registers: per k step, nr/lanes vector loads of B, mr broadcasts of A and
// mr·nr/lanes fused multiply-adds.

// x86 describes one amd64 vector ISA for the generator.
type x86 struct {
	name  string // Go identifier suffix: AVX2, AVX512
	reg   string // register prefix: Y or Z
	lanes int    // float32 lanes per register
	nregs int    // vector registers available
	mr    int    // micro-tile rows
	nv    int    // registers per micro-tile row (nr = nv·lanes)
}

func (x x86) nr() int { return x.nv * x.lanes }

func (x x86) r(i int) string { return fmt.Sprintf("%s%d", x.reg, i) }

// zero clears a vector register.
func (x x86) zero(a *asm, r string) {
	if x.reg == "Z" {
		a.I("VPXORD", r, r, r)
	} else {
		a.I("VXORPS", r, r, r)
	}
}

var (
	avx2   = x86{name: "AVX2", reg: "Y", lanes: 8, nregs: 16, mr: 6, nv: 2}
	avx512 = x86{name: "AVX512", reg: "Z", lanes: 16, nregs: 32, mr: 12, nv: 2}
)

// gradShape is the micro-tile of an ISA's weight/gate-gradient kernels: its height divides
// the grid-row heights of common HyperGrid shapes (powers of two), so whole tiles lie in
// one grid row and fold into the gradients straight from the registers.
func (x x86) gradShape() x86 {
	g := x
	g.name += "Grad"
	if x.reg == "Z" {
		g.mr = 8
	} else {
		g.mr = 4
	}
	return g
}

// acc is the register holding accumulator (row r, vector v) of the micro-tile.
func (x x86) acc(r, v int) string { return x.r(r*x.nv + v) }

// aOperand says where the k loop reads the tile's A values: from a packed panel (AX
// walks it, mr values per step), or, direct, from mr rows of A itself (row r at
// rowBases[r/3] + (r%3)·SI, SI holding the leading dimension in bytes; every base walks
// one value per step).
type aOperand struct{ direct bool }

// rowBases are the registers the direct k loop keeps its row pointers in: three rows
// per register (base, base+lda, base+2·lda).
var rowBases = []string{"AX", "R8", "R10", "R11"}

// at is the operand of A's value for row r, u steps ahead of the current one.
func (o aOperand) at(x x86, u, r int) string {
	if !o.direct {
		return mem((u*x.mr+r)*4, "AX")
	}
	base := mem(u*4, rowBases[r/3])
	switch r % 3 {
	case 1:
		return base + "(SI*1)"
	case 2:
		return base + "(SI*2)"
	}
	return base
}

// advance moves the loop's A pointers on by steps k steps.
func (o aOperand) advance(a *asm, x x86, steps int) {
	if !o.direct {
		a.I("ADDQ", imm(steps*x.mr*4), "AX")
		return
	}
	for _, r := range rowBases[:(x.mr+2)/3] {
		a.I("ADDQ", imm(steps*4), r)
	}
}

// prefetch emits the loop's software prefetch of A, once per four k steps: the packed
// panel streams from L2, so the lines 8 steps ahead are requested; the direct rows are
// left to the hardware prefetchers, which follow each row's ascending stream.
func (o aOperand) prefetch(a *asm, x x86) {
	if o.direct {
		return
	}
	for off := 0; off < 4*x.mr*4; off += 64 {
		a.I("PREFETCHT0", mem(8*x.mr*4+off, "AX"))
	}
}

// kloop emits the k loop that accumulates A·B into the tile registers. AX walks the
// packed A panel (or, direct, the rows of A: see aOperand), BX the packed B panel, CX
// counts k steps. It unrolls by 4.
func (x x86) kloop(a *asm, prefix string, ao aOperand) {
	nacc := x.mr * x.nv
	bregs := make([]string, x.nv)
	for v := range bregs {
		bregs[v] = x.r(nacc + v)
	}
	bc := []string{x.r(nacc + x.nv), x.r(nacc + x.nv + 1)}
	if nacc+x.nv+2 > x.nregs {
		panic("gen: micro-tile does not fit the register file")
	}
	for r := 0; r < x.mr; r++ {
		for v := 0; v < x.nv; v++ {
			x.zero(a, x.acc(r, v))
		}
	}
	step := func(u int) {
		for v := 0; v < x.nv; v++ {
			a.I("VMOVUPS", mem((u*x.nr()+v*x.lanes)*4, "BX"), bregs[v])
		}
		for r := 0; r < x.mr; r++ {
			b := bc[r%2]
			a.I("VBROADCASTSS", ao.at(x, u, r), b)
			for v := 0; v < x.nv; v++ {
				a.I("VFMADD231PS", bregs[v], b, x.acc(r, v))
			}
		}
	}
	a.I("MOVQ", "CX", "R9")
	a.I("SHRQ", imm(2), "R9")
	a.I("JZ", prefix+"tail")
	a.L(prefix + "loop4")
	ao.prefetch(a, x)
	for u := 0; u < 4; u++ {
		step(u)
	}
	ao.advance(a, x, 4)
	a.I("ADDQ", imm(4*x.nr()*4), "BX")
	a.I("DECQ", "R9")
	a.I("JNZ", prefix+"loop4")
	a.L(prefix + "tail")
	a.I("ANDQ", imm(3), "CX")
	a.I("JZ", prefix+"done")
	a.L(prefix + "loop1")
	step(0)
	ao.advance(a, x, 1)
	a.I("ADDQ", imm(x.nr()*4), "BX")
	a.I("DECQ", "CX")
	a.I("JNZ", prefix+"loop1")
	a.L(prefix + "done")
}

// prefetchTile emits a PREFETCHT0 for every line of an mr×nr tile of each matrix
// given as {register holding its first row's address, register holding its row
// stride in bytes}, row by row; it advances the address registers.
func (x x86) prefetchTile(a *asm, tiles ...[2]string) {
	for r := 0; r < x.mr; r++ {
		for off := 0; off < x.nr()*4; off += 64 {
			for _, t := range tiles {
				a.I("PREFETCHT0", mem(off, t[0]))
			}
		}
		if r < x.mr-1 {
			for _, t := range tiles {
				a.I("ADDQ", t[1], t[0])
			}
		}
	}
}

// gemmKernel: C[mr×nr] += Ap·Bp over kc steps; C has leading dimension ldc (elements).
// With overwrite, C[mr×nr] = Ap·Bp: C is written without being read.
func (x x86) gemmKernel(overwrite bool) *fn { return x.tileKernel(overwrite, aOperand{}) }

// gemmKernelDirect is gemmKernel reading A's mr rows in place (leading dimension lda,
// elements) instead of a packed panel: the same fused multiply-adds in the same order,
// so the same bits as packing A with alpha 1.
func (x x86) gemmKernelDirect(overwrite bool) *fn {
	return x.tileKernel(overwrite, aOperand{direct: true})
}

func (x x86) tileKernel(overwrite bool, ao aOperand) *fn {
	name, what := "gemmKernel", "+="
	if ao.direct {
		name += "Direct"
	}
	if overwrite {
		name, what = name+"Set", "="
	}
	name += x.name
	params := []param{{"kc", "int"}, {"a", "*float32"}}
	doc := fmt.Sprintf("computes C[%d×%d] %s Ap·Bp for kc steps of packed panels (%s).", x.mr, x.nr(), what, x.name)
	if ao.direct {
		params = append(params, param{"lda", "int"})
		doc = fmt.Sprintf("computes C[%d×%d] %s A·Bp for kc steps of A's rows in place (leading dimension lda) and a packed panel of B (%s).", x.mr, x.nr(), what, x.name)
	}
	params = append(params, param{"b", "*float32"}, param{"c", "*float32"}, param{"ldc", "int"})
	f := &fn{name: name, params: params, doc: doc}
	a := newAsm(f)
	a.I("MOVQ", a.arg("kc", ""), "CX")
	a.I("MOVQ", a.arg("a", ""), "AX")
	if ao.direct {
		a.I("MOVQ", a.arg("lda", ""), "SI")
		a.I("SHLQ", imm(2), "SI")
		a.C("row bases: rows 3i, 3i+1, 3i+2 at base i, base i + lda, base i + 2·lda")
		a.I("LEAQ", "(SI)(SI*2)", "R13")
		prev := "AX"
		for _, r := range rowBases[1 : (x.mr+2)/3] {
			a.I("LEAQ", "("+prev+")(R13*1)", r)
			prev = r
		}
	}
	a.I("MOVQ", a.arg("b", ""), "BX")
	a.I("MOVQ", a.arg("c", ""), "DI")
	a.I("MOVQ", a.arg("ldc", ""), "DX")
	a.I("SHLQ", imm(2), "DX")
	a.C("prefetch the C tile: it is written once the k loop ends")
	a.I("MOVQ", "DI", "R12")
	x.prefetchTile(a, [2]string{"R12", "DX"})
	x.kloop(a, "", ao)
	a.C("store the tile into C, row by row")
	for r := 0; r < x.mr; r++ {
		for v := 0; v < x.nv; v++ {
			if !overwrite {
				a.I("VADDPS", mem(v*x.lanes*4, "DI"), x.acc(r, v), x.acc(r, v))
			}
			a.I("VMOVUPS", x.acc(r, v), mem(v*x.lanes*4, "DI"))
		}
		if r < x.mr-1 {
			a.I("ADDQ", "DX", "DI")
		}
	}
	a.I("VZEROUPPER")
	a.I("RET")
	a.done()
	return f
}

// gatedGradKernel computes the tile P = Ap·Bp over kc steps and folds it into the
// HyperGrid weight and gate gradients without storing it:
//
//	db[r][:] += P[r][:] ⊙ g[:]       (g: the gate row of the tile's grid row, nr values)
//	h[:]     += Σ_r P[r][:] ⊙ w[r][:] (w: the tile of the weight, leading dimension ldw)
//
// All mr rows of the tile must lie in one grid row (the caller checks).
func (x x86) gatedGradKernel() *fn {
	f := &fn{
		name: "gatedGradKernel" + x.name,
		params: []param{{"kc", "int"}, {"a", "*float32"}, {"b", "*float32"},
			{"db", "*float32"}, {"lddb", "int"}, {"w", "*float32"}, {"ldw", "int"},
			{"gate", "*float32"}, {"hsum", "*float32"}},
		doc: fmt.Sprintf("folds the %d×%d tile Ap·Bp into db (⊙ g) and h (Σ rows ⊙ w) (%s).", x.mr, x.nr(), x.name),
	}
	a := newAsm(f)
	a.I("MOVQ", a.arg("kc", ""), "CX")
	a.I("MOVQ", a.arg("a", ""), "AX")
	a.I("MOVQ", a.arg("b", ""), "BX")
	// The tile's rows of db and w are read once the k loop ends, and come from L3 or
	// memory (each example's tiles sweep all of them): request them now, so that the
	// loop's time covers their latency.
	a.C("prefetch the tile's rows of db and w")
	a.I("MOVQ", a.arg("db", ""), "R12")
	a.I("MOVQ", a.arg("lddb", ""), "DX")
	a.I("SHLQ", imm(2), "DX")
	a.I("MOVQ", a.arg("w", ""), "R13")
	a.I("MOVQ", a.arg("ldw", ""), "R8")
	a.I("SHLQ", imm(2), "R8")
	x.prefetchTile(a, [2]string{"R12", "DX"}, [2]string{"R13", "R8"})
	x.kloop(a, "", aOperand{})
	a.I("MOVQ", a.arg("db", ""), "DI")
	a.I("MOVQ", a.arg("lddb", ""), "DX")
	a.I("SHLQ", imm(2), "DX")
	a.I("MOVQ", a.arg("w", ""), "SI")
	a.I("MOVQ", a.arg("ldw", ""), "R8")
	a.I("SHLQ", imm(2), "R8")
	a.I("MOVQ", a.arg("gate", ""), "R10")
	a.I("MOVQ", a.arg("hsum", ""), "R11")
	nacc := x.mr * x.nv
	free := x.nregs - nacc
	// h stays in registers; g does too when there is room, else it is a memory operand.
	gInRegs := free >= 3*x.nv
	if free < x.nv+1 {
		panic("gen: gated grad kernel needs nv+1 free registers")
	}
	h := func(v int) string { return x.r(nacc + v) }
	gBase := nacc + x.nv
	g := func(v int) string {
		if gInRegs {
			return x.r(gBase + v)
		}
		return mem(v*x.lanes*4, "R10")
	}
	tBase, nt := gBase, free-x.nv
	if gInRegs {
		tBase, nt = gBase+x.nv, free-2*x.nv
	}
	t := func(v int) string { return x.r(tBase + v%nt) }
	for v := 0; v < x.nv; v++ {
		if gInRegs {
			a.I("VMOVUPS", mem(v*x.lanes*4, "R10"), g(v))
		}
		a.I("VMOVUPS", mem(v*x.lanes*4, "R11"), h(v))
	}
	for r := 0; r < x.mr; r++ {
		for v := 0; v < x.nv; v++ {
			a.I("VFMADD231PS", mem(v*x.lanes*4, "SI"), x.acc(r, v), h(v))
			a.I("VMOVUPS", mem(v*x.lanes*4, "DI"), t(v))
			a.I("VFMADD231PS", g(v), x.acc(r, v), t(v))
			a.I("VMOVUPS", t(v), mem(v*x.lanes*4, "DI"))
		}
		if r < x.mr-1 {
			a.I("ADDQ", "DX", "DI")
			a.I("ADDQ", "R8", "SI")
		}
	}
	for v := 0; v < x.nv; v++ {
		a.I("VMOVUPS", h(v), mem(v*x.lanes*4, "R11"))
	}
	a.I("VZEROUPPER")
	a.I("RET")
	a.done()
	return f
}

// scaleRowsKernel: dst[r][:] = src[r][:]·s[r] for rows rows of nr values; it gates a
// packed panel of the transposed weight, where each row has one gate value.
func (x x86) scaleRowsKernel() *fn {
	f := &fn{
		name:   "scaleRows" + x.name,
		params: []param{{"rows", "int"}, {"dst", "*float32"}, {"src", "*float32"}, {"s", "*float32"}},
		doc:    fmt.Sprintf("computes dst[r][:] = src[r][:]·s[r] for rows rows of %d values (%s).", x.nr(), x.name),
	}
	a := newAsm(f)
	a.I("MOVQ", a.arg("rows", ""), "CX")
	a.I("MOVQ", a.arg("dst", ""), "DI")
	a.I("MOVQ", a.arg("src", ""), "SI")
	a.I("MOVQ", a.arg("s", ""), "R10")
	a.I("TESTQ", "CX", "CX")
	a.I("JZ", "done")
	a.L("loop")
	a.I("VBROADCASTSS", "(R10)", x.r(0))
	for v := 0; v < x.nv; v++ {
		a.I("VMULPS", mem(v*x.lanes*4, "SI"), x.r(0), x.r(1+v))
		a.I("VMOVUPS", x.r(1+v), mem(v*x.lanes*4, "DI"))
	}
	a.I("ADDQ", imm(4), "R10")
	a.I("ADDQ", imm(x.nr()*4), "SI")
	a.I("ADDQ", imm(x.nr()*4), "DI")
	endCountedLoop(a)
	return f
}

// endCountedLoop closes an x86 loop labelled "loop" that counts down in CX, then the
// function at the label "done" (where a loop entered with a count of 0 jumps).
func endCountedLoop(a *asm) {
	a.I("DECQ", "CX")
	a.I("JNZ", "loop")
	a.L("done")
	a.I("VZEROUPPER")
	a.I("RET")
	a.done()
}

// copyGroupsKernel copies n groups of w floats, group i from src + i·srcStride to
// dst + i·dstStride (in floats): the packers' copy of one panel's steps, read down the
// rows of the source and written contiguously.
func (x x86) copyGroupsKernel(w int) *fn {
	f := &fn{
		name:   fmt.Sprintf("copyGroups%d%s", w, x.name),
		params: []param{{"n", "int"}, {"dst", "*float32"}, {"src", "*float32"}, {"dstStride", "int"}, {"srcStride", "int"}},
		doc:    fmt.Sprintf("copies n groups of %d floats from src + i·srcStride to dst + i·dstStride (%s).", w, x.name),
	}
	a := newAsm(f)
	a.I("MOVQ", a.arg("n", ""), "CX")
	a.I("MOVQ", a.arg("dst", ""), "DI")
	a.I("MOVQ", a.arg("src", ""), "SI")
	a.I("MOVQ", a.arg("dstStride", ""), "DX")
	a.I("SHLQ", imm(2), "DX")
	a.I("MOVQ", a.arg("srcStride", ""), "BX")
	a.I("SHLQ", imm(2), "BX")
	a.I("TESTQ", "CX", "CX")
	a.I("JZ", "done")
	// R8 = n·srcStride bytes: each group's source n rows further on (packRowPieces'
	// next band of rows, which it copies after this band's other panels) is fetched into
	// L2 while this one is copied. The source's rows are 1-4 KiB apart or more and each
	// row's piece a line or two, too short a stream for the hardware prefetchers
	// (BenchmarkPackFromMemory, AMD EPYC Zen 5: 9-11 → 13-23 GB/s; into L1 instead, or
	// two bands ahead, measured less).
	a.I("MOVQ", "CX", "R8")
	a.I("IMULQ", "BX", "R8")
	a.L("loop")
	a.I("PREFETCHT1", "(SI)(R8*1)")
	if w*4 > 32 {
		a.I("PREFETCHT1", fmt.Sprintf("%d(SI)(R8*1)", w*4-4))
	}
	off := 0
	for rem := w; rem > 0; {
		switch {
		case rem >= 16 && x.reg == "Z":
			a.I("VMOVUPS", mem(off, "SI"), "Z0")
			a.I("VMOVUPS", "Z0", mem(off, "DI"))
			off, rem = off+64, rem-16
		case rem >= 8:
			a.I("VMOVUPS", mem(off, "SI"), "Y0")
			a.I("VMOVUPS", "Y0", mem(off, "DI"))
			off, rem = off+32, rem-8
		case rem >= 4:
			a.I("VMOVUPS", mem(off, "SI"), "X0")
			a.I("VMOVUPS", "X0", mem(off, "DI"))
			off, rem = off+16, rem-4
		case rem >= 2:
			a.I("MOVQ", mem(off, "SI"), "AX")
			a.I("MOVQ", "AX", mem(off, "DI"))
			off, rem = off+8, rem-2
		default:
			a.I("MOVL", mem(off, "SI"), "AX")
			a.I("MOVL", "AX", mem(off, "DI"))
			off, rem = off+4, rem-1
		}
	}
	a.I("ADDQ", "BX", "SI")
	a.I("ADDQ", "DX", "DI")
	endCountedLoop(a)
	return f
}

// interleaveKernel packs w rows (w a multiple of 4) of a row-major matrix into the
// micro-panel layout dst[p·w + r] = alpha·src[r·ld + p], 16 steps p at a time: each group
// of 4 rows is loaded as 4 vectors of 16 steps, transposed 4×4 within each 128-bit lane
// (unpack, shuffle) and stored lane by lane. It is AVX-512 only.
func (x x86) interleaveKernel(w int) *fn {
	if x.reg != "Z" || w%4 != 0 {
		panic("gen: interleave kernel needs AVX-512 and a width that is a multiple of 4")
	}
	f := &fn{
		name: fmt.Sprintf("interleave%d%s", w, x.name),
		params: []param{{"blocks", "int"}, {"dst", "*float32"}, {"src", "*float32"},
			{"ld", "int"}, {"alpha", "float32"}},
		doc: fmt.Sprintf("packs %d rows for 16·blocks steps: dst[p·%d + r] = alpha·src[r·ld + p] (%s).", w, w, x.name),
	}
	a := newAsm(f)
	a.I("MOVQ", a.arg("blocks", ""), "CX")
	a.I("MOVQ", a.arg("dst", ""), "DI")
	a.I("MOVQ", a.arg("src", ""), "SI")
	a.I("MOVQ", a.arg("ld", ""), "DX")
	a.I("SHLQ", imm(2), "DX")
	a.I("VBROADCASTSS", a.arg("alpha", ""), "Z31")
	a.I("TESTQ", "CX", "CX")
	a.I("JZ", "done")
	// R10 = w·ld bytes: the packers interleave w rows after w rows, so each of this
	// panel's loads has the next panel's line at R10 past it, fetched into L2 now. Only
	// for B's wide panels: for A's narrow ones, a prefetch per load measured 25% slower
	// from L2 (BenchmarkPack), and the products read most A in place.
	prefetch := w >= 16
	if prefetch {
		a.I("MOVQ", "DX", "R10")
		a.I("IMULQ", imm(w), "R10")
	}
	a.L("loop")
	a.I("MOVQ", "SI", "R8")
	for g := 0; g < w/4; g++ {
		// Rows 4g..4g+3 at R8, R8+ld, R8+2ld, R8+3ld.
		a.I("LEAQ", "(R8)(DX*2)", "R9")
		if prefetch {
			a.I("PREFETCHT1", "(R8)(R10*1)")
			a.I("LEAQ", "(R8)(R10*1)", "R11")
			a.I("PREFETCHT1", "(R11)(DX*1)")
			a.I("PREFETCHT1", "(R11)(DX*2)")
			a.I("LEAQ", "(R9)(R10*1)", "R11")
			a.I("PREFETCHT1", "(R11)(DX*1)")
		}
		a.I("VMULPS", "(R8)", "Z31", "Z0")
		a.I("VMULPS", "(R8)(DX*1)", "Z31", "Z1")
		a.I("VMULPS", "(R9)", "Z31", "Z2")
		a.I("VMULPS", "(R9)(DX*1)", "Z31", "Z3")
		a.I("VUNPCKLPS", "Z1", "Z0", "Z4")         // a0 b0 a1 b1
		a.I("VUNPCKHPS", "Z1", "Z0", "Z5")         // a2 b2 a3 b3
		a.I("VUNPCKLPS", "Z3", "Z2", "Z6")         // c0 d0 c1 d1
		a.I("VUNPCKHPS", "Z3", "Z2", "Z7")         // c2 d2 c3 d3
		a.I("VSHUFPS", "$0x44", "Z6", "Z4", "Z8")  // step 0 of each lane
		a.I("VSHUFPS", "$0xEE", "Z6", "Z4", "Z9")  // step 1
		a.I("VSHUFPS", "$0x44", "Z7", "Z5", "Z10") // step 2
		a.I("VSHUFPS", "$0xEE", "Z7", "Z5", "Z11") // step 3
		for j := 0; j < 4; j++ {
			for l := 0; l < 4; l++ {
				off := ((4*l+j)*w + 4*g) * 4
				if l == 0 {
					a.I("VMOVUPS", fmt.Sprintf("X%d", 8+j), mem(off, "DI"))
				} else {
					a.I("VEXTRACTF32X4", imm(l), fmt.Sprintf("Z%d", 8+j), mem(off, "DI"))
				}
			}
		}
		if g < w/4-1 {
			a.I("LEAQ", "(R9)(DX*2)", "R8")
		}
	}
	a.I("ADDQ", imm(64), "SI")
	a.I("ADDQ", imm(16*w*4), "DI")
	endCountedLoop(a)
	return f
}

// gateRowsKernel: dst[r][:] = src[r][:] ⊙ vec[:] for rows rows of nr values; it gates a
// packed panel of the weight for one example.
func (x x86) gateRowsKernel() *fn {
	f := &fn{
		name:   "gateRows" + x.name,
		params: []param{{"rows", "int"}, {"dst", "*float32"}, {"src", "*float32"}, {"vec", "*float32"}},
		doc:    fmt.Sprintf("computes dst[r][:] = src[r][:] ⊙ vec[:] for rows rows of %d values (%s).", x.nr(), x.name),
	}
	a := newAsm(f)
	a.I("MOVQ", a.arg("rows", ""), "CX")
	a.I("MOVQ", a.arg("dst", ""), "DI")
	a.I("MOVQ", a.arg("src", ""), "SI")
	a.I("MOVQ", a.arg("vec", ""), "R10")
	for v := 0; v < x.nv; v++ {
		a.I("VMOVUPS", mem(v*x.lanes*4, "R10"), x.r(v))
	}
	a.I("TESTQ", "CX", "CX")
	a.I("JZ", "done")
	a.L("loop")
	for v := 0; v < x.nv; v++ {
		a.I("VMULPS", mem(v*x.lanes*4, "SI"), x.r(v), x.r(x.nv+v))
		a.I("VMOVUPS", x.r(x.nv+v), mem(v*x.lanes*4, "DI"))
	}
	a.I("ADDQ", imm(x.nr()*4), "SI")
	a.I("ADDQ", imm(x.nr()*4), "DI")
	endCountedLoop(a)
	return f
}
