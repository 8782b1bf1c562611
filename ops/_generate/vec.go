package main

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// The elementwise, row and reduction kernels (Axpy … LayerNormRowsBackward).
//
// Each kernel is written once, in vec_kernels.go, against a small vector machine: numbered
// vector registers, constants, loads and stores of "streams" (the slices a kernel reads
// and writes), arithmetic, and loops over a row. A backend (vec_x86.go for AVX2 and
// AVX-512, vec_neon.go for NEON) turns that into assembly. The generated functions take
// exactly the arguments of the operation (slices, ints, float32s), so they are registered
// with the dispatcher as they are, with no Go wrapper; they handle every length
// themselves: an unrolled loop, a one-vector loop, then the tail (a masked vector on
// amd64, element by element on arm64).

// vecAMD64 returns the amd64 elementwise, row and reduction kernels and their
// registrations with the dispatcher.
func vecAMD64() ([]*fn, []jen.Code) {
	tab := &constTable{}
	var fns []*fn
	var reg []jen.Code
	for _, x := range []*x86v{newX86v(avx2, tab), newX86v(avx512, tab)} {
		for _, k := range vecKernels {
			f := buildVec(k, x)
			fns = append(fns, f)
			reg = append(reg, registerVec(k, x.isaName(), f))
		}
	}
	reg = append(reg, tab.goDecl())
	return fns, reg
}

// vecARM64 returns the arm64 elementwise, row and reduction kernels and their
// registrations with the dispatcher.
func vecARM64() ([]*fn, []jen.Code) {
	var fns []*fn
	var reg []jen.Code
	for _, k := range vecKernels {
		if k.x86Only {
			continue
		}
		f := buildVec(k, newNeonv())
		fns = append(fns, f)
		reg = append(reg, registerVec(k, "NEON", f))
	}
	return fns, reg
}

// registerVec is `var _ = op.add(ISA, fn)`.
func registerVec(k vecKernel, isa string, f *fn) jen.Code {
	return jen.Var().Id("_").Op("=").Id(k.op).Dot("add").Call(jen.Id(isa), jen.Id(f.name))
}

// vecKernel describes one operation: its Go signature (that of the op's function type)
// and how to build its body.
type vecKernel struct {
	name    string // function name prefix, e.g. "axpy" → axpyAVX2
	op      string // dispatch entry in package ops, e.g. "axpyOp"
	params  []param
	results []param
	doc     string // completes "<name> computes …"
	build   func(k *vk)
	// x86Only kernels have no NEON variant: arm64 runs the generic Go code.
	x86Only bool
}

// opnd is a vector operand: a register of the kernel or a constant (the same 32-bit
// pattern in every lane).
type opnd struct {
	r     int
	bits  uint32
	isC   bool
	label string // how the constant reads in a comment
}

// R is register i.
func R(i int) opnd { return opnd{r: i} }

// F is the float32 constant v in every lane.
func F(v float32) opnd { return opnd{bits: f32bits(v), isC: true, label: fmt.Sprint(v)} }

// U is the 32-bit pattern v in every lane.
func U(v uint32) opnd { return opnd{bits: v, isC: true, label: fmt.Sprintf("%#x", v)} }

// streamKind says how a stream moves from one row to the next.
type streamKind int

const (
	rowVec    streamKind = iota // a row of cols values; advances by cols every row
	colVec                      // cols values shared by every row (weights, their gradients)
	rowScalar                   // one value per row; advances by one every row
)

// stream is a slice argument the kernel reads or writes.
type stream struct {
	arg  string // parameter name
	kind streamKind
	id   int
}

// mode is how loads and stores of the body being emitted behave.
type mode int

const (
	full   mode = iota // whole vectors
	masked             // the tail: only the first n lanes; other lanes load as 0, are not stored
)

// slot is the registers one unrolled copy of a loop body uses.
type slot struct {
	i   int   // copy number: its vectors lie i·lanes elements after the loop index
	acc []int // accumulators (kept across iterations)
	t   []int // temporaries
}

// backend turns the vector machine into one ISA's assembly.
type backend interface {
	isaName() string
	lanes() int
	// kernelRegs is the number of vector registers kernels may use, given the number
	// of constants that must live in registers (NEON) — see constRegs.
	kernelRegs(nconst int) int
	constRegs() bool // constants occupy registers (NEON) rather than memory (x86)

	begin(k *vk)            // once the streams are declared: load the slice pointers
	end(k *vk)              // return
	stream(k *vk, s stream) // a stream was declared: assign it registers

	// Loops. loop emits the loop over count elements (the length of slice arg, or the int
	// arg cols), unrolled u times, calling body for each copy with k.mode set.
	loop(k *vk, count string, u int, body func(i int))
	rows(k *vk, body func()) // loop over rows of rows×cols, advancing the streams

	load(k *vk, d int, s stream, i int)
	loadFill(k *vk, d int, s stream, i int, fill opnd) // inactive tail lanes get fill
	store(k *vk, src int, s stream, i int)
	zeroInactive(k *vk, d int) // in the tail, clear the lanes past the end

	mov(k *vk, d int, a opnd)
	zero(k *vk, d int)
	bin(k *vk, op binOp, d, a int, b opnd) // d = a op b
	sqrt(k *vk, d, a int)                  // d = √a, correctly rounded (x86 only)
	fma(k *vk, neg bool, d, a int, b, c opnd)
	clamp(k *vk, d, a int, lo, hi opnd) // d = min(max(a, lo), hi); NaN stays NaN
	sel(k *vk, d, m int, a, b opnd)     // d = sign(m) ? a : b
	gt0(k *vk, d, x, y int)             // d = x > 0 ? y : 0
	cvt(k *vk, toInt bool, d, a int)    // round-to-nearest float→int32, or int32→float
	shift(k *vk, right bool, d, a, n int)

	hsum(k *vk, d, a int) // lane 0 of d = Σ lanes of a
	hmax(k *vk, d, a int) // lane 0 of d = max lanes of a (a holds no NaN)
	bcast(k *vk, d, a int)
	bcastArg(k *vk, d int, arg string)

	// Scalars, in lane 0 of a register.
	sbin(k *vk, op binOp, d, a int, b opnd) // add, sub, mul, div
	ssqrt(k *vk, d, a int)
	sarg(k *vk, d int, arg string)      // a float32 argument
	sintArg(k *vk, d int, arg string)   // an int argument, converted to float32
	sret(k *vk, s int, res string)      // store as the float32 result
	srow(k *vk, d int, s stream)        // load this row's element of a rowScalar stream
	srowStore(k *vk, src int, s stream) // store this row's element
}

type binOp int

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
	opMax // a > b ? a : b (b when either is NaN, given b is never NaN)
	opAnd
	opOr
	opIAdd // int32 lanes
	opISub
)

// vk builds one kernel for one backend.
type vk struct {
	*asm
	b       backend
	k       vecKernel
	mode    mode
	streams []stream
	nglob   int // vector registers held for the whole kernel, 0…nglob-1
	kregs   int // vector registers the kernel may use
	consts  []uint32
	maxReg  int // highest register the kernel used
	labels  int
}

// buildVec generates the kernel k for backend b. It builds it twice: the first time
// only counts the constants, since on NEON they take registers from the kernel.
func buildVec(k vecKernel, b backend) *fn {
	nconst := 0
	if b.constRegs() {
		dry := newVK(k, b, 32)
		k.build(dry)
		nconst = len(dry.consts)
	}
	if h, ok := b.(hoister); ok {
		h.startBuild()
		dry := newVK(k, b, b.kernelRegs(0))
		k.build(dry)
		b.end(dry)
		h.hoist(dry)
	}
	v := newVK(k, b, b.kernelRegs(nconst))
	k.build(v)
	b.end(v)
	if v.maxReg >= v.kregs {
		panic(fmt.Sprintf("gen: %s%s uses vector register %d of %d", k.name, b.isaName(), v.maxReg, v.kregs))
	}
	v.done()
	return v.f
}

// hoister is a backend that reads constants from memory but keeps those a kernel uses
// most in the vector registers it leaves free: buildVec builds the kernel once to count
// (startBuild, then hoist), then for real.
type hoister interface {
	startBuild()
	hoist(dry *vk)
}

func newVK(k vecKernel, b backend, kregs int) *vk {
	f := &fn{name: k.name + b.isaName(), params: k.params, results: k.results,
		doc: fmt.Sprintf("computes %s (%s).", k.doc, b.isaName())}
	return &vk{asm: newAsm(f), b: b, k: k, kregs: kregs, maxReg: -1}
}

// constIndex records the use of a constant (for backends that keep them in registers).
func (k *vk) constIndex(bits uint32) int {
	for i, c := range k.consts {
		if c == bits {
			return i
		}
	}
	k.consts = append(k.consts, bits)
	return len(k.consts) - 1
}

func (k *vk) use(rs ...int) {
	for _, r := range rs {
		k.maxReg = max(k.maxReg, r)
	}
}

func (k *vk) label(what string) string {
	k.labels++
	return fmt.Sprintf("%s%d", what, k.labels)
}

// ---- what kernels call ----

// vec declares a slice argument as a stream.
func (k *vk) vec(arg string, kind streamKind) stream {
	s := stream{arg: arg, kind: kind, id: len(k.streams)}
	k.streams = append(k.streams, s)
	k.b.stream(k, s)
	return s
}

// start ends the declarations and loads the stream pointers.
func (k *vk) start() { k.b.begin(k) }

// glob reserves a vector register for the whole kernel.
func (k *vk) glob() int {
	r := k.nglob
	k.nglob++
	k.use(r)
	return r
}

// unroll is how many copies of a body needing per registers fit, at most most.
func (k *vk) unroll(per, most int) int {
	u := (k.kregs - k.nglob) / per
	if u < 1 {
		panic(fmt.Sprintf("gen: %s%s: a loop body needs %d registers, %d are free", k.k.name, k.b.isaName(), per, k.kregs-k.nglob))
	}
	return min(u, most)
}

// slots lays out u copies of nacc accumulators and ntmp temporaries after the globals.
func (k *vk) slots(u, nacc, ntmp int) []slot {
	ss := make([]slot, u)
	r := k.nglob
	for i := range ss {
		ss[i].i = i
		for j := 0; j < nacc; j++ {
			ss[i].acc = append(ss[i].acc, r)
			r++
		}
		for j := 0; j < ntmp; j++ {
			ss[i].t = append(ss[i].t, r)
			r++
		}
	}
	k.use(r - 1)
	return ss
}

// each is a loop over count elements whose body needs ntmp temporaries per copy.
func (k *vk) each(count string, ntmp, most int, body func(s slot)) {
	u := k.unroll(ntmp, most)
	ss := k.slots(u, 0, ntmp)
	k.b.loop(k, count, u, func(i int) { body(ss[i]) })
}

// reduce is a loop with nacc accumulators per copy, set to init before the loop and
// combined with comb after it; it returns the registers holding the combined vectors
// (the first copy's accumulators). Tail lanes must not disturb the accumulators: the
// body sees k.mode == masked there.
func (k *vk) reduce(count string, init []opnd, comb binOp, ntmp, most int, body func(s slot)) []int {
	nacc := len(init)
	u := k.unroll(nacc+ntmp, most)
	ss := k.slots(u, nacc, ntmp)
	for _, s := range ss {
		for j, a := range s.acc {
			if init[j].isC && init[j].bits == 0 {
				k.b.zero(k, a)
			} else {
				k.b.mov(k, a, init[j])
			}
		}
	}
	k.b.loop(k, count, u, func(i int) { body(ss[i]) })
	// Pairwise combination keeps the rounding error of sums small.
	for step := 1; step < u; step *= 2 {
		for i := 0; i+step < u; i += 2 * step {
			for j := range init {
				k.b.bin(k, comb, ss[i].acc[j], ss[i].acc[j], R(ss[i+step].acc[j]))
			}
		}
	}
	return ss[0].acc
}

func (k *vk) load(d int, s stream, sl slot)  { k.use(d); k.b.load(k, d, s, sl.i) }
func (k *vk) store(r int, s stream, sl slot) { k.b.store(k, r, s, sl.i) }
func (k *vk) loadFill(d int, s stream, sl slot, fill opnd) {
	k.use(d)
	k.b.loadFill(k, d, s, sl.i, fill)
}
func (k *vk) zeroInactive(d int) {
	if k.mode == masked {
		k.b.zeroInactive(k, d)
	}
}
func (k *vk) mov(d int, a opnd)                          { k.use(d); k.b.mov(k, d, a) }
func (k *vk) add(d, a int, b opnd)                       { k.use(d); k.b.bin(k, opAdd, d, a, b) }
func (k *vk) sub(d, a int, b opnd)                       { k.use(d); k.b.bin(k, opSub, d, a, b) }
func (k *vk) mul(d, a int, b opnd)                       { k.use(d); k.b.bin(k, opMul, d, a, b) }
func (k *vk) div(d, a int, b opnd)                       { k.use(d); k.b.bin(k, opDiv, d, a, b) }
func (k *vk) sqrt(d, a int)                              { k.use(d); k.b.sqrt(k, d, a) }
func (k *vk) maxNum(d, a int, b opnd)                    { k.use(d); k.b.bin(k, opMax, d, a, b) }
func (k *vk) and(d, a int, b opnd)                       { k.use(d); k.b.bin(k, opAnd, d, a, b) }
func (k *vk) or(d, a int, b opnd)                        { k.use(d); k.b.bin(k, opOr, d, a, b) }
func (k *vk) iadd(d, a int, b opnd)                      { k.use(d); k.b.bin(k, opIAdd, d, a, b) }
func (k *vk) isub(d, a int, b opnd)                      { k.use(d); k.b.bin(k, opISub, d, a, b) }
func (k *vk) fmadd(d, a int, b, c opnd)                  { k.use(d); k.b.fma(k, false, d, a, b, c) } // d = a·b + c
func (k *vk) fnmadd(d, a int, b, c opnd)                 { k.use(d); k.b.fma(k, true, d, a, b, c) }  // d = c − a·b
func (k *vk) clamp(d, a int, lo, hi opnd)                { k.use(d); k.b.clamp(k, d, a, lo, hi) }
func (k *vk) sel(d, m int, a, b opnd)                    { k.use(d); k.b.sel(k, d, m, a, b) }
func (k *vk) gt0(d, x, y int)                            { k.use(d); k.b.gt0(k, d, x, y) }
func (k *vk) toInt(d, a int)                             { k.use(d); k.b.cvt(k, true, d, a) }
func (k *vk) toFloat(d, a int)                           { k.use(d); k.b.cvt(k, false, d, a) }
func (k *vk) sra(d, a, n int)                            { k.use(d); k.b.shift(k, true, d, a, n) }
func (k *vk) shl(d, a, n int)                            { k.use(d); k.b.shift(k, false, d, a, n) }
func (k *vk) hsum(d, a int)                              { k.use(d); k.b.hsum(k, d, a) }
func (k *vk) hmax(d, a int)                              { k.use(d); k.b.hmax(k, d, a) }
func (k *vk) bcast(d, a int)                             { k.use(d); k.b.bcast(k, d, a) }
func (k *vk) bcastArg(d int, arg string)                 { k.use(d); k.b.bcastArg(k, d, arg) }
func (k *vk) sadd(d, a int, b opnd)                      { k.use(d); k.b.sbin(k, opAdd, d, a, b) }
func (k *vk) smul(d, a int, b opnd)                      { k.use(d); k.b.sbin(k, opMul, d, a, b) }
func (k *vk) sdiv(d, a int, b opnd)                      { k.use(d); k.b.sbin(k, opDiv, d, a, b) }
func (k *vk) ssqrt(d, a int)                             { k.use(d); k.b.ssqrt(k, d, a) }
func (k *vk) sarg(d int, arg string)                     { k.use(d); k.b.sarg(k, d, arg) }
func (k *vk) sintArg(d int, arg string)                  { k.use(d); k.b.sintArg(k, d, arg) }
func (k *vk) sret(s int, res string)                     { k.b.sret(k, s, res) }
func (k *vk) srow(d int, s stream)                       { k.use(d); k.b.srow(k, d, s) }
func (k *vk) srowStore(src int, s stream)                { k.b.srowStore(k, src, s) }
func (k *vk) rows(body func())                           { k.b.rows(k, body) }
func (k *vk) loop(count string, u int, body func(i int)) { k.b.loop(k, count, u, body) }
func (k *vk) bin(d int, op binOp, a int, b opnd)         { k.use(d); k.b.bin(k, op, d, a, b) }
