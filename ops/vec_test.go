package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The tests of the elementwise, row and reduction kernels: every variant this CPU runs
// (op.forEach) against the generic one, on every length 0…70 and a few large ones, at
// unaligned starts, with special values mixed in, checking that nothing outside the
// output slices is written.

// vecFn is one variant of an operation behind a uniform call: the slices in the
// operation's argument order and a float32 parameter (alpha or eps).
type vecFn struct {
	isa ISA
	fn  func(args [][]float32, p float32) float32
}

func variants[F any](o *op[F], wrap func(F) func([][]float32, float32) float32) []vecFn {
	var out []vecFn
	o.forEach(func(isa ISA, f F) { out = append(out, vecFn{isa, wrap(f)}) })
	return out
}

func wrapUnary(f func(dst, x []float32)) func([][]float32, float32) float32 {
	return func(a [][]float32, _ float32) float32 { f(a[0], a[1]); return 0 }
}

func wrapTernary(f func(a, b, c []float32)) func([][]float32, float32) float32 {
	return func(a [][]float32, _ float32) float32 { f(a[0], a[1], a[2]); return 0 }
}

// vecTol says how far a variant may be from the generic result: within ulps units in
// the last place, or within rel·scale where scale is the size of the terms behind the
// element (it covers cancellation, where ulps of a tiny result mean nothing).
type vecTol struct {
	ulps  int64
	rel   float64
	scale func(a [][]float32, p float32, i int) float64
}

func ulpDiff(a, b float32) int64 {
	if a == b || (a != a && b != b) {
		return 0
	}
	if a != a || b != b {
		return math.MaxInt64
	}
	ord := func(f float32) int64 {
		i := int64(int32(math.Float32bits(f)))
		if i < 0 {
			i = math.MinInt32 - i
		}
		return i
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return d
}

func (t vecTol) ok(a [][]float32, p float32, i int, got, want float32) bool {
	if (got != got) != (want != want) {
		return false
	}
	if ulpDiff(got, want) <= t.ulps {
		return true
	}
	if t.scale == nil || math.IsInf(float64(want), 0) {
		return false
	}
	return math.Abs(float64(got)-float64(want)) <= t.rel*t.scale(a, p, i)
}

func abs32(v float32) float64 { return math.Abs(float64(v)) }

// ewCase is one elementwise operation: nargs slices of one length, the ones in outs
// written (the others must stay as they were).
type ewCase struct {
	name  string
	nargs int
	outs  []int
	vars  func() []vecFn
	tol   vecTol
	// alt, if set and ok, is another acceptable result for element i of output j (a
	// fused multiply-add that does not overflow where the generic product does, or the
	// limit at an infinite input where the generic formula gives NaN).
	alt func(a [][]float32, p float32, j, i int) (v float32, ok bool)
	// finite lists the arguments that get no infinities or NaN: dy of the derivatives,
	// where ±Inf times a derivative that underflows in one version and not the other
	// tells nothing.
	finite []int
}

const eps32 = 1.0 / (1 << 23)

var exact = vecTol{}

// derivTol is for dx = dy·f'(x): f' is computed to a few ulps, and near its zeros the
// error is measured against |dy|.
func derivTol(ulps int64) vecTol {
	return vecTol{ulps: ulps, rel: 1e-6, scale: func(a [][]float32, _ float32, i int) float64 { return abs32(a[2][i]) }}
}

// outTol allows ulps, or an absolute error at the scale of the argument for results far
// below it (GELU and SiLU of large negative x, whose relative error grows with |x|).
func outTol(ulps int64, rel float64) vecTol {
	return vecTol{ulps: ulps, rel: rel, scale: func(a [][]float32, _ float32, i int) float64 { return 1e-30 + 1e-7*abs32(a[1][i]) }}
}

var ewCases = []ewCase{
	{"axpy", 2, []int{1}, func() []vecFn {
		return variants(axpyOp, func(f func(float32, []float32, []float32)) func([][]float32, float32) float32 {
			return func(a [][]float32, p float32) float32 { f(p, a[0], a[1]); return 0 }
		})
	}, vecTol{ulps: 1, rel: eps32, scale: func(a [][]float32, p float32, i int) float64 {
		return abs32(p*a[0][i]) + abs32(a[1][i])
	}}, func(a [][]float32, p float32, _, i int) (float32, bool) { return fused(p, a[0][i], a[1][i]), true }, nil},
	{"scale", 1, []int{0}, func() []vecFn {
		return variants(scaleOp, func(f func(float32, []float32)) func([][]float32, float32) float32 {
			return func(a [][]float32, p float32) float32 { f(p, a[0]); return 0 }
		})
	}, exact, nil, nil},
	{"add", 3, []int{0}, func() []vecFn { return variants(addOp, wrapTernary) }, exact, nil, nil},
	{"mul", 3, []int{0}, func() []vecFn { return variants(mulOp, wrapTernary) }, exact, nil, nil},
	{"muladd", 3, []int{0}, func() []vecFn { return variants(mulAddOp, wrapTernary) },
		vecTol{ulps: 1, rel: eps32, scale: func(a [][]float32, _ float32, i int) float64 {
			return abs32(a[1][i]*a[2][i]) + abs32(a[0][i])
		}}, func(a [][]float32, _ float32, _, i int) (float32, bool) {
			return fused(a[1][i], a[2][i], a[0][i]), true
		}, nil},
	{"add_mul", 4, []int{0}, func() []vecFn {
		return variants(addMulOp, func(f func(dst, x, a, b []float32)) func([][]float32, float32) float32 {
			return func(a [][]float32, _ float32) float32 { f(a[0], a[1], a[2], a[3]); return 0 }
		})
	}, exact, nil, nil},
	{"exp", 2, []int{0}, func() []vecFn { return variants(expOp, wrapUnary) }, vecTol{ulps: 2}, nil, nil},
	{"sigmoid", 2, []int{0}, func() []vecFn { return variants(sigmoidOp, wrapUnary) }, vecTol{ulps: 4}, nil, nil},
	{"sigmoid_backward", 3, []int{0}, func() []vecFn { return variants(sigmoidBackwardOp, wrapTernary) }, exact, nil, nil},
	{"gelu", 2, []int{0}, func() []vecFn { return variants(geluOp, wrapUnary) }, outTol(16, 1), nil, nil},
	{"gelu_backward", 3, []int{0}, func() []vecFn { return variants(geluBackwardOp, wrapTernary) }, derivTol(16),
		func(a [][]float32, _ float32, _, i int) (float32, bool) { return derivAtInf(a[1][i], a[2][i]), true }, []int{2}},
	// GELU(a)·b: GELU's error, then one rounding more.
	{"gated_gelu", 3, []int{0}, func() []vecFn { return variants(gatedGeluOp, wrapTernary) },
		vecTol{ulps: 17, rel: 1, scale: func(a [][]float32, _ float32, i int) float64 {
			return (1e-30 + 1e-7*abs32(a[1][i])) * abs32(a[2][i])
		}}, nil, []int{2}},
	// da = GELU'(a)·(g·b) and db = g·GELU(a): gelu_backward's and gelu's errors, each
	// at the scale of its own terms.
	{"gated_gelu_backward", 5, []int{0, 1}, func() []vecFn {
		return variants(gatedGeluBackwardOp, func(f func(da, db, g, a, b []float32)) func([][]float32, float32) float32 {
			return func(a [][]float32, _ float32) float32 { f(a[0], a[1], a[2], a[3], a[4]); return 0 }
		})
	}, vecTol{ulps: 17, rel: 1, scale: func(a [][]float32, _ float32, i int) float64 {
		return 1e-30 + abs32(a[2][i])*(1e-6*abs32(a[4][i])+1e-7*abs32(a[3][i]))
	}}, func(a [][]float32, _ float32, j, i int) (float32, bool) {
		return derivAtInf(a[3][i], a[2][i]*a[4][i]), j == 0
	}, []int{2, 4}},
	{"relu", 2, []int{0}, func() []vecFn { return variants(reluOp, wrapUnary) }, exact, nil, nil},
	{"relu_backward", 3, []int{0}, func() []vecFn { return variants(reluBackwardOp, wrapTernary) }, exact, nil, nil},
	{"silu", 2, []int{0}, func() []vecFn { return variants(siluOp, wrapUnary) }, outTol(4, 1), nil, nil},
	{"silu_backward", 3, []int{0}, func() []vecFn { return variants(siluBackwardOp, wrapTernary) }, derivTol(8), nil, []int{2}},
}

// derivAtInf is dy·f'(x) at x = ±Inf for an activation that tends to x at +Inf and to
// 0 at −Inf (GELU, SiLU), where the generic formula gives NaN.
func derivAtInf(x, dy float32) float32 {
	if math.IsInf(float64(x), 1) {
		return dy
	}
	return 0 * dy
}

// altOK reports whether got is the case's other acceptable result for element i of
// output j.
func (c ewCase) altOK(in [][]float32, p float32, j, i int, got float32) bool {
	if c.alt == nil {
		return false
	}
	v, ok := c.alt(in, p, j, i)
	return ok && c.tol.ok(in, p, i, got, v)
}

// fused is a·b + c with one rounding.
func fused(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }

// specials are mixed into the inputs: signed zeros, infinities, NaN, the edges of exp's
// range, subnormals, the largest floats.
var specials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), 88.72, 88.73, 89, 100, -87.3, -103.5, -104, -105, -200, 1e-40, -1e-40, 1e-45,
	math.MaxFloat32, -math.MaxFloat32, 1e-20, -1e-20, 20, -20, 9, -9, 0.5, -0.5}

func vecLengths() []int {
	var ns []int
	for n := 0; n <= 70; n++ {
		ns = append(ns, n)
	}
	return append(ns, 1000, 4099)
}

// guarded returns a slice of n values at offset off into a buffer with guard values on
// both sides, and a check that the guards are intact.
const guardBits = 0x7fc0dead

func guarded(vals []float32, off int) ([]float32, func() bool) {
	buf := make([]float32, off+len(vals)+20)
	for i := range buf {
		buf[i] = math.Float32frombits(guardBits)
	}
	s := buf[off : off+len(vals)]
	copy(s, vals)
	return s, func() bool {
		for i, v := range buf {
			if (i < off || i >= off+len(vals)) && math.Float32bits(v) != guardBits {
				return false
			}
		}
		return true
	}
}

func fillVec(rng *rand.Rand, n int, scale float64, withSpecials bool) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64() * scale)
		if withSpecials && rng.IntN(8) == 0 {
			s[i] = specials[rng.IntN(len(specials))]
		}
	}
	return s
}

func TestVecElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range ewCases {
		vs := c.vars()
		if vs[0].isa != Generic {
			t.Fatalf("%s: the first variant is %s, not generic", c.name, vs[0].isa)
		}
		if len(vs) != len(SupportedISAs()) {
			t.Errorf("%s has variants for %d instruction sets, this CPU supports %v", c.name, len(vs), SupportedISAs())
		}
		for _, v := range vs[1:] {
			t.Run(c.name+"/"+string(v.isa), func(t *testing.T) {
				for _, n := range vecLengths() {
					for off := 0; off < 4; off++ {
						for _, scale := range []float64{1, 8} {
							p := float32(rng.NormFloat64())
							in := make([][]float32, c.nargs)
							for j := range in {
								in[j] = fillVec(rng, n, scale, scale == 8 && !slices.Contains(c.finite, j))
							}
							want := make([][]float32, c.nargs)
							for j := range in {
								want[j] = append([]float32(nil), in[j]...)
							}
							vs[0].fn(want, p)
							got := make([][]float32, c.nargs)
							intact := make([]func() bool, c.nargs)
							for j := range in {
								got[j], intact[j] = guarded(in[j], (off+j)%4)
							}
							v.fn(got, p)
							for j := range got {
								if !intact[j]() {
									t.Fatalf("n=%d off=%d: wrote outside argument %d", n, off, j)
								}
								for i := range got[j] {
									g, w := got[j][i], want[j][i]
									if math.Float32bits(g) == math.Float32bits(w) || c.tol.ok(in, p, i, g, w) ||
										c.altOK(in, p, j, i, g) {
										continue
									}
									var ins []float32
									for _, a := range in {
										ins = append(ins, a[i])
									}
									t.Fatalf("n=%d off=%d p=%v: argument %d element %d = %v, generic %v (inputs %v, %d ulps)",
										n, off, p, j, i, g, w, ins, ulpDiff(g, w))
								}
							}
						}
					}
				}
			})
		}
	}
}

// TestVecSIMDVariantsAgree checks that the SIMD variants of each elementwise kernel give
// the same bits as one another: they run one program, and AVX-512's exp, built on its
// one-instruction rounding and scaling, must equal the integer-arithmetic exp of the
// others value for value, subnormal results, overflow, infinities and NaN included
// (the inputs span e^−150 to past e^89).
func TestVecSIMDVariantsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range ewCases {
		vs := c.vars()[1:]
		if len(vs) < 2 {
			t.Skipf("this CPU runs %d SIMD variants", len(vs))
		}
		for _, scale := range []float64{1, 8, 60} {
			n := 4099
			p := float32(rng.NormFloat64())
			in := make([][]float32, c.nargs)
			for j := range in {
				in[j] = fillVec(rng, n, scale, !slices.Contains(c.finite, j))
			}
			var first [][]float32
			for _, v := range vs {
				got := make([][]float32, c.nargs)
				for j := range in {
					got[j] = append([]float32(nil), in[j]...)
				}
				v.fn(got, p)
				if first == nil {
					first = got
					continue
				}
				for j := range got {
					for i := range got[j] {
						g, w := got[j][i], first[j][i]
						if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
							var ins []float32
							for _, a := range in {
								ins = append(ins, a[i])
							}
							t.Fatalf("%s: %s gives %v for element %d of argument %d, %s gives %v (inputs %v)",
								c.name, v.isa, g, i, j, vs[0].isa, w, ins)
						}
					}
				}
			}
		}
	}
}

// TestVecExpAccuracy checks the generic exp and every variant against float64 over
// the whole float32 range of interest, including the subnormal results.
func TestVecExpAccuracy(t *testing.T) {
	var xs []float32
	for x := -110.0; x < 90; x += 0.0137 {
		xs = append(xs, float32(x))
	}
	expOp.forEach(func(isa ISA, f func(dst, x []float32)) {
		got := make([]float32, len(xs))
		f(got, xs)
		worst := int64(0)
		for i, x := range xs {
			want := float32(math.Exp(float64(x)))
			d := ulpDiff(got[i], want)
			worst = max(worst, d)
			if d > 2 {
				t.Errorf("%s: exp(%v) = %v, want %v (%d ulps)", isa, x, got[i], want, d)
				return
			}
		}
		t.Logf("%s: worst error %d ulp over %d points in [-110, 90)", isa, worst, len(xs))
	})
}

type redCase struct {
	name string
	vars func() []vecFn
	// terms gives the magnitude Σ|term| that bounds the rounding error of a sum.
	terms func(a [][]float32) float64
	nargs int
}

var redCases = []redCase{
	{"dot", func() []vecFn {
		return variants(dotOp, func(f func(x, y []float32) float32) func([][]float32, float32) float32 {
			return func(a [][]float32, _ float32) float32 { return f(a[0], a[1]) }
		})
	}, func(a [][]float32) float64 {
		s := 0.0
		for i := range a[0] {
			s += abs32(a[0][i]) * abs32(a[1][i])
		}
		return s
	}, 2},
	{"sum", func() []vecFn {
		return variants(sumOp, func(f func(x []float32) float32) func([][]float32, float32) float32 {
			return func(a [][]float32, _ float32) float32 { return f(a[0]) }
		})
	}, func(a [][]float32) float64 {
		s := 0.0
		for _, v := range a[0] {
			s += abs32(v)
		}
		return s
	}, 1},
	{"max", func() []vecFn {
		return variants(maxOp, func(f func(x []float32) float32) func([][]float32, float32) float32 {
			return func(a [][]float32, _ float32) float32 { return f(a[0]) }
		})
	}, nil, 1},
}

// reductionSpecials are the special values whose effect on a sum does not depend on
// the order of the additions.
var reductionSpecials = []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), 1e-40, -1e-40}

func TestVecReductions(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range redCases {
		vs := c.vars()
		if len(vs) != len(SupportedISAs()) {
			t.Errorf("%s has variants for %d instruction sets, this CPU supports %v", c.name, len(vs), SupportedISAs())
		}
		for _, v := range vs[1:] {
			t.Run(c.name+"/"+string(v.isa), func(t *testing.T) {
				for _, n := range vecLengths() {
					for off := 0; off < 4; off++ {
						for _, sp := range []int{0, 4, 40} { // one special value in sp (none when 0)
							in := make([][]float32, c.nargs)
							for j := range in {
								in[j] = fillVec(rng, n, 1, false)
								if sp > 0 && n > 0 && rng.IntN(sp/4) == 0 {
									in[j][rng.IntN(n)] = reductionSpecials[rng.IntN(len(reductionSpecials))]
								}
							}
							if c.name == "max" && sp == 40 && n > 0 { // all NaN, or all -Inf
								for i := range in[0] {
									in[0][i] = []float32{float32(math.NaN()), float32(math.Inf(-1))}[off%2]
								}
							}
							want := vs[0].fn(in, 0)
							args := make([][]float32, c.nargs)
							for j := range in {
								args[j], _ = guarded(in[j], (off+j)%4)
							}
							got := v.fn(args, 0)
							ok := got == want || (got != got && want != want)
							if !ok && c.terms != nil && !math.IsInf(float64(want), 0) {
								ok = math.Abs(float64(got)-float64(want)) <= 2*float64(n+1)*eps32*c.terms(in)
							}
							if !ok {
								t.Fatalf("n=%d off=%d: %v, generic %v", n, off, got, want)
							}
						}
					}
				}
			})
		}
	}
}

// rowCase is a row kernel: slices of rows×cols, cols, or rows values, called through a
// uniform adapter; it says which slices are written.
type rowCase struct {
	name  string
	shape []byte // per slice: 'm' rows×cols, 'c' cols, 'r' rows
	outs  []int
	acc   []int // outputs that accumulate (their input values matter)
	vars  func() []rowFn
	input func(rng *rand.Rand, j, n int) []float32
}

type rowFn struct {
	isa ISA
	fn  func(a [][]float32, rows, cols int, eps float32)
}

func rowVariants[F any](o *op[F], wrap func(F) func([][]float32, int, int, float32)) []rowFn {
	var out []rowFn
	o.forEach(func(isa ISA, f F) { out = append(out, rowFn{isa, wrap(f)}) })
	return out
}

func normalInput(rng *rand.Rand, _, n int) []float32 { return fillVec(rng, n, 1, false) }

// positiveInput gives the saved statistics (rstd, invRMS) plausible positive values.
func statInput(stats ...int) func(*rand.Rand, int, int) []float32 {
	return func(rng *rand.Rand, j, n int) []float32 {
		s := fillVec(rng, n, 1, false)
		for _, k := range stats {
			if k == j {
				for i := range s {
					s[i] = 0.5 + rng.Float32()
				}
			}
		}
		return s
	}
}

var rowCases = []rowCase{
	{"softmax_rows", []byte("mm"), []int{0}, nil, func() []rowFn {
		return rowVariants(softmaxRowsOp, func(f func(dst, x []float32, rows, cols int)) func([][]float32, int, int, float32) {
			return func(a [][]float32, r, c int, _ float32) { f(a[0], a[1], r, c) }
		})
	}, func(rng *rand.Rand, _, n int) []float32 { return fillVec(rng, n, 10, false) }},
	{"softmax_rows_bias", []byte("mmm"), []int{0}, nil, func() []rowFn {
		return rowVariants(softmaxRowsBiasOp, func(f func(dst, x, bias []float32, rows, cols int)) func([][]float32, int, int, float32) {
			return func(a [][]float32, r, c int, _ float32) { f(a[0], a[1], a[2], r, c) }
		})
	}, func(rng *rand.Rand, _, n int) []float32 { return fillVec(rng, n, 10, false) }},
	{"softmax_rows_backward", []byte("mmm"), []int{0}, nil, func() []rowFn {
		return rowVariants(softmaxRowsBackwardOp, func(f func(dx, y, dy []float32, rows, cols int)) func([][]float32, int, int, float32) {
			return func(a [][]float32, r, c int, _ float32) { f(a[0], a[1], a[2], r, c) }
		})
	}, normalInput},
	{"rmsnorm_rows", []byte("mmcr"), []int{0, 3}, nil, func() []rowFn {
		return rowVariants(rmsNormRowsOp, func(f func(dst, x, w []float32, rows, cols int, eps float32, inv []float32)) func([][]float32, int, int, float32) {
			return func(a [][]float32, r, c int, eps float32) { f(a[0], a[1], a[2], r, c, eps, a[3]) }
		})
	}, normalInput},
	{"rmsnorm_rows_backward", []byte("mcmcrm"), []int{0, 1}, []int{1}, func() []rowFn {
		return rowVariants(rmsNormRowsBackwardOp, func(f func(dx, dw, x, w, inv, dy []float32, rows, cols int)) func([][]float32, int, int, float32) {
			return func(a [][]float32, r, c int, _ float32) { f(a[0], a[1], a[2], a[3], a[4], a[5], r, c) }
		})
	}, statInput(4)},
	{"rmsnorm_rows_backward_add", []byte("mcmcrm"), []int{0, 1}, []int{0, 1}, func() []rowFn {
		return rowVariants(rmsNormRowsBackwardAddOp, func(f func(dx, dw, x, w, inv, dy []float32, rows, cols int)) func([][]float32, int, int, float32) {
			return func(a [][]float32, r, c int, _ float32) { f(a[0], a[1], a[2], a[3], a[4], a[5], r, c) }
		})
	}, statInput(4)},
	{"layernorm_rows", []byte("mmccrr"), []int{0, 4, 5}, nil, func() []rowFn {
		return rowVariants(layerNormRowsOp, func(f func(dst, x, w, b []float32, rows, cols int, eps float32, mean, rstd []float32)) func([][]float32, int, int, float32) {
			return func(a [][]float32, r, c int, eps float32) { f(a[0], a[1], a[2], a[3], r, c, eps, a[4], a[5]) }
		})
	}, func(rng *rand.Rand, j, n int) []float32 {
		s := fillVec(rng, n, 1, false)
		if j == 1 { // an offset mean tests the two-pass variance
			for i := range s {
				s[i] += 3
			}
		}
		return s
	}},
	{"layernorm_rows_backward", []byte("mccmcrrm"), []int{0, 1, 2}, []int{1, 2}, func() []rowFn {
		return rowVariants(layerNormRowsBackOp, func(f func(dx, dw, db, x, w, mean, rstd, dy []float32, rows, cols int)) func([][]float32, int, int, float32) {
			return func(a [][]float32, r, c int, _ float32) { f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], r, c) }
		})
	}, statInput(6)},
}

func rowCols() []int {
	var cs []int
	for c := 1; c <= 40; c++ {
		cs = append(cs, c)
	}
	return append(cs, 257)
}

func TestVecRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, c := range rowCases {
		vs := c.vars()
		if len(vs) != len(SupportedISAs()) {
			t.Errorf("%s has variants for %d instruction sets, this CPU supports %v", c.name, len(vs), SupportedISAs())
		}
		for _, v := range vs[1:] {
			t.Run(c.name+"/"+string(v.isa), func(t *testing.T) {
				for _, rows := range []int{0, 1, 3} {
					for _, cols := range rowCols() {
						off := (rows + cols) % 4
						const eps = 1e-5
						sizes := make([]int, len(c.shape))
						in := make([][]float32, len(c.shape))
						for j, s := range c.shape {
							sizes[j] = map[byte]int{'m': rows * cols, 'c': cols, 'r': rows}[s]
							in[j] = c.input(rng, j, sizes[j])
						}
						want := make([][]float32, len(in))
						for j := range in {
							want[j] = append([]float32(nil), in[j]...)
						}
						vs[0].fn(want, rows, cols, eps)
						got := make([][]float32, len(in))
						intact := make([]func() bool, len(in))
						for j := range in {
							got[j], intact[j] = guarded(in[j], (off+j)%4)
						}
						v.fn(got, rows, cols, eps)
						what := fmt.Sprintf("rows=%d cols=%d", rows, cols)
						for j := range got {
							if !intact[j]() {
								t.Fatalf("%s: wrote outside argument %d", what, j)
							}
							// Errors are measured against the RMS of the argument's values:
							// sums of cols terms, and cancellation in the gradients.
							rms := 0.0
							for _, w := range want[j] {
								rms += float64(w) * float64(w)
							}
							rms = math.Sqrt(rms / float64(max(len(want[j]), 1)))
							tol := 2e-6 * math.Sqrt(float64(cols)+1) * float64(max(rows, 1))
							for i := range got[j] {
								g, w := float64(got[j][i]), float64(want[j][i])
								if math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > tol*(math.Abs(w)+rms) {
									t.Fatalf("%s: argument %d element %d = %v, generic %v", what, j, i, g, w)
								}
							}
						}
					}
				}
			})
		}
	}
}

// TestSoftmaxRowsBiasIsAddThenSoftmax checks, for every variant, that the fused kernel
// gives the bits of Add into a copy followed by SoftmaxRows on the same instruction
// set, masked scores (−Inf) included: attention's results do not change with it.
func TestSoftmaxRowsBiasIsAddThenSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	inf := float32(math.Inf(1))
	for _, cols := range []int{1, 7, 16, 33, 128, 131} {
		const rows = 5
		x, bias := fillVec(rng, rows*cols, 10, false), fillVec(rng, rows*cols, 3, false)
		for i := 0; i < len(x); i += 3 {
			x[i] = -inf // a masked key
		}
		for _, isa := range SupportedISAs() {
			sum, want, got := make([]float32, rows*cols), make([]float32, rows*cols), make([]float32, rows*cols)
			variantOf(addOp, isa)(sum, x, bias)
			variantOf(softmaxRowsOp, isa)(want, sum, rows, cols)
			variantOf(softmaxRowsBiasOp, isa)(got, x, bias, rows, cols)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
					t.Fatalf("%s cols=%d: element %d = %v fused, %v after Add", isa, cols, i, got[i], want[i])
				}
			}
			inPlace := slices.Clone(x)
			variantOf(softmaxRowsBiasOp, isa)(inPlace, inPlace, bias, rows, cols)
			for i := range got {
				if math.Float32bits(inPlace[i]) != math.Float32bits(got[i]) {
					t.Fatalf("%s cols=%d: element %d = %v in place, %v out of place", isa, cols, i, inPlace[i], got[i])
				}
			}
		}
	}
}

// TestVecRowsSpecial checks rows that are constant, huge, or hold infinities and NaN.
func TestVecRowsSpecial(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	rows := [][]float32{
		{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{1e30, -1e30, 5e29, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14},
		{inf, 1, 2, 3, 4, 5, 6, 7, 8},
		{nan, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
		{-inf, -inf, -inf},
		{1000, -1000, 999, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	}
	for _, x := range rows {
		cols := len(x)
		w, b := make([]float32, cols), make([]float32, cols)
		for i := range w {
			w[i], b[i] = 1, 0.5
		}
		want := make([]float32, cols)
		softmaxRowsGeneric(want, x, 1, cols)
		softmaxRowsOp.forEach(func(isa ISA, f func(dst, x []float32, rows, cols int)) {
			got := make([]float32, cols)
			f(got, x, 1, cols)
			for i := range got {
				if ulpDiff(got[i], want[i]) > 8 {
					t.Errorf("softmax %s of %v: element %d = %v, generic %v", isa, x, i, got[i], want[i])
				}
			}
		})
		m0, r0 := make([]float32, 1), make([]float32, 1)
		layerNormRowsGeneric(want, x, w, b, 1, cols, 1e-5, m0, r0)
		layerNormRowsOp.forEach(func(isa ISA, f func(dst, x, w, b []float32, rows, cols int, eps float32, mean, rstd []float32)) {
			got, m, r := make([]float32, cols), make([]float32, 1), make([]float32, 1)
			f(got, x, w, b, 1, cols, 1e-5, m, r)
			for i := range got {
				if ulpDiff(got[i], want[i]) > 64 && math.Abs(float64(got[i]-want[i])) > 1e-4 {
					t.Errorf("layernorm %s of %v: element %d = %v, generic %v", isa, x, i, got[i], want[i])
				}
			}
		})
	}
}

// TestVecAliasing runs the operations whose doc allows dst to alias an input in place,
// for every variant, against the generic result computed out of place (GatedGELUBackward:
// against the variant's own).
func TestVecAliasing(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	const rows, cols = 3, 37
	a, b := fillVec(rng, rows*cols, 2, false), fillVec(rng, rows*cols, 2, false)
	check := func(what string, isa ISA, got, want []float32) {
		t.Helper()
		for i := range want {
			if ulpDiff(got[i], want[i]) > 16 {
				t.Fatalf("%s %s in place: element %d = %v, want %v", what, isa, i, got[i], want[i])
			}
		}
	}
	for _, o := range []struct {
		name string
		op   *op[func(dst, a, b []float32)]
	}{{"add", addOp}, {"mul", mulOp}} {
		want := make([]float32, len(a))
		o.op.variants[0].fn(want, a, b)
		o.op.forEach(func(isa ISA, f func(dst, a, b []float32)) {
			x, y := slices.Clone(a), slices.Clone(b)
			f(x, x, y) // dst = a
			check(o.name, isa, x, want)
			x = slices.Clone(a)
			f(y, x, y) // dst = b
			check(o.name, isa, y, want)
		})
	}
	want := make([]float32, len(a))
	softmaxRowsGeneric(want, a, rows, cols)
	softmaxRowsOp.forEach(func(isa ISA, f func(dst, x []float32, rows, cols int)) {
		x := slices.Clone(a)
		f(x, x, rows, cols)
		check("softmax_rows", isa, x, want)
	})
	softmaxRowsBackwardGeneric(want, a, b, rows, cols)
	softmaxRowsBackwardOp.forEach(func(isa ISA, f func(dx, y, dy []float32, rows, cols int)) {
		dy := slices.Clone(b)
		f(dy, a, dy, rows, cols)
		check("softmax_rows_backward", isa, dy, want)
	})
	// GatedGELUBackward's gradients written over a and b (da = a, db = b) are the bits
	// of the same variant writing them elsewhere.
	g := fillVec(rng, rows*cols, 1, false)
	gatedGeluBackwardOp.forEach(func(isa ISA, f func(da, db, g, a, b []float32)) {
		wa, wb := make([]float32, len(a)), make([]float32, len(b))
		f(wa, wb, g, a, b)
		x, y := slices.Clone(a), slices.Clone(b)
		f(x, y, g, x, y)
		for i := range wa {
			if math.Float32bits(x[i]) != math.Float32bits(wa[i]) || math.Float32bits(y[i]) != math.Float32bits(wb[i]) {
				t.Fatalf("gated_gelu_backward %s in place: element %d = %v, %v, want %v, %v", isa, i, x[i], y[i], wa[i], wb[i])
			}
		}
	})
}

// variantOf returns o's variant for isa.
func variantOf[F any](o *op[F], isa ISA) F {
	for _, v := range o.variants {
		if v.isa == isa {
			return v.fn
		}
	}
	panic("no " + string(isa) + " variant of " + o.name)
}

// TestFusedKernelsEqualComposition checks, for every variant, that the fused kernels
// give the bits of the passes they replace: AddMul those of Mul then Add, and
// RMSNormRowsBackwardAdd those of RMSNormRowsBackward into scratch then Add.
func TestFusedKernelsEqualComposition(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{1, 15, 16, 17, 63, 64, 65, 1000} {
		x, a, b := fillVec(rng, n, 3, false), fillVec(rng, n, 3, false), fillVec(rng, n, 3, false)
		addMulOp.forEach(func(isa ISA, f func(dst, x, a, b []float32)) {
			want := make([]float32, n)
			variantOf(mulOp, isa)(want, a, b)
			variantOf(addOp, isa)(want, x, want)
			got := make([]float32, n)
			f(got, x, a, b)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("add_mul %s n=%d: element %d = %v, Mul then Add %v", isa, n, i, got[i], want[i])
				}
			}
		})
	}
	for _, cols := range []int{1, 7, 16, 33, 256} {
		const rows = 3
		x, w, dy := fillVec(rng, rows*cols, 2, false), fillVec(rng, cols, 2, false), fillVec(rng, rows*cols, 2, false)
		inv := []float32{0.5, 1.25, 2}
		dx0 := fillVec(rng, rows*cols, 2, false)
		rmsNormRowsBackwardAddOp.forEach(func(isa ISA, f func(dx, dw, x, w, inv, dy []float32, rows, cols int)) {
			scratch, dwWant := make([]float32, rows*cols), make([]float32, cols)
			variantOf(rmsNormRowsBackwardOp, isa)(scratch, dwWant, x, w, inv, dy, rows, cols)
			want := slices.Clone(dx0)
			variantOf(addOp, isa)(want, want, scratch)
			got, dwGot := slices.Clone(dx0), make([]float32, cols)
			f(got, dwGot, x, w, inv, dy, rows, cols)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("rmsnorm_rows_backward_add %s cols=%d: dx[%d] = %v, backward then Add %v", isa, cols, i, got[i], want[i])
				}
			}
			for i := range dwWant {
				if math.Float32bits(dwGot[i]) != math.Float32bits(dwWant[i]) {
					t.Fatalf("rmsnorm_rows_backward_add %s cols=%d: dw[%d] = %v, want %v", isa, cols, i, dwGot[i], dwWant[i])
				}
			}
		})
	}
}

func ExampleSoftmaxRows() {
	x := []float32{1, 2, 3, 0, 0, 0}
	y := make([]float32, len(x))
	SoftmaxRows(y, x, 2, 3)
	fmt.Printf("%.4f\n", y)
	// Output: [0.0900 0.2447 0.6652 0.3333 0.3333 0.3333]
}

func ExampleDot() {
	fmt.Println(Dot([]float32{1, 2, 3}, []float32{4, 5, 6}))
	// Output: 32
}

func ExampleGELU() {
	x := []float32{-2, -1, 0, 1, 2}
	y := make([]float32, len(x))
	GELU(y, x)
	fmt.Printf("%.4f\n", y)
	// Output: [-0.0454 -0.1588 0.0000 0.8412 1.9546]
}

// TestAdamWVariants checks every AdamW variant against the generic loop bit for bit
// (the SIMD code rounds each operation as the generic code does), over lengths around
// the vector widths and values that keep the update away from subnormals.
func TestAdamWVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 31, 33, 64, 100, 1000} {
		w0, g0, m0, v0 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			w0[i] = float32(rng.NormFloat64())
			g0[i] = float32(rng.NormFloat64() * 0.1)
			m0[i] = float32(rng.NormFloat64() * 0.01)
			v0[i] = float32(rng.Float64() * 1e-3)
		}
		coeffs := []float32{0.9, 0.1, 0.999, 0.001, 0.9999, 0.0013, 1.0005, 1e-8}
		for _, gs := range []float32{1, 0.37} { // no clipping; a clipping scale
			run := func(fn func(w, g, m, v []float32, b1, gb1, b2, gb2, decay, step, invSC2, eps, gs float32)) (w, m, v []float32) {
				w, m, v = append([]float32(nil), w0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
				c := coeffs
				fn(w, g0, m, v, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], gs)
				return w, m, v
			}
			ww, wm, wv := run(adamwGeneric)
			adamwOp.forEach(func(isa ISA, fn func(w, g, m, v []float32, b1, gb1, b2, gb2, decay, step, invSC2, eps, gs float32)) {
				gw, gm, gv := run(fn)
				for i := range n {
					for _, p := range [][2]float32{{gw[i], ww[i]}, {gm[i], wm[i]}, {gv[i], wv[i]}} {
						if math.Float32bits(p[0]) != math.Float32bits(p[1]) {
							t.Fatalf("%s n=%d gs=%v: value %d: %v, the generic loop gives %v", isa, n, gs, i, p[0], p[1])
						}
					}
				}
			})
		}
	}
}

// AdamW's moments that decay below adamwFlush become 0 rather than subnormal, the same
// bits in every variant as in the generic loop; NaN stays NaN, and moments at or above
// the bound are kept.
func TestAdamWFlushesDecayedMoments(t *testing.T) {
	state := []float32{1e-37, -1e-37, 2e-28, -2e-28, 1.1e-28, 1e-28, 5e-29, 1e-30, 0, 3e-4, float32(math.NaN())}
	n := len(state)
	w0, g := make([]float32, n), make([]float32, n) // no gradient: the moments only decay
	for i := range w0 {
		w0[i] = 0.5
	}
	run := func(fn func(w, g, m, v []float32, b1, gb1, b2, gb2, decay, step, invSC2, eps, gs float32)) (w, m, v []float32) {
		w, m, v = slices.Clone(w0), slices.Clone(state), slices.Clone(state)
		for i := range v {
			v[i] = float32(math.Abs(float64(v[i])))
		}
		fn(w, g, m, v, 0.9, 0.1, 0.999, 0.001, 1, 1e-3, 1, 1e-8, 1)
		return w, m, v
	}
	ww, wm, wv := run(adamwGeneric)
	for i, x := range state {
		for _, got := range []float32{wm[i], wv[i]} {
			switch {
			case x != x:
				if got == got {
					t.Errorf("state NaN: %v, want NaN", got)
				}
			case got != 0 && math.Abs(float64(got)) < adamwFlush:
				t.Errorf("state %v decayed to %v, below the flush bound and not 0", x, got)
			}
		}
	}
	if wm[0] != 0 || wm[2] == 0 {
		t.Errorf("moments 1e-37 → %v (want 0), 2e-28 → %v (want kept)", wm[0], wm[2])
	}
	adamwOp.forEach(func(isa ISA, fn func(w, g, m, v []float32, b1, gb1, b2, gb2, decay, step, invSC2, eps, gs float32)) {
		gw, gm, gv := run(fn)
		for i := range n {
			for _, p := range [][2]float32{{gw[i], ww[i]}, {gm[i], wm[i]}, {gv[i], wv[i]}} {
				if math.Float32bits(p[0]) != math.Float32bits(p[1]) && !(p[0] != p[0] && p[1] != p[1]) {
					t.Errorf("%s state %v: %v, the generic loop gives %v", isa, state[i], p[0], p[1])
				}
			}
		}
	})
}

// A scale passed to AdamWUpdate is the same update as scaling the gradient first
// (ops.Scale, what clipping did), bit for bit, and leaves the gradient as it was.
func TestAdamWScaleIsScaleThenUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	const n = 1000
	w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		w[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*0.1)
		m[i], v[i] = float32(rng.NormFloat64()*0.01), float32(rng.Float64()*1e-3)
	}
	w2, g2, m2, v2 := slices.Clone(w), slices.Clone(g), slices.Clone(m), slices.Clone(v)
	c := []float32{0.9, 0.1, 0.999, 0.001, 0.9999, 0.0013, 1.0005, 1e-8}
	AdamWUpdate(w, g, m, v, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], 0.37)
	Scale(0.37, g2)
	AdamWUpdate(w2, g2, m2, v2, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], 1)
	for i := range n {
		if math.Float32bits(w[i]) != math.Float32bits(w2[i]) || math.Float32bits(m[i]) != math.Float32bits(m2[i]) || math.Float32bits(v[i]) != math.Float32bits(v2[i]) {
			t.Fatalf("value %d: w, m, v %v %v %v with the scale, %v %v %v scaling first", i, w[i], m[i], v[i], w2[i], m2[i], v2[i])
		}
	}
	if g[0]*0.37 != g2[0] || g[0] == g2[0] {
		t.Errorf("the gradient changed: %v (scaled first: %v)", g[0], g2[0])
	}
}

// TestVecActivationsNoSubnormals checks that the SIMD sigmoid-based activations and
// their gradients, and softmax, never return a subnormal over inputs from −130 to 130:
// where the sigmoid inside them would be below the smallest normal float32, or a share
// of a softmax row below e^−50 of its largest, they take it as 0 (see
// BenchmarkVecGatedGELUSpread for why). Their accuracy elsewhere is TestVecElementwise's
// and TestVecRows'.
func TestVecActivationsNoSubnormals(t *testing.T) {
	var x []float32
	for v := float32(-130); v <= 130; v += 0.25 {
		x = append(x, v)
	}
	n := len(x)
	rng := rand.New(rand.NewPCG(19, 20))
	dy, b := fillVec(rng, n, 1, false), fillVec(rng, n, 1, false)
	cases := map[string]func(isa ISA) ([][]float32, [][]float32){}
	unary := func(o *op[func(dst, x []float32)], generic func(dst, x []float32)) func(ISA) ([][]float32, [][]float32) {
		return func(isa ISA) ([][]float32, [][]float32) {
			got, want := make([]float32, n), make([]float32, n)
			variantOf(o, isa)(got, x)
			generic(want, x)
			return [][]float32{got}, [][]float32{want}
		}
	}
	deriv := func(o *op[func(dx, x, dy []float32)], generic func(dx, x, dy []float32)) func(ISA) ([][]float32, [][]float32) {
		return func(isa ISA) ([][]float32, [][]float32) {
			got, want := make([]float32, n), make([]float32, n)
			variantOf(o, isa)(got, x, dy)
			generic(want, x, dy)
			return [][]float32{got}, [][]float32{want}
		}
	}
	cases["sigmoid"] = unary(sigmoidOp, sigmoidGeneric)
	cases["gelu"] = unary(geluOp, geluGeneric)
	cases["silu"] = unary(siluOp, siluGeneric)
	cases["gelu_backward"] = deriv(geluBackwardOp, geluBackwardGeneric)
	cases["silu_backward"] = deriv(siluBackwardOp, siluBackwardGeneric)
	cases["gated_gelu"] = func(isa ISA) ([][]float32, [][]float32) {
		got, want := make([]float32, n), make([]float32, n)
		variantOf(gatedGeluOp, isa)(got, x, b)
		gatedGeluGeneric(want, x, b)
		return [][]float32{got}, [][]float32{want}
	}
	cases["gated_gelu_backward"] = func(isa ISA) ([][]float32, [][]float32) {
		da, db, wa, wb := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		variantOf(gatedGeluBackwardOp, isa)(da, db, dy, x, b)
		gatedGeluBackwardGeneric(wa, wb, dy, x, b)
		return [][]float32{da, db}, [][]float32{wa, wb}
	}
	// Softmax over rows whose values spread over hundreds: most shares are far below
	// e^−50 of the row's largest.
	cases["softmax_rows"] = func(isa ISA) ([][]float32, [][]float32) {
		const rows = 2 // each all of x: a spread of 260
		cols := n
		got, want := make([]float32, rows*cols), make([]float32, rows*cols)
		in := append(slices.Clone(x), x...)
		variantOf(softmaxRowsOp, isa)(got, in, rows, cols)
		softmaxRowsGeneric(want, in, rows, cols)
		return [][]float32{got}, [][]float32{want}
	}
	cases["softmax_rows_bias"] = func(isa ISA) ([][]float32, [][]float32) {
		const rows = 2 // x as the scores of one row, as the bias of the other
		cols := n
		got, want := make([]float32, rows*cols), make([]float32, rows*cols)
		in, bias := append(slices.Clone(x), make([]float32, n)...), append(make([]float32, n), x...)
		variantOf(softmaxRowsBiasOp, isa)(got, in, bias, rows, cols)
		softmaxRowsBiasGeneric(want, in, bias, rows, cols)
		return [][]float32{got}, [][]float32{want}
	}
	const smallest = 0x1p-126
	for name, run := range cases {
		for _, isa := range SupportedISAs()[1:] {
			got, want := run(isa)
			for j := range got {
				for i, g := range got[j] {
					if g != 0 && math.Abs(float64(g)) < smallest {
						t.Errorf("%s %s: output %d at x=%v is subnormal (%v; generic %v)", name, isa, j, x[i], g, want[j][i])
					}
				}
			}
		}
	}
}
