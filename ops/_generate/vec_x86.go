package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/dave/jennifer/jen"
)

// x86v is the amd64 backend of the vector kernels, for AVX2+FMA (Y registers, the tail
// through VMASKMOVPS and a lane mask in Y14) and AVX-512 (Z registers, the tail through
// opmask K1). Constants live in one table, vecConstsAMD64, that both share: each entry
// is 64 bytes, the value in all 16 lanes. The ones a kernel uses most are loaded into
// the vector registers its body leaves free (hoist); the others are memory operands,
// AVX2 reading the entry's first 32 bytes and AVX-512 broadcasting its first float.
//
// General registers: AX is the element index within the row, CX the elements left, DX
// a scratch, R13 the row index; the streams' base pointers take SI, DI, BX, R8…R12.
// Vector registers: the kernels use 0…13 (AVX2) or 0…29 (AVX-512); Y15/Z31 is the
// backend's scratch.
type x86v struct {
	x86
	tab     *constTable
	gprs    map[int]string // stream id → base register
	scratch int
	// uses counts the kernel's constant operands (by bits) while it is built; hoisted
	// holds the constants given a register of their own for the whole kernel (see hoist).
	uses    map[uint32]int
	hoisted map[uint32]int
}

func newX86v(x x86, tab *constTable) *x86v {
	v := &x86v{x86: x, tab: tab, scratch: 15}
	if x.reg == "Z" {
		v.scratch = 31
	}
	return v
}

func (x *x86v) isaName() string { return x.name }
func (x *x86v) lanes() int      { return x.x86.lanes }
func (x *x86v) constRegs() bool { return false }
func (x *x86v) is512() bool     { return x.reg == "Z" }
func (x *x86v) v(i int) string  { return fmt.Sprintf("%s%d", x.reg, i) }
func (x *x86v) xr(i int) string { return fmt.Sprintf("X%d", i) }
func (x *x86v) yr(i int) string { return fmt.Sprintf("Y%d", i) }
func (x *x86v) s() string       { return x.v(x.scratch) }
func (x *x86v) kernelRegs(int) int {
	if x.is512() {
		return 30
	}
	return 14 // Y14 holds the tail mask
}

const avx2Mask = "Y14"

// src is an operand that may come from memory: a register (a hoisted constant's among
// them), or the constant's entry, which instruction op then reads (op(name, o)).
func (x *x86v) src(o opnd) string {
	if !o.isC {
		return x.v(o.r)
	}
	x.uses[o.bits]++
	if r, ok := x.hoisted[o.bits]; ok {
		return x.v(r)
	}
	return x.tab.bcast(o.bits)
}

// op is instruction name reading operand o through src: with AVX-512 a constant in
// memory is read as one broadcast float (the .BCST form), not as its 64-byte entry,
// which need not be 64-byte aligned (the table is a Go variable): a load split over two
// cache lines at every use ran the exponential at half speed.
func (x *x86v) op(name string, o opnd) string {
	if o.isC && x.is512() {
		if _, ok := x.hoisted[o.bits]; !ok {
			return name + ".BCST"
		}
	}
	return name
}

// inReg is an operand that must be a register: constants go through the scratch register
// (unless hoisted).
func (x *x86v) inReg(k *vk, o opnd) string {
	if !o.isC {
		return x.v(o.r)
	}
	if _, ok := x.hoisted[o.bits]; ok {
		return x.src(o)
	}
	x.loadConst(k, o.bits, x.scratch)
	return x.s()
}

// loadConst sets register d to the constant in every lane.
func (x *x86v) loadConst(k *vk, bits uint32, d int) {
	x.uses[bits]++
	if x.is512() {
		k.I("VBROADCASTSS", x.tab.bcast(bits), x.v(d))
		return
	}
	k.I("VMOVUPS", x.tab.bcast(bits), x.v(d))
}

// hoist gives the constants of a kernel built once already (dry: its register use and
// x.uses, its constant operands counted) the vector registers it leaves free, the most
// used first; begin loads them. Read from memory at every use, a constant costs a load
// each time, and the exponential's dozen of them bound its rate.
func (x *x86v) hoist(dry *vk) {
	type use struct {
		bits uint32
		n    int
	}
	var us []use
	for b, n := range x.uses {
		us = append(us, use{b, n})
	}
	slices.SortFunc(us, func(a, b use) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return int(int64(a.bits) - int64(b.bits))
	})
	x.hoisted = map[uint32]int{}
	for i, r := 0, dry.maxReg+1; i < len(us) && r < dry.kregs; i, r = i+1, r+1 {
		x.hoisted[us[i].bits] = r
	}
	x.uses = map[uint32]int{}
}

// startBuild readies the backend for a kernel's first (counting) build.
func (x *x86v) startBuild() {
	x.uses, x.hoisted = map[uint32]int{}, nil
}

// ssrc is a scalar operand (lane 0): a register or the constant's entry.
func (x *x86v) ssrc(o opnd) string {
	if o.isC {
		return x.tab.bcast(o.bits)
	}
	return x.xr(o.r)
}

var x86GPRs = []string{"SI", "DI", "BX", "R8", "R9", "R10", "R11", "R12"}

func (x *x86v) stream(k *vk, s stream) {
	if x.gprs == nil {
		x.gprs = map[int]string{}
	}
	if s.kind == rowScalar {
		return // loaded from the frame when used
	}
	n := len(x.gprs)
	if n == len(x86GPRs) {
		panic("gen: " + k.f.name + ": too many streams for amd64")
	}
	x.gprs[s.id] = x86GPRs[n]
}

func (x *x86v) begin(k *vk) {
	for _, s := range k.streams {
		if r, ok := x.gprs[s.id]; ok {
			k.I("MOVQ", k.arg(s.arg, "_base"), r)
		}
	}
	bits := slices.Collect(maps.Keys(x.hoisted))
	slices.SortFunc(bits, func(a, b uint32) int { return x.hoisted[a] - x.hoisted[b] })
	for _, b := range bits {
		k.use(x.hoisted[b])
		x.loadConst(k, b, x.hoisted[b])
	}
}

func (x *x86v) end(k *vk) {
	k.I("VZEROUPPER")
	k.I("RET")
	x.gprs = nil
}

func (x *x86v) addr(s stream, i int) string {
	return fmt.Sprintf("%d(%s)(AX*4)", i*x.x86.lanes*4, x.gprs[s.id])
}

// countArg is the frame reference of a loop count: a slice's length or an int.
func countArg(k *vk, count string) string {
	for _, p := range k.f.params {
		if p.name == count && p.typ == "[]float32" {
			return k.arg(count, "_len")
		}
	}
	return k.arg(count, "")
}

func (x *x86v) loop(k *vk, count string, u int, body func(i int)) {
	L := x.x86.lanes
	k.I("XORQ", "AX", "AX")
	k.I("MOVQ", countArg(k, count), "CX")
	lu, l1, lt, ld := k.label("unrolled"), k.label("vector"), k.label("tail"), k.label("done")
	k.mode = full
	if u > 1 {
		k.L(lu)
		k.I("CMPQ", "CX", imm(u*L))
		k.I("JLT", l1)
		for i := 0; i < u; i++ {
			body(i)
		}
		k.I("ADDQ", imm(u*L), "AX")
		k.I("SUBQ", imm(u*L), "CX")
		k.I("JMP", lu)
	}
	k.L(l1)
	k.I("CMPQ", "CX", imm(L))
	k.I("JLT", lt)
	body(0)
	k.I("ADDQ", imm(L), "AX")
	k.I("SUBQ", imm(L), "CX")
	k.I("JMP", l1)
	k.L(lt)
	k.I("TESTQ", "CX", "CX")
	k.I("JLE", ld)
	if x.is512() {
		k.C("K1 = the first CX lanes")
		k.I("MOVL", "$1", "DX")
		k.I("SHLL", "CX", "DX")
		k.I("DECL", "DX")
		k.I("KMOVW", "DX", "K1")
	} else {
		k.C("%s = the first CX lanes: 8 words of ones then 8 of zeros, read from 8-CX", avx2Mask)
		k.I("LEAQ", x.tab.maskRef(32), "DX")
		k.I("NEGQ", "CX")
		k.I("VMOVUPS", "(DX)(CX*4)", avx2Mask)
		k.I("NEGQ", "CX")
	}
	k.mode = masked
	body(0)
	k.mode = full
	k.L(ld)
}

func (x *x86v) rows(k *vk, body func()) {
	lr, le := k.label("row"), k.label("rowsdone")
	k.I("XORQ", "R13", "R13")
	k.L(lr)
	k.I("CMPQ", "R13", k.arg("rows", ""))
	k.I("JGE", le)
	body()
	k.I("MOVQ", k.arg("cols", ""), "DX")
	k.I("SHLQ", "$2", "DX")
	for _, s := range k.streams {
		if s.kind == rowVec {
			k.I("ADDQ", "DX", x.gprs[s.id])
		}
	}
	k.I("INCQ", "R13")
	k.I("JMP", lr)
	k.L(le)
}

func (x *x86v) load(k *vk, d int, s stream, i int) {
	switch {
	case k.mode == full:
		k.I("VMOVUPS", x.addr(s, i), x.v(d))
	case x.is512():
		k.I("VMOVUPS.Z", x.addr(s, i), "K1", x.v(d))
	default:
		k.I("VMASKMOVPS", x.addr(s, i), avx2Mask, x.v(d))
	}
}

func (x *x86v) loadFill(k *vk, d int, s stream, i int, fill opnd) {
	switch {
	case k.mode == full:
		k.I("VMOVUPS", x.addr(s, i), x.v(d))
	case x.is512():
		x.mov(k, d, fill)
		k.I("VMOVUPS", x.addr(s, i), "K1", x.v(d))
	default:
		k.I("VMASKMOVPS", x.addr(s, i), avx2Mask, x.v(d))
		k.I("VBLENDVPS", avx2Mask, x.v(d), x.inReg(k, fill), x.v(d))
	}
}

func (x *x86v) store(k *vk, r int, s stream, i int) {
	switch {
	case k.mode == full:
		k.I("VMOVUPS", x.v(r), x.addr(s, i))
	case x.is512():
		k.I("VMOVUPS", x.v(r), "K1", x.addr(s, i))
	default:
		k.I("VMASKMOVPS", x.v(r), avx2Mask, x.addr(s, i))
	}
}

func (x *x86v) zeroInactive(k *vk, d int) {
	if x.is512() {
		k.I("VMOVAPS.Z", x.v(d), "K1", x.v(d))
	} else {
		k.I("VANDPS", avx2Mask, x.v(d), x.v(d))
	}
}

func (x *x86v) mov(k *vk, d int, a opnd) {
	switch {
	case a.isC:
		if _, ok := x.hoisted[a.bits]; ok {
			k.I("VMOVAPS", x.src(a), x.v(d))
		} else {
			x.loadConst(k, a.bits, d)
		}
	case a.r != d:
		k.I("VMOVAPS", x.v(a.r), x.v(d))
	}
}

func (x *x86v) zero(k *vk, d int) {
	if x.is512() {
		k.I("VPXORD", x.v(d), x.v(d), x.v(d))
	} else {
		k.I("VXORPS", x.v(d), x.v(d), x.v(d))
	}
}

var x86Bin = map[binOp]string{opAdd: "VADDPS", opSub: "VSUBPS", opMul: "VMULPS", opDiv: "VDIVPS",
	opMax: "VMAXPS", opAnd: "VANDPS", opOr: "VORPS", opIAdd: "VPADDD", opISub: "VPSUBD"}

// bin: Go's operand order is the reverse of Intel's, so "OP b, a, d" is d = a OP b, and
// VMAXPS returns its second Intel source (b) when either is NaN.
func (x *x86v) bin(k *vk, op binOp, d, a int, b opnd) {
	k.I(x.op(x86Bin[op], b), x.src(b), x.v(a), x.v(d))
}

func (x *x86v) sqrt(k *vk, d, a int) { k.I("VSQRTPS", x.v(a), x.v(d)) }

func (x *x86v) fma(k *vk, neg bool, d, a int, b, c opnd) {
	name := "VFMADD"
	if neg {
		name = "VFNMADD"
	}
	switch {
	case !c.isC && c.r == d:
		k.I(x.op(name+"231PS", b), x.src(b), x.v(a), x.v(d)) // d = a·b + d
	case a == d:
		k.I(x.op(name+"213PS", c), x.src(c), x.inReg(k, b), x.v(d)) // d = b·d + c
	case !b.isC && b.r == d:
		k.I(x.op(name+"213PS", c), x.src(c), x.v(a), x.v(d)) // d = a·d + c
	default:
		k.I("VMOVAPS", x.v(a), x.v(d))
		k.I(x.op(name+"213PS", c), x.src(c), x.inReg(k, b), x.v(d))
	}
}

func (x *x86v) clamp(k *vk, d, a int, lo, hi opnd) {
	// Intel MAXPS/MINPS return the second source when either is NaN: keep a there.
	k.I("VMAXPS", x.v(a), x.inReg(k, lo), x.v(d))
	k.I("VMINPS", x.v(d), x.inReg(k, hi), x.v(d))
}

func (x *x86v) sel(k *vk, d, m int, a, b opnd) {
	if x.is512() {
		k.I("VPMOVD2M", x.v(m), "K2")
		k.I(x.op("VBLENDMPS", a), x.src(a), x.inReg(k, b), "K2", x.v(d))
		return
	}
	k.I("VBLENDVPS", x.v(m), x.src(a), x.inReg(k, b), x.v(d))
}

func (x *x86v) gt0(k *vk, d, xr, y int) {
	const gtOS = 14 // greater than, ordered: false for NaN
	if x.is512() {
		k.I(x.op("VCMPPS", F(0)), imm(gtOS), x.src(F(0)), x.v(xr), "K2")
		k.I("VMOVAPS.Z", x.v(y), "K2", x.v(d))
		return
	}
	k.I("VCMPPS", imm(gtOS), x.tab.bcast(0), x.v(xr), x.s())
	k.I("VANDPS", x.s(), x.v(y), x.v(d))
}

func (x *x86v) cvt(k *vk, toInt bool, d, a int) {
	if toInt {
		k.I("VCVTPS2DQ", x.v(a), x.v(d)) // rounds to nearest even (MXCSR default)
	} else {
		k.I("VCVTDQ2PS", x.v(a), x.v(d))
	}
}

func (x *x86v) hasScalef() bool { return x.is512() }

func (x *x86v) roundInt(k *vk, d, a int) { k.I("VRNDSCALEPS", "$0", x.v(a), x.v(d)) }

func (x *x86v) scalef(k *vk, d, p, n int) { k.I("VSCALEFPS", x.v(n), x.v(p), x.v(d)) }

func (x *x86v) shift(k *vk, right bool, d, a, n int) {
	if right {
		k.I("VPSRAD", imm(n), x.v(a), x.v(d))
	} else {
		k.I("VPSLLD", imm(n), x.v(a), x.v(d))
	}
}

func (x *x86v) horizontal(k *vk, op string, d, a int) {
	s := x.scratch
	if x.is512() {
		k.I("VEXTRACTF64X4", "$1", x.v(a), x.yr(s))
		k.I(op+"PS", x.yr(s), x.yr(a), x.yr(d))
		k.I("VEXTRACTF32X4", "$1", x.yr(d), x.xr(s))
	} else {
		k.I("VEXTRACTF128", "$1", x.yr(a), x.xr(s))
		k.I(op+"PS", x.xr(s), x.xr(a), x.xr(d))
	}
	if x.is512() {
		k.I(op+"PS", x.xr(s), x.xr(d), x.xr(d))
	}
	k.I("VMOVHLPS", x.xr(d), x.xr(d), x.xr(s))
	k.I(op+"PS", x.xr(s), x.xr(d), x.xr(d))
	k.I("VMOVSHDUP", x.xr(d), x.xr(s))
	k.I(op+"SS", x.xr(s), x.xr(d), x.xr(d))
}

func (x *x86v) hsum(k *vk, d, a int) { x.horizontal(k, "VADD", d, a) }
func (x *x86v) hmax(k *vk, d, a int) { x.horizontal(k, "VMAX", d, a) }

func (x *x86v) bcast(k *vk, d, a int) { k.I("VBROADCASTSS", x.xr(a), x.v(d)) }

func (x *x86v) bcastArg(k *vk, d int, arg string) { k.I("VBROADCASTSS", k.arg(arg, ""), x.v(d)) }

var x86SBin = map[binOp]string{opAdd: "VADDSS", opSub: "VSUBSS", opMul: "VMULSS", opDiv: "VDIVSS"}

func (x *x86v) sbin(k *vk, op binOp, d, a int, b opnd) {
	k.I(x86SBin[op], x.ssrc(b), x.xr(a), x.xr(d))
}

func (x *x86v) ssqrt(k *vk, d, a int)         { k.I("VSQRTSS", x.xr(a), x.xr(a), x.xr(d)) }
func (x *x86v) sarg(k *vk, d int, arg string) { k.I("VMOVSS", k.arg(arg, ""), x.xr(d)) }
func (x *x86v) sret(k *vk, s int, res string) { k.I("VMOVSS", x.xr(s), k.arg(res, "")) }
func (x *x86v) sintArg(k *vk, d int, arg string) {
	k.I("MOVQ", k.arg(arg, ""), "DX")
	k.I("VCVTSI2SSQ", "DX", x.xr(d), x.xr(d))
}

func (x *x86v) srow(k *vk, d int, s stream) {
	k.I("MOVQ", k.arg(s.arg, "_base"), "DX")
	k.I("VMOVSS", "(DX)(R13*4)", x.xr(d))
}

func (x *x86v) srowStore(k *vk, src int, s stream) {
	k.I("MOVQ", k.arg(s.arg, "_base"), "DX")
	k.I("VMOVSS", x.xr(src), "(DX)(R13*4)")
}

// constTable is the amd64 constant table: entries of 16 words. The first entry is the
// AVX2 tail-mask source (8 words of ones, 8 of zeros); the others each hold one value
// in all 16 lanes, so they serve as Y and Z memory operands alike.
type constTable struct {
	entries [][16]uint32
}

const constTableName = "vecConstsAMD64"

func (t *constTable) index(e [16]uint32) int {
	if len(t.entries) == 0 {
		var m [16]uint32
		for i := 0; i < 8; i++ {
			m[i] = math.MaxUint32
		}
		t.entries = append(t.entries, m)
	}
	for i, x := range t.entries {
		if x == e {
			return i
		}
	}
	t.entries = append(t.entries, e)
	return len(t.entries) - 1
}

// bcast is the memory operand of the entry holding bits in every lane.
func (t *constTable) bcast(bits uint32) string {
	var e [16]uint32
	for i := range e {
		e[i] = bits
	}
	return fmt.Sprintf("·%s+%d(SB)", constTableName, 64*t.index(e))
}

// maskRef is the address of the tail-mask entry plus off bytes.
func (t *constTable) maskRef(off int) string {
	t.index([16]uint32{})
	return fmt.Sprintf("·%s+%d(SB)", constTableName, off)
}

func (t *constTable) goDecl() jen.Code {
	var rows []jen.Code
	for _, e := range t.entries {
		var ws []string
		for _, w := range e {
			ws = append(ws, fmt.Sprintf("%#08x", w))
		}
		rows = append(rows, jen.Values(jen.Op(strings.Join(ws, ", "))))
	}
	return jen.Commentf("%s holds the constants of the vector kernels, each in 16 lanes (the first entry is the AVX2 tail mask).", constTableName).Line().
		Var().Id(constTableName).Op("=").Index(jen.Lit(len(t.entries))).Index(jen.Lit(16)).Uint32().Values(rows...)
}

func f32bits(v float32) uint32 { return math.Float32bits(v) }
