package main

import "fmt"

// neonv is the arm64 backend of the vector kernels. The tail is done one element at a
// time with the same body: a scalar load (FMOVS) fills lane 0 and clears the others, a
// scalar store writes lane 0 only. Constants live in registers V30, V29, … (set up at
// entry); V31 is the backend's scratch.
//
// Go's arm64 assembler has no mnemonics for the vector floating-point arithmetic,
// comparisons and conversions, so those are emitted as WORD encodings with the
// instruction in a comment.
//
// General registers: R0 counts the elements left, R1…R8 hold the streams' row pointers,
// R9…R16 walk them within a loop, R17 counts the rows left, R19 and R20 are scratch.
type neonv struct {
	prologue []string
}

func newNeonv() *neonv { return &neonv{} }

const neonScratch = 31

func (n *neonv) isaName() string           { return "NEON" }
func (n *neonv) lanes() int                { return 4 }
func (n *neonv) constRegs() bool           { return true }
func (n *neonv) kernelRegs(nconst int) int { return neonScratch - nconst }
func nv(i int) string                      { return fmt.Sprintf("V%d.S4", i) }
func nb(i int) string                      { return fmt.Sprintf("V%d.B16", i) }
func nf(i int) string                      { return fmt.Sprintf("F%d", i) }
func (n *neonv) base(s stream) string      { return fmt.Sprintf("R%d", 1+s.id) }
func (n *neonv) work(s stream) string      { return fmt.Sprintf("R%d", 9+s.id) }

// r is the register of an operand; a constant gets one at entry on first use.
func (n *neonv) r(k *vk, o opnd) int {
	if !o.isC {
		return o.r
	}
	i := k.constIndex(o.bits)
	r := neonScratch - 1 - i
	if i == len(k.consts)-1 && len(n.prologue) < 2*len(k.consts) {
		n.prologue = append(n.prologue,
			fmt.Sprintf("\t%-12s $%#08x, R20 // %s", "MOVW", o.bits, o.label),
			fmt.Sprintf("\t%-12s R20, %s", "VDUP", nv(r)))
	}
	return r
}

// word emits a raw instruction encoding with its assembly in a comment.
func word(a *asm, enc uint32, format string, args ...any) {
	a.lines = append(a.lines, fmt.Sprintf("\t%-12s $%#08x // %s", "WORD", enc, fmt.Sprintf(format, args...)))
}

// w3 emits a three-register vector instruction (Rd, Rn, Rm).
func w3(k *vk, base uint32, name string, d, a, b int) {
	word(k.asm, base|uint32(b)<<16|uint32(a)<<5|uint32(d), "%s V%d.4S, V%d.4S, V%d.4S", name, d, a, b)
}

// w2 emits a two-register vector instruction (Rd, Rn).
func w2(k *vk, base uint32, name string, d, a int) {
	word(k.asm, base|uint32(a)<<5|uint32(d), "%s V%d.4S, V%d.4S", name, d, a)
}

func (n *neonv) stream(k *vk, s stream) {
	if s.id >= 8 {
		panic("gen: " + k.f.name + ": too many streams for arm64")
	}
}

func (n *neonv) begin(k *vk) {
	n.prologue = nil
	for _, s := range k.streams {
		k.I("MOVD", k.arg(s.arg, "_base"), n.base(s))
	}
}

func (n *neonv) end(k *vk) {
	k.I("RET")
	k.lines = append(append([]string{}, n.prologue...), k.lines...)
	n.prologue = nil
}

func (n *neonv) loop(k *vk, count string, u int, body func(i int)) {
	k.I("MOVD", countArg(k, count), "R0")
	var ws []stream
	for _, s := range k.streams {
		if s.kind != rowScalar {
			ws = append(ws, s)
			k.I("MOVD", n.base(s), n.work(s))
		}
	}
	advance := func(bytes int) {
		for _, s := range ws {
			k.I("ADD", imm(bytes), n.work(s), n.work(s))
		}
	}
	lu, l1, lt, ll, ld := k.label("unrolled"), k.label("vector"), k.label("tail"), k.label("lane"), k.label("done")
	k.mode = full
	if u > 1 {
		k.L(lu)
		k.I("CMP", imm(4*u), "R0")
		k.I("BLT", l1)
		for i := 0; i < u; i++ {
			body(i)
		}
		advance(16 * u)
		k.I("SUB", imm(4*u), "R0", "R0")
		k.I("B", lu)
	}
	k.L(l1)
	k.I("CMP", "$4", "R0")
	k.I("BLT", lt)
	body(0)
	advance(16)
	k.I("SUB", "$4", "R0", "R0")
	k.I("B", l1)
	k.L(lt)
	k.I("CMP", "$0", "R0")
	k.I("BLE", ld)
	k.L(ll)
	k.mode = masked
	body(0)
	k.mode = full
	advance(4)
	k.I("SUBS", "$1", "R0", "R0")
	k.I("BNE", ll)
	k.L(ld)
}

func (n *neonv) rows(k *vk, body func()) {
	lr, le := k.label("row"), k.label("rowsdone")
	k.I("MOVD", k.arg("rows", ""), "R17")
	k.I("CMP", "$0", "R17")
	k.I("BLE", le)
	k.L(lr)
	body()
	k.I("MOVD", k.arg("cols", ""), "R19")
	k.I("LSL", "$2", "R19", "R19")
	for _, s := range k.streams {
		switch s.kind {
		case rowVec:
			k.I("ADD", "R19", n.base(s), n.base(s))
		case rowScalar:
			k.I("ADD", "$4", n.base(s), n.base(s))
		}
	}
	k.I("SUBS", "$1", "R17", "R17")
	k.I("BGT", lr)
	k.L(le)
}

func (n *neonv) load(k *vk, d int, s stream, i int) {
	if k.mode == full {
		k.I("FMOVQ", mem(16*i, n.work(s)), fmt.Sprintf("F%d", d))
	} else {
		k.I("FMOVS", mem(0, n.work(s)), nf(d)) // clears lanes 1…3
	}
}

func (n *neonv) loadFill(k *vk, d int, s stream, i int, fill opnd) {
	if k.mode == full {
		n.load(k, d, s, i)
		return
	}
	n.mov(k, d, fill)
	k.I("VLD1", mem(0, n.work(s)), fmt.Sprintf("V%d.S[0]", d))
}

func (n *neonv) store(k *vk, r int, s stream, i int) {
	if k.mode == full {
		k.I("FMOVQ", fmt.Sprintf("F%d", r), mem(16*i, n.work(s)))
	} else {
		k.I("FMOVS", nf(r), mem(0, n.work(s)))
	}
}

// zeroInactive: a scalar FMOV clears lanes 1…3.
func (n *neonv) zeroInactive(k *vk, d int) { k.I("FMOVS", nf(d), nf(d)) }

func (n *neonv) mov(k *vk, d int, a opnd) {
	if r := n.r(k, a); r != d {
		k.I("VMOV", nb(r), nb(d))
	}
}

func (n *neonv) zero(k *vk, d int) { k.I("VEOR", nb(d), nb(d), nb(d)) }

func (n *neonv) bin(k *vk, op binOp, d, a int, b opnd) {
	rb := n.r(k, b)
	switch op {
	case opAdd:
		w3(k, 0x4E20D400, "FADD", d, a, rb)
	case opSub:
		w3(k, 0x4EA0D400, "FSUB", d, a, rb)
	case opMul:
		w3(k, 0x6E20DC00, "FMUL", d, a, rb)
	case opDiv:
		w3(k, 0x6E20FC00, "FDIV", d, a, rb)
	case opMax:
		w3(k, 0x4E20C400, "FMAXNM", d, a, rb) // a NaN gives b
	case opAnd:
		k.I("VAND", nb(rb), nb(a), nb(d))
	case opOr:
		k.I("VORR", nb(rb), nb(a), nb(d))
	case opIAdd:
		k.I("VADD", nv(rb), nv(a), nv(d))
	case opISub:
		k.I("VSUB", nv(rb), nv(a), nv(d))
	default:
		panic("gen: NEON: unknown operation")
	}
}

func (n *neonv) fma(k *vk, neg bool, d, a int, b, c opnd) {
	name := "VFMLA"
	if neg {
		name = "VFMLS"
	}
	rb, rc := n.r(k, b), n.r(k, c)
	switch {
	case rc == d:
		k.I(name, nv(rb), nv(a), nv(d))
	case a != d && rb != d:
		k.I("VMOV", nb(rc), nb(d))
		k.I(name, nv(rb), nv(a), nv(d))
	default:
		k.I("VMOV", nb(rc), nb(neonScratch))
		k.I(name, nv(rb), nv(a), nv(neonScratch))
		k.I("VMOV", nb(neonScratch), nb(d))
	}
}

func (n *neonv) clamp(k *vk, d, a int, lo, hi opnd) {
	w3(k, 0x4E20F400, "FMAX", d, a, n.r(k, lo)) // FMAX and FMIN keep NaN
	w3(k, 0x4EA0F400, "FMIN", d, d, n.r(k, hi))
}

func (n *neonv) sel(k *vk, d, m int, a, b opnd) {
	ra, rb := n.r(k, a), n.r(k, b)
	n.sshr(k, neonScratch, m, 31)
	k.I("VBSL", nb(rb), nb(ra), nb(neonScratch)) // scratch = mask ? a : b
	k.I("VMOV", nb(neonScratch), nb(d))
}

func (n *neonv) gt0(k *vk, d, x, y int) {
	w2(k, 0x4EA0C800, "FCMGT #0", neonScratch, x) // false for NaN
	k.I("VAND", nb(neonScratch), nb(y), nb(d))
}

func (n *neonv) cvt(k *vk, toInt bool, d, a int) {
	if toInt {
		w2(k, 0x4E21A800, "FCVTNS", d, a)
	} else {
		w2(k, 0x4E21D800, "SCVTF", d, a)
	}
}

func (n *neonv) sshr(k *vk, d, a, sh int) {
	word(k.asm, 0x4F000400|uint32(64-sh)<<16|uint32(a)<<5|uint32(d), "SSHR V%d.4S, V%d.4S, #%d", d, a, sh)
}

func (n *neonv) shift(k *vk, right bool, d, a, sh int) {
	if right {
		n.sshr(k, d, a, sh)
	} else {
		k.I("VSHL", imm(sh), nv(a), nv(d))
	}
}

func (n *neonv) hsum(k *vk, d, a int) {
	w3(k, 0x6E20D400, "FADDP", d, a, a)
	w3(k, 0x6E20D400, "FADDP", d, d, d)
}

func (n *neonv) hmax(k *vk, d, a int) {
	word(k.asm, 0x6E30C800|uint32(a)<<5|uint32(d), "FMAXNMV S%d, V%d.4S", d, a)
}

func (n *neonv) bcast(k *vk, d, a int) { k.I("VDUP", fmt.Sprintf("V%d.S[0]", a), nv(d)) }

func (n *neonv) bcastArg(k *vk, d int, arg string) {
	k.I("FMOVS", k.arg(arg, ""), nf(d))
	n.bcast(k, d, d)
}

var neonSBin = map[binOp]string{opAdd: "FADDS", opSub: "FSUBS", opMul: "FMULS", opDiv: "FDIVS"}

func (n *neonv) sbin(k *vk, op binOp, d, a int, b opnd) {
	k.I(neonSBin[op], nf(n.r(k, b)), nf(a), nf(d))
}

func (n *neonv) sqrt(k *vk, d, a int) {
	panic("gen: no vector square root for NEON (mark the kernel x86Only)")
}

func (n *neonv) ssqrt(k *vk, d, a int)         { k.I("FSQRTS", nf(a), nf(d)) }
func (n *neonv) sarg(k *vk, d int, arg string) { k.I("FMOVS", k.arg(arg, ""), nf(d)) }
func (n *neonv) sret(k *vk, s int, res string) { k.I("FMOVS", nf(s), k.arg(res, "")) }
func (n *neonv) sintArg(k *vk, d int, arg string) {
	k.I("MOVD", k.arg(arg, ""), "R19")
	k.I("SCVTFS", "R19", nf(d))
}
func (n *neonv) srow(k *vk, d int, s stream)        { k.I("FMOVS", mem(0, n.base(s)), nf(d)) }
func (n *neonv) srowStore(k *vk, src int, s stream) { k.I("FMOVS", nf(src), mem(0, n.base(s))) }
