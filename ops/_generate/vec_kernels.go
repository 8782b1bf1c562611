package main

import "math"

// The vector kernels, written once for every backend (see vec.go). Each matches the
// generic Go function of package ops it stands in for (ops/generic_elementwise.go):
// same signature, same result up to float32 rounding. Where the generic code computes
// in float64 (exp, tanh), these compute in float32 with ~1e-7 relative error.

var (
	pSlice = func(n string) param { return param{n, "[]float32"} }
	pInt   = func(n string) param { return param{n, "int"} }
	pF32   = func(n string) param { return param{n, "float32"} }
	retF32 = []param{{"ret", "float32"}}
)

const signBit = 0x80000000

var negInf = float32(math.Inf(-1))

// Elementwise bodies unroll up to this many vectors; reductions keep up to redUnroll
// accumulators (more hide the add latency; registers bound both).
const (
	ewUnroll  = 4
	redUnroll = 8
)

// The exponential, Cephes style: clamp, n = round(x·log2 e), r = x − n·ln 2 in two
// parts, e^r by a degree-7 polynomial, then two multiplications by 2^(n/2) and 2^(n−n/2)
// so that results near the overflow and in the subnormal range round once. Inputs
// above expHi give +Inf, below expLo give 0; NaN stays NaN.
const (
	expHi  = 88.8 // e^88.8 > MaxFloat32: the result is +Inf
	expLo  = -104 // e^-104 < half the smallest subnormal: the result is 0
	log2e  = 1.44269504088896341
	expC1  = 0.693359375 // ln 2 = expC1 + expC2, expC1 exact in 9 bits
	expC2  = -2.12194440e-4
	geluA  = 1.5957691216057308  // 2·√(2/π): GELU(x) = x·σ(x·(geluA + geluB·x²))
	geluB  = 0.07135481627260025 // 2·√(2/π)·0.044715
	geluB3 = 3 * geluB

	geluClamp = 20
)

var expPoly = []float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
	1.6666665459e-1, 5.0000001201e-1}

// scaler is implemented by backends with AVX-512's one-instruction pieces of exp: a
// rounding to an integral float and p·2^n with a single rounding. exp uses them where the
// backend has them (the results are the same bits: n is the same integer, and p·2^n1·2^n2
// rounds once, as p·2^n does).
type scaler interface {
	hasScalef() bool
	roundInt(k *vk, d, a int)  // d = a rounded to an integer, ties to even, as a float
	scalef(k *vk, d, p, n int) // d = p·2^n for an integral float n, rounded once
}

// exp sets d = e^x using t1 and t2; x may be any of d, t1, t2.
func (k *vk) exp(d, x, t1, t2 int) { k.expFrom(d, x, t1, t2, expLo) }

// expFrom is exp with inputs below lo taken as lo.
func (k *vk) expFrom(d, x, t1, t2 int, lo float32) {
	s, fast := k.b.(scaler)
	fast = fast && s.hasScalef()
	k.clamp(t1, x, F(lo), F(expHi))
	k.mul(d, t1, F(log2e))
	// nf is n as a float: d itself with a one-instruction rounding, else t2 (d keeps n
	// as an integer for the scaling).
	nf := t2
	if fast {
		k.use(d)
		s.roundInt(k, d, d)
		nf = d
	} else {
		k.toInt(d, d)
		k.toFloat(t2, d)
	}
	k.fnmadd(t1, nf, F(expC1), R(t1)) // r = x − n·C1 − n·C2
	k.fnmadd(t1, nf, F(expC2), R(t1))
	k.mov(t2, F(expPoly[0]))
	for _, p := range expPoly[1:] {
		k.fmadd(t2, t2, R(t1), F(p))
	}
	k.fmadd(t2, t2, R(t1), F(1)) // p·r² + r + 1 = (p·r + 1)·r + 1
	k.fmadd(t2, t2, R(t1), F(1))
	if fast {
		s.scalef(k, d, t2, d)
		return
	}
	k.sra(t1, d, 1) // n1 = n>>1, n2 = n − n1: both scale factors are normal numbers
	k.isub(d, d, R(t1))
	k.iadd(t1, t1, U(127))
	k.shl(t1, t1, 23)
	k.iadd(d, d, U(127))
	k.shl(d, d, 23)
	k.mul(t2, t2, R(t1))
	k.mul(d, t2, R(d))
}

// sigmoidParts sets e = e^−|z| and den = 1 + e, from which σ(z) = (z<0 ? e : 1)/den and
// 1 − σ(z) = (z<0 ? 1 : e)/den, both without cancellation. t is a temporary.
//
// Where e^−|z| is below the smallest normal float32 (|z| > sigmoidFlush), e is 0: σ is
// exactly 0 or 1 there, within a subnormal of the true value. A subnormal e, and every
// product it reaches, costs a microcode assist on x86 (a hundred cycles or more for each
// vector holding one: GELU over a hidden layer with a few inputs beyond ±10 ran 15 times
// slower), and nothing the activations compute needs values that small.
func (k *vk) sigmoidParts(e, den, z, t int) {
	k.or(e, z, U(signBit))
	k.expFrom(e, e, den, t, -sigmoidFlush) // never subnormal
	k.and(den, z, U(^uint32(signBit)))
	k.sub(den, den, F(sigmoidFlush)) // |z| − sigmoidFlush: positive where flushed (NaN: not)
	k.zeroWhere(e, den, t)
	k.add(den, e, F(1))
}

// softmaxFlush is how far below a row's largest value softmax takes a value's share as
// 0: e^−50 = 1.9e−22. A share kept stays a normal float32 (above 2^−126 = 1.2e−38) after
// the division by the row's sum, and so do the backward pass's products of it with
// gradients down to about 1e−12 (with e^−72, shares times gradients of 1e−8 were
// subnormal and the backward pass ran 21 times slower: BenchmarkVecSoftmaxSpread); a
// share dropped changes no float32 sum it enters.
const softmaxFlush = 50

// sigmoidFlush is where e^−|z| leaves the normal float32 range (e^−87.33 = 1.18e−38,
// above 2^−126 = 1.1755e−38 with the polynomial's error to spare).
const sigmoidFlush = 87.33

// adamwFlush is the magnitude below which AdamW's moments are taken as 0 (ops'
// adamwFlush tells why; the generic code flushes alike).
const adamwFlush = 1e-28

// zeroWhere sets x to 0 where flag > 0, using temporary t: x − x there, x − 0
// elsewhere, so a NaN x stays NaN, and a NaN flag (not above 0) keeps x.
func (k *vk) zeroWhere(x, flag, t int) {
	k.gt0(t, flag, x)
	k.sub(x, x, R(t))
}

// flushSmall sets x to 0 where |x| < adamwFlush, as the generic AdamW compares (NaN is
// kept), using temporaries t1 and t2.
func (k *vk) flushSmall(x, t1, t2 int) {
	k.and(t1, x, U(^uint32(signBit)))
	k.fnmadd(t1, t1, F(1), F(adamwFlush)) // adamwFlush − |x|: positive where flushed
	k.zeroWhere(x, t1, t2)
}

// geluArg sets z = x·(geluA + geluB·x²), the argument of σ in GELU(x) = x·σ(z).
func (k *vk) geluArg(z, x int) {
	k.mul(z, x, R(x))
	k.fmadd(z, z, F(geluB), F(geluA))
	k.mul(z, z, R(x))
}

// geluOf sets d = GELU(x) = x·σ(z) from z = geluArg(x) and sigmoidParts' e and den, as
// ((sign-selected e)·x)·(1/den), and leaves 1/den in den: the backward pass takes σ and
// 1 − σ from the same reciprocal, one division for all three. s holds the product (s
// may be e, which it then overwrites; d may be x); one is a temporary (it may be s).
func (k *vk) geluOf(d, x, z, e, den, s, one int) {
	k.mov(one, F(1))
	k.div(den, one, R(den))
	k.sel(s, z, R(e), F(1))
	k.mul(s, s, R(x))
	k.mul(d, s, R(den))
}

// unary builds dst[i] = f(x[i]) with ntmp registers per element vector (the first holds
// x and receives the result).
func unary(ntmp, most int, f func(k *vk, t []int)) func(k *vk) {
	return func(k *vk) {
		dst, x := k.vec("dst", rowVec), k.vec("x", rowVec)
		k.start()
		k.each("dst", ntmp, most, func(s slot) {
			k.load(s.t[0], x, s)
			f(k, s.t)
			k.store(s.t[0], dst, s)
		})
	}
}

// backward builds dx[i] = dy[i]·f'(a[i]) where f computes the factor f' from a into
// t[0] (ntmp registers, the first holding a), and the product with dy is left to this.
func backward(a string, ntmp, most int, f func(k *vk, t []int)) func(k *vk) {
	return func(k *vk) {
		dx, av, dy := k.vec("dx", rowVec), k.vec(a, rowVec), k.vec("dy", rowVec)
		k.start()
		k.each("dx", ntmp, most, func(s slot) {
			k.load(s.t[0], av, s)
			f(k, s.t)
			k.load(s.t[1], dy, s)
			k.mul(s.t[0], s.t[0], R(s.t[1]))
			k.store(s.t[0], dx, s)
		})
	}
}

var vecKernels = []vecKernel{
	{name: "adamw", op: "adamwOp", x86Only: true,
		params: []param{pSlice("w"), pSlice("g"), pSlice("m"), pSlice("v"), pF32("b1"), pF32("gb1"), pF32("b2"), pF32("gb2"),
			pF32("decay"), pF32("step"), pF32("invSC2"), pF32("eps"), pF32("gs")},
		doc: "one AdamW update from the gradient g·gs: m = b1·m + gb1·g; v = b2·v + (gb2·g)·g, each 0 below 1e−28 in magnitude; w = w·decay − (step·m)/(√v·invSC2 + eps), each operation rounded to float32 as the generic Go code rounds it",
		build: func(k *vk) {
			w, g, m, v := k.vec("w", rowVec), k.vec("g", rowVec), k.vec("m", rowVec), k.vec("v", rowVec)
			k.start()
			c := map[string]int{}
			for _, name := range []string{"b1", "gb1", "b2", "gb2", "decay", "step", "invSC2", "eps", "gs"} {
				c[name] = k.glob()
				k.bcastArg(c[name], name)
			}
			k.each("w", 4, 1, func(s slot) {
				t := s.t
				k.load(t[0], g, s)
				k.mul(t[0], t[0], R(c["gs"])) // the clipped gradient, rounded as ops.Scale rounds it
				k.load(t[1], m, s)
				k.mul(t[1], t[1], R(c["b1"]))
				k.mul(t[2], t[0], R(c["gb1"]))
				k.add(t[1], t[1], R(t[2])) // m
				k.flushSmall(t[1], t[2], t[3])
				k.store(t[1], m, s)
				k.mul(t[2], t[0], R(c["gb2"]))
				k.mul(t[2], t[2], R(t[0]))
				k.load(t[3], v, s)
				k.mul(t[3], t[3], R(c["b2"]))
				k.add(t[3], t[3], R(t[2])) // v
				k.flushSmall(t[3], t[0], t[2])
				k.store(t[3], v, s)
				k.sqrt(t[3], t[3])
				k.mul(t[3], t[3], R(c["invSC2"]))
				k.add(t[3], t[3], R(c["eps"]))
				k.mul(t[1], t[1], R(c["step"]))
				k.div(t[1], t[1], R(t[3]))
				k.load(t[0], w, s)
				k.mul(t[0], t[0], R(c["decay"]))
				k.sub(t[0], t[0], R(t[1])) // w
				k.store(t[0], w, s)
			})
		}},
	{name: "axpy", op: "axpyOp", params: []param{pF32("alpha"), pSlice("x"), pSlice("y")},
		doc: "y[i] += alpha·x[i]",
		build: func(k *vk) {
			x, y := k.vec("x", rowVec), k.vec("y", rowVec)
			k.start()
			a := k.glob()
			k.bcastArg(a, "alpha")
			k.each("x", 2, ewUnroll, func(s slot) {
				k.load(s.t[0], x, s)
				k.load(s.t[1], y, s)
				k.fmadd(s.t[1], s.t[0], R(a), R(s.t[1]))
				k.store(s.t[1], y, s)
			})
		}},
	{name: "scale", op: "scaleOp", params: []param{pF32("alpha"), pSlice("x")},
		doc: "x[i] *= alpha",
		build: func(k *vk) {
			x := k.vec("x", rowVec)
			k.start()
			a := k.glob()
			k.bcastArg(a, "alpha")
			k.each("x", 1, ewUnroll, func(s slot) {
				k.load(s.t[0], x, s)
				k.mul(s.t[0], s.t[0], R(a))
				k.store(s.t[0], x, s)
			})
		}},
	binary("add", "addOp", "dst[i] = a[i] + b[i]", opAdd),
	binary("mul", "mulOp", "dst[i] = a[i]·b[i]", opMul),
	{name: "mulAdd", op: "mulAddOp", params: []param{pSlice("dst"), pSlice("a"), pSlice("b")},
		doc: "dst[i] += a[i]·b[i]",
		build: func(k *vk) {
			dst, a, b := k.vec("dst", rowVec), k.vec("a", rowVec), k.vec("b", rowVec)
			k.start()
			k.each("dst", 3, ewUnroll, func(s slot) {
				k.load(s.t[0], a, s)
				k.load(s.t[1], b, s)
				k.load(s.t[2], dst, s)
				k.fmadd(s.t[2], s.t[0], R(s.t[1]), R(s.t[2]))
				k.store(s.t[2], dst, s)
			})
		}},
	{name: "addMul", op: "addMulOp", params: []param{pSlice("dst"), pSlice("x"), pSlice("a"), pSlice("b")},
		doc: "dst[i] = x[i] + a[i]·b[i], the product rounded before the sum (not fused), so equal to Add(x, Mul(a, b))",
		build: func(k *vk) {
			dst, x, a, b := k.vec("dst", rowVec), k.vec("x", rowVec), k.vec("a", rowVec), k.vec("b", rowVec)
			k.start()
			k.each("dst", 3, ewUnroll, func(s slot) {
				k.load(s.t[0], a, s)
				k.load(s.t[1], b, s)
				k.mul(s.t[0], s.t[0], R(s.t[1]))
				k.load(s.t[2], x, s)
				k.add(s.t[0], s.t[2], R(s.t[0]))
				k.store(s.t[0], dst, s)
			})
		}},
	{name: "dot", op: "dotOp", params: []param{pSlice("x"), pSlice("y")}, results: retF32,
		doc: "Σ x[i]·y[i]",
		build: func(k *vk) {
			x, y := k.vec("x", rowVec), k.vec("y", rowVec)
			k.start()
			acc := k.reduce("x", []opnd{F(0)}, opAdd, 2, redUnroll, func(s slot) {
				k.load(s.t[0], x, s)
				k.load(s.t[1], y, s)
				k.fmadd(s.acc[0], s.t[0], R(s.t[1]), R(s.acc[0]))
			})
			k.hsum(acc[0], acc[0])
			k.sret(acc[0], "ret")
		}},
	{name: "sum", op: "sumOp", params: []param{pSlice("x")}, results: retF32,
		doc: "Σ x[i]",
		build: func(k *vk) {
			x := k.vec("x", rowVec)
			k.start()
			acc := k.reduce("x", []opnd{F(0)}, opAdd, 1, redUnroll, func(s slot) {
				k.load(s.t[0], x, s)
				k.add(s.acc[0], s.acc[0], R(s.t[0]))
			})
			k.hsum(acc[0], acc[0])
			k.sret(acc[0], "ret")
		}},
	{name: "max", op: "maxOp", params: []param{pSlice("x")}, results: retF32,
		doc: "max x[i], ignoring NaNs (−Inf when there is none)",
		build: func(k *vk) {
			x := k.vec("x", rowVec)
			k.start()
			acc := k.reduce("x", []opnd{F(negInf)}, opMax, 1, redUnroll, func(s slot) {
				k.loadFill(s.t[0], x, s, F(negInf))
				k.maxNum(s.acc[0], s.t[0], R(s.acc[0])) // x > acc ? x : acc
			})
			k.hmax(acc[0], acc[0])
			k.sret(acc[0], "ret")
		}},
	{name: "exp", op: "expOp", params: []param{pSlice("dst"), pSlice("x")},
		doc:   "dst[i] = e^x[i]",
		build: unary(3, ewUnroll, func(k *vk, t []int) { k.exp(t[0], t[0], t[1], t[2]) })},
	{name: "sigmoid", op: "sigmoidOp", params: []param{pSlice("dst"), pSlice("x")},
		doc: "dst[i] = 1/(1+e^−x[i])",
		build: unary(4, ewUnroll, func(k *vk, t []int) {
			x, e, den := t[0], t[1], t[2]
			k.sigmoidParts(e, den, x, t[3])
			k.sel(e, x, R(e), F(1))
			k.div(x, e, R(den))
		})},
	{name: "sigmoidBackward", op: "sigmoidBackwardOp", params: []param{pSlice("dx"), pSlice("y"), pSlice("dy")},
		doc: "dx[i] = dy[i]·y[i]·(1−y[i])",
		build: func(k *vk) {
			dx, y, dy := k.vec("dx", rowVec), k.vec("y", rowVec), k.vec("dy", rowVec)
			k.start()
			k.each("dx", 3, ewUnroll, func(s slot) {
				yv, d, t := s.t[0], s.t[1], s.t[2]
				k.load(yv, y, s)
				k.load(d, dy, s)
				k.mov(t, F(1))
				k.sub(t, t, R(yv))
				k.mul(d, d, R(yv))
				k.mul(d, d, R(t))
				k.store(d, dx, s)
			})
		}},
	{name: "gelu", op: "geluOp", params: []param{pSlice("dst"), pSlice("x")},
		doc: "the tanh form of GELU, dst[i] = x·σ(2√(2/π)(x+0.044715x³)) with x = x[i]",
		build: unary(5, ewUnroll, func(k *vk, t []int) {
			x, z, e, den := t[0], t[1], t[2], t[3]
			k.geluArg(z, x)
			k.sigmoidParts(e, den, z, t[4])
			k.geluOf(x, x, z, e, den, e, t[4])
		})},
	{name: "geluBackward", op: "geluBackwardOp", params: []param{pSlice("dx"), pSlice("x"), pSlice("dy")},
		doc: "dx[i] = dy[i]·GELU'(x[i])",
		build: backward("x", 5, ewUnroll, func(k *vk, t []int) {
			// GELU' = s + x·s(1−s)·(geluA + 3·geluB·x²) with s = σ(z).
			x, z, e, inv, s := t[0], t[1], t[2], t[3], t[4]
			// Beyond ±20, σ(z) is exactly 1 or 0 in float32 and GELU' is 1 or 0; the
			// clamp keeps x³ finite there (NaN stays NaN).
			k.clamp(x, x, F(-geluClamp), F(geluClamp))
			k.geluArg(z, x)
			k.sigmoidParts(e, inv, z, s)
			k.mov(s, F(1))
			k.div(inv, s, R(inv))
			k.sel(s, z, R(e), F(1))
			k.mul(s, s, R(inv))
			k.sel(e, z, F(1), R(e))
			k.mul(e, e, R(inv)) // 1 − s
			k.mul(z, x, R(x))
			k.fmadd(z, z, F(geluB3), F(geluA))
			k.mul(e, e, R(x))
			k.mul(e, e, R(z))
			k.fmadd(x, s, R(e), R(s))
		})},
	{name: "gatedGelu", op: "gatedGeluOp", params: []param{pSlice("dst"), pSlice("a"), pSlice("b")},
		doc: "dst[i] = GELU(a[i])·b[i], the tanh form of GELU computed as the gelu kernel computes it",
		build: func(k *vk) {
			dst, av, bv := k.vec("dst", rowVec), k.vec("a", rowVec), k.vec("b", rowVec)
			k.start()
			k.each("dst", 5, ewUnroll, func(s slot) {
				x, z, e, den := s.t[0], s.t[1], s.t[2], s.t[3]
				k.load(x, av, s)
				k.geluArg(z, x)
				k.sigmoidParts(e, den, z, s.t[4])
				k.geluOf(x, x, z, e, den, e, s.t[4])
				k.load(z, bv, s)
				k.mul(x, x, R(z))
				k.store(x, dst, s)
			})
		}},
	{name: "gatedGeluBackward", op: "gatedGeluBackwardOp",
		params: []param{pSlice("da"), pSlice("db"), pSlice("g"), pSlice("a"), pSlice("b")},
		doc:    "da[i] = GELU'(a[i])·(g[i]·b[i]) and db[i] = g[i]·GELU(a[i]): both gradients of GELU(a)·b from one exponential, each the same bits as the gelu, gelu_backward and mul kernels give; da may be a and db b (each value is read before its gradient is written)",
		build: func(k *vk) {
			da, db := k.vec("da", rowVec), k.vec("db", rowVec)
			gv, av, bv := k.vec("g", rowVec), k.vec("a", rowVec), k.vec("b", rowVec)
			k.start()
			k.each("da", 7, ewUnroll, func(sl slot) {
				a, x, z, e, inv, s, t := sl.t[0], sl.t[1], sl.t[2], sl.t[3], sl.t[4], sl.t[5], sl.t[6]
				k.load(a, av, sl)
				// x is a clamped to ±20 for GELU' (as in geluBackward); GELU itself is
				// a·σ(z), exact there (σ is 0 or 1).
				k.clamp(x, a, F(-geluClamp), F(geluClamp))
				k.geluArg(z, x)
				k.sigmoidParts(e, inv, z, s)
				// GELU(a) as the gelu kernel computes it, bit for bit (z differs from
				// its z beyond ±20, but e is 0 and den 1 for both there).
				k.geluOf(t, a, z, e, inv, t, s) // inv holds 1/den from here
				k.load(a, gv, sl)               // a holds g from here
				k.mul(t, a, R(t))
				// b is read before db is written, and a before da: each may be the
				// other's slice (GatedFFN writes the gradients over its saved inputs).
				k.load(s, bv, sl)
				k.mul(s, a, R(s)) // g·b
				k.store(t, db, sl)
				k.sel(t, z, R(e), F(1))
				k.mul(t, t, R(inv)) // σ(z)
				k.sel(e, z, F(1), R(e))
				k.mul(e, e, R(inv)) // 1 − σ(z)
				k.mul(z, x, R(x))
				k.fmadd(z, z, F(geluB3), F(geluA))
				k.mul(e, e, R(x))
				k.mul(e, e, R(z))
				k.fmadd(x, t, R(e), R(t)) // GELU'(a)
				k.mul(x, x, R(s))
				k.store(x, da, sl)
			})
		}},
	{name: "relu", op: "reluOp", params: []param{pSlice("dst"), pSlice("x")},
		doc:   "dst[i] = x[i] > 0 ? x[i] : 0",
		build: unary(1, ewUnroll, func(k *vk, t []int) { k.maxNum(t[0], t[0], F(0)) })},
	{name: "reluBackward", op: "reluBackwardOp", params: []param{pSlice("dx"), pSlice("x"), pSlice("dy")},
		doc: "dx[i] = x[i] > 0 ? dy[i] : 0",
		build: func(k *vk) {
			dx, x, dy := k.vec("dx", rowVec), k.vec("x", rowVec), k.vec("dy", rowVec)
			k.start()
			k.each("dx", 2, ewUnroll, func(s slot) {
				k.load(s.t[0], x, s)
				k.load(s.t[1], dy, s)
				k.gt0(s.t[1], s.t[0], s.t[1])
				k.store(s.t[1], dx, s)
			})
		}},
	{name: "silu", op: "siluOp", params: []param{pSlice("dst"), pSlice("x")},
		doc: "dst[i] = x[i]·σ(x[i])",
		build: unary(4, ewUnroll, func(k *vk, t []int) {
			x, e, den := t[0], t[1], t[2]
			k.sigmoidParts(e, den, x, t[3])
			k.sel(e, x, R(e), F(1))
			k.mul(e, e, R(x))
			k.div(x, e, R(den))
		})},
	{name: "siluBackward", op: "siluBackwardOp", params: []param{pSlice("dx"), pSlice("x"), pSlice("dy")},
		doc: "dx[i] = dy[i]·s(1+x(1−s)) with x = x[i], s = σ(x)",
		build: backward("x", 4, ewUnroll, func(k *vk, t []int) {
			x, e, inv, s := t[0], t[1], t[2], t[3]
			k.sigmoidParts(e, inv, x, s)
			k.mov(s, F(1))
			k.div(inv, s, R(inv))
			k.sel(s, x, R(e), F(1))
			k.mul(s, s, R(inv))
			k.sel(e, x, F(1), R(e))
			k.mul(e, e, R(inv)) // 1 − s
			k.mul(e, e, R(x))
			k.fmadd(x, s, R(e), R(s))
		})},
	{name: "softmaxRows", op: "softmaxRowsOp",
		params: []param{pSlice("dst"), pSlice("x"), pInt("rows"), pInt("cols")},
		doc:    "the softmax of each row of x into dst",
		build:  softmaxRows(false)},
	{name: "softmaxRowsBias", op: "softmaxRowsBiasOp",
		params: []param{pSlice("dst"), pSlice("x"), pSlice("bias"), pInt("rows"), pInt("cols")},
		doc:    "the softmax of each row of x + bias into dst (each sum rounded, as Add rounds it)",
		build:  softmaxRows(true)},
	{name: "softmaxRowsBackward", op: "softmaxRowsBackwardOp",
		params: []param{pSlice("dx"), pSlice("y"), pSlice("dy"), pInt("rows"), pInt("cols")},
		doc:    "dx = y ⊙ (dy − Σ y⊙dy) row by row",
		build: func(k *vk) {
			dx, y, dy := k.vec("dx", rowVec), k.vec("y", rowVec), k.vec("dy", rowVec)
			k.start()
			sv := k.glob()
			k.rows(func() {
				acc := k.reduce("cols", []opnd{F(0)}, opAdd, 2, redUnroll, func(s slot) {
					k.load(s.t[0], y, s)
					k.load(s.t[1], dy, s)
					k.fmadd(s.acc[0], s.t[0], R(s.t[1]), R(s.acc[0]))
				})
				k.hsum(acc[0], acc[0])
				k.bcast(sv, acc[0])
				k.each("cols", 2, ewUnroll, func(s slot) {
					k.load(s.t[0], dy, s)
					k.sub(s.t[0], s.t[0], R(sv))
					k.load(s.t[1], y, s)
					k.mul(s.t[0], s.t[1], R(s.t[0]))
					k.store(s.t[0], dx, s)
				})
			})
		}},
	{name: "rmsNormRows", op: "rmsNormRowsOp",
		params: []param{pSlice("dst"), pSlice("x"), pSlice("w"), pInt("rows"), pInt("cols"), pF32("eps"), pSlice("invRMS")},
		doc:    "dst = x ⊙ w / sqrt(mean(x²) + eps) row by row, saving 1/sqrt(mean(x²)+eps) in invRMS",
		build: func(k *vk) {
			dst, x, w, ir := k.vec("dst", rowVec), k.vec("x", rowVec), k.vec("w", colVec), k.vec("invRMS", rowScalar)
			k.start()
			inv := k.glob()
			k.rows(func() {
				acc := k.reduce("cols", []opnd{F(0)}, opAdd, 1, redUnroll, func(s slot) {
					k.load(s.t[0], x, s)
					k.fmadd(s.acc[0], s.t[0], R(s.t[0]), R(s.acc[0]))
				})
				ss, t := acc[0], acc[0]+1
				k.hsum(ss, ss)
				k.sintArg(t, "cols")
				k.sdiv(ss, ss, R(t))
				k.sarg(t, "eps")
				k.sadd(ss, ss, R(t))
				k.ssqrt(ss, ss)
				k.mov(t, F(1))
				k.sdiv(t, t, R(ss))
				k.srowStore(t, ir)
				k.bcast(inv, t)
				k.each("cols", 2, ewUnroll, func(s slot) {
					k.load(s.t[0], x, s)
					k.mul(s.t[0], s.t[0], R(inv))
					k.load(s.t[1], w, s)
					k.mul(s.t[0], s.t[0], R(s.t[1]))
					k.store(s.t[0], dst, s)
				})
			})
		}},
	{name: "rmsNormRowsBackward", op: "rmsNormRowsBackwardOp",
		params: []param{pSlice("dx"), pSlice("dw"), pSlice("x"), pSlice("w"), pSlice("invRMS"), pSlice("dy"), pInt("rows"), pInt("cols")},
		doc:    "dx, and dw += Σ_rows dy⊙x⊙invRMS, for y = RMSNormRows(x, w)",
		build:  rmsNormRowsBackward(false)},
	{name: "rmsNormRowsBackwardAdd", op: "rmsNormRowsBackwardAddOp",
		params: []param{pSlice("dx"), pSlice("dw"), pSlice("x"), pSlice("w"), pSlice("invRMS"), pSlice("dy"), pInt("rows"), pInt("cols")},
		doc:    "dx += the gradient of x (computed as rmsNormRowsBackward's, then added), and dw += Σ_rows dy⊙x⊙invRMS, for y = RMSNormRows(x, w)",
		build:  rmsNormRowsBackward(true)},
	{name: "layerNormRows", op: "layerNormRowsOp",
		params: []param{pSlice("dst"), pSlice("x"), pSlice("w"), pSlice("b"), pInt("rows"), pInt("cols"), pF32("eps"), pSlice("mean"), pSlice("rstd")},
		doc:    "dst = (x − mean)/sqrt(var + eps) ⊙ w + b row by row, saving mean and 1/sqrt(var+eps)",
		build: func(k *vk) {
			dst, x, w, b := k.vec("dst", rowVec), k.vec("x", rowVec), k.vec("w", colVec), k.vec("b", colVec)
			mean, rstd := k.vec("mean", rowScalar), k.vec("rstd", rowScalar)
			k.start()
			m, rs := k.glob(), k.glob()
			k.rows(func() {
				acc := k.reduce("cols", []opnd{F(0)}, opAdd, 1, redUnroll, func(s slot) {
					k.load(s.t[0], x, s)
					k.add(s.acc[0], s.acc[0], R(s.t[0]))
				})
				sum, t := acc[0], acc[0]+1
				k.hsum(sum, sum)
				k.sintArg(t, "cols")
				k.sdiv(sum, sum, R(t))
				k.srowStore(sum, mean)
				k.bcast(m, sum)
				// The variance from the deviations, not from Σx² − n·mean²: no cancellation.
				acc = k.reduce("cols", []opnd{F(0)}, opAdd, 1, redUnroll, func(s slot) {
					k.load(s.t[0], x, s)
					k.sub(s.t[0], s.t[0], R(m))
					k.zeroInactive(s.t[0])
					k.fmadd(s.acc[0], s.t[0], R(s.t[0]), R(s.acc[0]))
				})
				ss := acc[0]
				k.hsum(ss, ss)
				k.sintArg(t, "cols")
				k.sdiv(ss, ss, R(t))
				k.sarg(t, "eps")
				k.sadd(ss, ss, R(t))
				k.ssqrt(ss, ss)
				k.mov(t, F(1))
				k.sdiv(t, t, R(ss))
				k.srowStore(t, rstd)
				k.bcast(rs, t)
				k.each("cols", 2, ewUnroll, func(s slot) {
					k.load(s.t[0], x, s)
					k.sub(s.t[0], s.t[0], R(m))
					k.mul(s.t[0], s.t[0], R(rs))
					k.load(s.t[1], w, s)
					k.mul(s.t[0], s.t[0], R(s.t[1]))
					k.load(s.t[1], b, s)
					k.add(s.t[0], s.t[0], R(s.t[1]))
					k.store(s.t[0], dst, s)
				})
			})
		}},
	{name: "layerNormRowsBackward", op: "layerNormRowsBackOp",
		params: []param{pSlice("dx"), pSlice("dw"), pSlice("db"), pSlice("x"), pSlice("w"), pSlice("mean"), pSlice("rstd"), pSlice("dy"), pInt("rows"), pInt("cols")},
		doc:    "dx, and dw += Σ_rows dy⊙x̂, db += Σ_rows dy, for y = LayerNormRows(x, w, b)",
		build: func(k *vk) {
			dx, dw, db, x, w := k.vec("dx", rowVec), k.vec("dw", colVec), k.vec("db", colVec), k.vec("x", rowVec), k.vec("w", colVec)
			mean, rstd, dy := k.vec("mean", rowScalar), k.vec("rstd", rowScalar), k.vec("dy", rowVec)
			k.start()
			m, rs, a, bb := k.glob(), k.glob(), k.glob(), k.glob()
			k.rows(func() {
				k.srow(m, mean)
				k.bcast(m, m)
				k.srow(rs, rstd)
				k.bcast(rs, rs)
				// x̂ = (x−mean)·rstd, g = w·dy: Σg, Σg·x̂; dw += dy·x̂; db += dy.
				acc := k.reduce("cols", []opnd{F(0), F(0)}, opAdd, 4, ewUnroll, func(s slot) {
					xh, g, d, t := s.t[0], s.t[1], s.t[2], s.t[3]
					k.load(xh, x, s)
					k.sub(xh, xh, R(m))
					k.mul(xh, xh, R(rs))
					k.zeroInactive(xh)
					k.load(g, w, s)
					k.load(d, dy, s)
					k.mul(g, g, R(d))
					k.add(s.acc[0], s.acc[0], R(g))
					k.fmadd(s.acc[1], g, R(xh), R(s.acc[1]))
					k.load(t, dw, s)
					k.fmadd(t, d, R(xh), R(t))
					k.store(t, dw, s)
					k.load(t, db, s)
					k.add(t, t, R(d))
					k.store(t, db, s)
				})
				sg, sgx, n := acc[0], acc[1], acc[1]+1
				k.hsum(sg, sg)
				k.hsum(sgx, sgx)
				k.sintArg(n, "cols")
				k.sdiv(sg, sg, R(n))
				k.sdiv(sgx, sgx, R(n))
				k.bcast(a, sg)
				k.bcast(bb, sgx)
				// dx = rstd·(g − Σg/n − x̂·Σg·x̂/n)
				k.each("cols", 3, ewUnroll, func(s slot) {
					xh, g, d := s.t[0], s.t[1], s.t[2]
					k.load(xh, x, s)
					k.sub(xh, xh, R(m))
					k.mul(xh, xh, R(rs))
					k.load(g, w, s)
					k.load(d, dy, s)
					k.mul(g, g, R(d))
					k.sub(g, g, R(a))
					k.fnmadd(g, xh, R(bb), R(g))
					k.mul(g, g, R(rs))
					k.store(g, dx, s)
				})
			})
		}},
}

// binary is dst[i] = a[i] op b[i].
func binary(name, op, doc string, o binOp) vecKernel {
	return vecKernel{name: name, op: op, params: []param{pSlice("dst"), pSlice("a"), pSlice("b")}, doc: doc,
		build: func(k *vk) {
			dst, a, b := k.vec("dst", rowVec), k.vec("a", rowVec), k.vec("b", rowVec)
			k.start()
			k.each("dst", 2, ewUnroll, func(s slot) {
				k.load(s.t[0], a, s)
				k.load(s.t[1], b, s)
				k.bin(s.t[0], o, s.t[0], R(s.t[1]))
				k.store(s.t[0], dst, s)
			})
		}}
}

// rmsNormRowsBackward builds RMSNormRows' backward kernel: it overwrites dx, or with
// accumulate adds the gradient of x into it (computed as without, then added: the sum
// equals Add(dx, gradient) bit for bit).
func rmsNormRowsBackward(accumulate bool) func(k *vk) {
	return func(k *vk) {
		dx, dw, x, w := k.vec("dx", rowVec), k.vec("dw", colVec), k.vec("x", rowVec), k.vec("w", colVec)
		ir, dy := k.vec("invRMS", rowScalar), k.vec("dy", rowVec)
		k.start()
		inv, c := k.glob(), k.glob()
		k.rows(func() {
			k.srow(inv, ir)
			k.bcast(inv, inv)
			acc := k.reduce("cols", []opnd{F(0)}, opAdd, 4, ewUnroll, func(s slot) {
				wv, d, xv, t := s.t[0], s.t[1], s.t[2], s.t[3]
				k.load(wv, w, s)
				k.load(d, dy, s)
				k.mul(wv, wv, R(d))
				k.load(xv, x, s)
				k.fmadd(s.acc[0], wv, R(xv), R(s.acc[0])) // Σ w·dy·x
				k.mul(d, d, R(xv))
				k.mul(d, d, R(inv))
				k.load(t, dw, s)
				k.add(t, t, R(d))
				k.store(t, dw, s)
			})
			sum, t := acc[0], acc[0]+1
			k.hsum(sum, sum)
			k.smul(t, inv, R(inv)) // c = inv³·Σ/cols
			k.smul(t, t, R(inv))
			k.smul(t, t, R(sum))
			k.sintArg(sum, "cols")
			k.sdiv(t, t, R(sum))
			k.bcast(c, t)
			k.each("cols", 3, ewUnroll, func(s slot) {
				k.load(s.t[0], w, s)
				k.mul(s.t[0], s.t[0], R(inv))
				k.load(s.t[1], dy, s)
				k.mul(s.t[0], s.t[0], R(s.t[1]))
				k.load(s.t[2], x, s)
				k.fnmadd(s.t[0], s.t[2], R(c), R(s.t[0]))
				if accumulate {
					k.load(s.t[1], dx, s)
					k.add(s.t[0], s.t[1], R(s.t[0]))
				}
				k.store(s.t[0], dx, s)
			})
		})
	}
}

// softmaxRows builds the softmax of each row of x, or (withBias) of x + bias, each sum
// rounded before the softmax reads it: the same bits as Add followed by the softmax.
func softmaxRows(withBias bool) func(k *vk) {
	return func(k *vk) {
		dst, x := k.vec("dst", rowVec), k.vec("x", rowVec)
		var bias stream
		maxTmp := 1
		if withBias {
			bias, maxTmp = k.vec("bias", rowVec), 2
		}
		k.start()
		m := k.glob()
		k.rows(func() {
			acc := k.reduce("cols", []opnd{F(negInf)}, opMax, maxTmp, redUnroll, func(s slot) {
				k.loadFill(s.t[0], x, s, F(negInf))
				if withBias {
					k.loadFill(s.t[1], bias, s, F(0))
					k.add(s.t[0], s.t[0], R(s.t[1]))
				}
				k.maxNum(s.acc[0], s.t[0], R(s.acc[0]))
			})
			k.hmax(acc[0], acc[0])
			k.bcast(m, acc[0])
			acc = k.reduce("cols", []opnd{F(0)}, opAdd, 4, ewUnroll, func(s slot) {
				e, flush := s.t[0], s.t[3]
				k.load(e, x, s)
				if withBias {
					k.load(s.t[1], bias, s)
					k.add(e, e, R(s.t[1]))
				}
				k.sub(e, e, R(m))
				// Below e^−softmaxFlush of the row's largest a value is taken as 0: no
				// share, and no product of one with a gradient, is subnormal (see
				// sigmoidParts); flush is positive there (NaN keeps its value).
				k.fnmadd(flush, e, F(1), F(-softmaxFlush))
				k.expFrom(e, e, s.t[1], s.t[2], -softmaxFlush)
				k.zeroWhere(e, flush, s.t[1])
				k.store(e, dst, s)
				k.zeroInactive(e)
				k.add(s.acc[0], s.acc[0], R(e))
			})
			sum, inv := acc[0], acc[0]+1
			k.hsum(sum, sum)
			k.mov(inv, F(1))
			k.sdiv(inv, inv, R(sum))
			k.bcast(m, inv)
			k.each("cols", 1, ewUnroll, func(s slot) {
				k.load(s.t[0], dst, s)
				k.mul(s.t[0], s.t[0], R(m))
				k.store(s.t[0], dst, s)
			})
		})
	}
}
