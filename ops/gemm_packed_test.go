package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// packedTestKernels returns, for every kernel set this CPU runs, the set with its
// derived blocking and a copy with a blocking small enough that test shapes span several
// blocks of k, of columns and of rows.
func packedTestKernels() []*gemmKernels {
	var out []*gemmKernels
	for _, k := range registeredGemmKernels {
		if !supported(k.isa) {
			continue
		}
		small := *k
		small.blocking = blocking{kc: 32, mc: 2 * lcm(k.mr, k.gradMR), nc: 2 * k.nr}
		out = append(out, k, &small)
	}
	return out
}

// TestGemmPackedSameBits checks that a product against a PackedB gives Gemm's bits, for
// every kernel set of packedTestKernels; on 1 and 3
// threads, with both transposes, alpha 1 and not, beta 0 and 1, and the one-row path.
func TestGemmPackedSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	shapes := []struct{ m, n, k int }{{1, 70, 90}, {5, 33, 17}, {37, 100, 300}, {130, 70, 65}, {64, 256, 256}}
	for _, ks := range packedTestKernels() {
		for _, s := range shapes {
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				ta, tb := tr[0], tr[1]
				lda, ldb := s.k+3, s.n+5
				if ta {
					lda = s.m + 3
				}
				if tb {
					ldb = s.k + 5
				}
				a, b := randSlice(rng, (max(s.m, s.k)+1)*lda), randSlice(rng, (max(s.n, s.k)+1)*ldb)
				c0 := randSlice(rng, s.m*(s.n+2))
				for _, ab := range [][2]float32{{1, 0}, {0.5, 1}} {
					for _, w := range []int{1, 3} {
						what := fmt.Sprintf("%s %v m=%d n=%d k=%d trans=%v alpha=%v beta=%v workers=%d", ks.isa, ks.blocking, s.m, s.n, s.k, tr, ab[0], ab[1], w)
						want := slices.Clone(c0)
						ks.gemmOn(w, ta, tb, s.m, s.n, s.k, ab[0], a, lda, b, ldb, ab[1], want, s.n+2)
						p := ks.packAllB(tb, s.k, s.n, b, ldb)
						got := slices.Clone(c0)
						ks.gemmPre(w, ta, tb, s.m, s.n, s.k, ab[0], a, lda, b, ldb, ab[1], got, s.n+2, p.panels)
						p.Release()
						for i := range want {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s: c[%d] = %v, Gemm %v", what, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

// TestGemmPackedAPI checks the exported pair against Gemm on the active instruction set
// (generic included: PackB then packs nothing), several products per PackedB.
func TestGemmPackedAPI(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	const m, n, k = 50, 70, 300
	b := randSlice(rng, n*k)
	prev := ActiveISA()
	defer SetISA(prev)
	for _, isa := range SupportedISAs() {
		if err := SetISA(isa); err != nil {
			t.Fatal(err)
		}
		p := PackB(true, k, n, b, k)
		for block := 0; block < 3; block++ {
			a := randSlice(rng, m*k)
			want, got := make([]float32, m*n), make([]float32, m*n)
			Gemm(false, true, m, n, k, 1, a, k, b, k, 0, want, n)
			GemmPacked(false, m, 1, a, k, p, 0, got, n)
			if !slices.Equal(got, want) {
				t.Fatalf("%s, block %d: GemmPacked differs from Gemm", isa, block)
			}
			clear(got)
			GemmPackedSerial(false, m, 1, a, k, p, 0, got, n)
			if !slices.Equal(got, want) {
				t.Fatalf("%s, block %d: GemmPackedSerial differs from Gemm", isa, block)
			}
		}
		p.Release()
	}
}

// A profile counts PackB as an operation of its own, and a GemmPacked under Gemm with
// its shape.
func TestGemmPackedProfiled(t *testing.T) {
	b, a, c := make([]float32, 64*48), make([]float32, 10*64), make([]float32, 10*48)
	StartProfile()
	p := PackB(false, 64, 48, b, 48)
	GemmPacked(false, 10, 1, a, 64, p, 0, c, 48)
	p.Release()
	got := map[string]int64{}
	for _, s := range StopProfile() {
		got[s.Name] = s.Calls
	}
	if got["PackB"] != 1 || got["Gemm"] != 1 {
		t.Errorf("profiled calls %v, want PackB 1 and Gemm 1", got)
	}
}

func ExampleGemmPacked() {
	// y = x·W for the rows of x in two blocks, W packed once.
	w := []float32{1, 2, 3, 4, 5, 6} // 2×3
	x := []float32{1, 0, 0, 1, 1, 1} // 3×2
	y := make([]float32, 9)
	p := PackB(false, 2, 3, w, 3)
	defer p.Release()
	GemmPacked(false, 2, 1, x, 2, p, 0, y, 3)
	GemmPacked(false, 1, 1, x[4:], 2, p, 0, y[6:], 3)
	fmt.Println(y)
	// Output: [1 2 3 4 5 6 5 7 9]
}

// PackB's panels are the same packed on several goroutines (the units split inside k
// blocks and across them) as on one.
func TestPackBSplitSameAsSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	defer SetThreads(SetThreads(1))
	for _, ks := range packedTestKernels() {
		for _, s := range []struct{ k, n int }{{300, 1000}, {257, 333}, {1000, 70}} {
			for _, tb := range []bool{false, true} {
				ldb := s.n + 5
				if tb {
					ldb = s.k + 5
				}
				b := randSlice(rng, (max(s.n, s.k)+1)*ldb)
				SetThreads(1)
				want := ks.packAllB(tb, s.k, s.n, b, ldb)
				SetThreads(3)
				got := ks.packAllB(tb, s.k, s.n, b, ldb)
				if Parts(1000, packCost*ks.kc*ks.nr) < 2 {
					t.Fatalf("%s: the packing test does not split", ks.isa)
				}
				if !slices.Equal(got.panels, want.panels) {
					t.Fatalf("%s %v k=%d n=%d trans=%v: panels packed on 3 goroutines differ", ks.isa, ks.blocking, s.k, s.n, tb)
				}
				got.Release()
				want.Release()
			}
		}
	}
}

// TestGemmSegmentsSameBits checks that every segment of a GemmSegments gets Gemm's
// bits, for every kernel set of packedTestKernels (blocks cut through the segments), on
// 1 and 3 threads, with both transposes, alpha 1 and not, each segment's own beta (0, 1
// or 0.5), and segments of 0 columns; and through the exported function, whatever
// ISA is active, segments that are not whole micro-panels wide included.
func TestGemmSegmentsSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	type shape struct {
		m, k   int
		panels []int // the widths of all segments but the last, in micro-panels
		last   int   // the last segment's width, in columns
	}
	shapes := []shape{{2, 70, []int{2}, 64}, {37, 300, []int{4, 0, 2}, 50}, {130, 65, []int{8, 8}, 256}, {64, 256, nil, 32}}
	for _, ks := range packedTestKernels() {
		for _, sh := range shapes {
			s := struct {
				m, k int
				ns   []int
			}{sh.m, sh.k, nil}
			for _, p := range sh.panels {
				s.ns = append(s.ns, p*ks.nr)
			}
			s.ns = append(s.ns, sh.last)
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				ta, tb := tr[0], tr[1]
				lda := s.k + 3
				if ta {
					lda = s.m + 3
				}
				a := randSlice(rng, (max(s.m, s.k)+1)*lda)
				for _, alpha := range []float32{1, 0.5} {
					for _, w := range []int{1, 3} {
						var segs []segment
						var want [][]float32
						for i, n := range s.ns {
							ldb := n + 5
							if tb {
								ldb = s.k + 5
							}
							b := randSlice(rng, (max(n, s.k)+1)*ldb)
							c0 := randSlice(rng, s.m*(n+2))
							beta := []float32{0, 1, 0.5}[i%3]
							wc := slices.Clone(c0)
							ks.gemmOn(w, ta, tb, s.m, n, s.k, alpha, a, lda, b, ldb, beta, wc, n+2)
							want = append(want, wc)
							segs = append(segs, segment{n: n, b: b, ldb: ldb, beta: beta, c: c0, ldc: n + 2})
						}
						ks.gemmSegs(w, ta, tb, s.m, s.k, alpha, a, lda, segs, nil)
						for i, sg := range segs {
							for j := range want[i] {
								if math.Float32bits(sg.c[j]) != math.Float32bits(want[i][j]) {
									t.Fatalf("%s %v m=%d k=%d segments %v trans=%v alpha=%v workers=%d: segment %d c[%d] = %v, Gemm %v",
										ks.isa, ks.blocking, s.m, s.k, s.ns, tr, alpha, w, i, j, sg.c[j], want[i][j])
								}
							}
						}
					}
				}
			}
		}
	}
	// The exported function: joined where it can be, one product each otherwise.
	for _, ns := range [][]int{{64, 64, 64}, {50, 64}, {64}} {
		const m, k = 40, 90
		a := randSlice(rng, m*k)
		var segs []GemmSegment
		var want [][]float32
		for _, n := range ns {
			b, c := randSlice(rng, k*n), randSlice(rng, m*n)
			w := slices.Clone(c)
			Gemm(true, false, m, n, k, 1, a, m, b, n, 1, w, n)
			want = append(want, w)
			segs = append(segs, GemmSegment{N: n, B: b, LDB: n, Beta: 1, C: c, LDC: n})
		}
		GemmSegments(true, false, m, k, 1, a, m, segs)
		for i, s := range segs {
			for j := range want[i] {
				if math.Float32bits(s.C[j]) != math.Float32bits(want[i][j]) {
					t.Fatalf("GemmSegments %v: segment %d c[%d] = %v, Gemm %v", ns, i, j, s.C[j], want[i][j])
				}
			}
		}
	}
}

// The serial gated products against a packed weight give GridGatedGemm's and
// GridGatedGemmGradA's bits, on every instruction set, whether they are called on all
// examples at once or on pieces of examples (a block of rows cut across examples, as
// autograd's feed-forward blocks cut them), beta 0 or not.
func TestGridGatedPackedSerialSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	prev := ActiveISA()
	defer SetISA(prev)
	defer SetThreads(SetThreads(3))
	for _, isa := range SupportedISAs() {
		if err := SetISA(isa); err != nil {
			t.Fatal(err)
		}
		for _, tc := range gateCases {
			if tc.batch == 0 || tc.rows == 0 {
				continue
			}
			m, lda, ldb, ldc, a, b, g, dc := gatedOperands(rng, tc)
			p, pt := PackB(false, tc.k, tc.n, b, ldb), PackB(true, tc.n, tc.k, b, ldb)
			for _, beta := range []float32{0, 0.5} {
				c0, da0 := randSlice(rng, m*ldc), randSlice(rng, m*lda)
				want, wantDA := slices.Clone(c0), slices.Clone(da0)
				GridGatedGemm(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, a, lda, b, ldb, g, beta, want, ldc)
				GridGatedGemmGradA(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, dc, ldc, b, ldb, g, beta, wantDA, lda)
				for _, piece := range []int{m, 5} { // all rows; pieces of 5 rows, cut at example ends too
					got, gotDA := slices.Clone(c0), slices.Clone(da0)
					for r0 := 0; r0 < m; {
						e := r0 / tc.rows
						r1 := min(r0+piece, (e+1)*tc.rows)
						if piece == m {
							r1 = m
						}
						batch, rows, ge := 1, r1-r0, g[e*tc.gr*tc.gc:]
						if piece == m {
							batch, rows, ge = tc.batch, tc.rows, g
						}
						GridGatedGemmPackedSerial(batch, rows, tc.gr, tc.gc, a[r0*lda:], lda, p, ge, beta, got[r0*ldc:], ldc)
						GridGatedGemmGradAPackedSerial(batch, rows, tc.gr, tc.gc, dc[r0*ldc:], ldc, pt, ge, beta, gotDA[r0*lda:], lda)
						r0 = r1
					}
					what := fmt.Sprintf("%s %+v beta=%v pieces of %d rows", isa, tc, beta, piece)
					sameGatedBits(t, what, got, want, gotDA, wantDA, "GridGatedGemmPackedSerial", "GridGatedGemmGradAPackedSerial")
				}
			}
			p.Release()
			pt.Release()
		}
	}
}

// A product against GatePacked's copy gives the grid-gated products' bits: GemmPacked
// and GemmPackedSerial against the gated copy of B give GridGatedGemm's, and against the
// gated copy of Bᵀ GridGatedGemmGradA's, for every kernel set of packedTestKernels
// (several k blocks), example by example in pieces of 1, 5 and 9 rows and whole, beta
// 0 or not, one reused copy for all the examples.
func TestGatePackedSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	defer SetThreads(SetThreads(3))
	for _, k := range packedTestKernels() {
		for _, tc := range gateCases {
			if tc.batch == 0 || tc.rows == 0 {
				continue
			}
			m, lda, ldb, ldc, a, b, g, dc := gatedOperands(rng, tc)
			p, pt := k.packAllB(false, tc.k, tc.n, b, ldb), k.packAllB(true, tc.n, tc.k, b, ldb)
			var gp, gpt *PackedB // reused from example to example
			for _, beta := range []float32{0, 0.5} {
				c0, da0 := randSlice(rng, m*ldc), randSlice(rng, m*lda)
				want, wantDA := slices.Clone(c0), slices.Clone(da0)
				k.gridGated(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, a, lda, b, ldb, g, beta, want, ldc)
				k.gridGatedGradA(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, dc, ldc, b, ldb, g, beta, wantDA, lda)
				for _, piece := range []int{1, 5, 9, tc.rows} {
					for _, serial := range []bool{true, false} {
						got, gotDA := slices.Clone(c0), slices.Clone(da0)
						for e := range tc.batch {
							ge := g[e*tc.gr*tc.gc : (e+1)*tc.gr*tc.gc]
							gp, gpt = GatePacked(gp, p, tc.gr, tc.gc, ge), GatePacked(gpt, pt, tc.gr, tc.gc, ge)
							for r0 := e * tc.rows; r0 < (e+1)*tc.rows; r0 += piece {
								rows := min(piece, (e+1)*tc.rows-r0)
								gp.gemm(serial, false, rows, 1, a[r0*lda:], lda, beta, got[r0*ldc:], ldc)
								gpt.gemm(serial, false, rows, 1, dc[r0*ldc:], ldc, beta, gotDA[r0*lda:], lda)
							}
						}
						what := fmt.Sprintf("%s %v %+v beta=%v pieces of %d rows, serial %v", k.isa, k.blocking, tc, beta, piece, serial)
						sameGatedBits(t, what, got, want, gotDA, wantDA, "the product against the gated B", "the product against the gated Bᵀ")
					}
				}
			}
			p.Release()
			pt.Release()
			gp.Release()
			gpt.Release()
		}
	}
}

// GatePacked returns nil on the generic Go code (which packs nothing), refuses a grid
// that does not tile the weight, and does not gate twice.
func TestGatePackedAPI(t *testing.T) {
	prev := ActiveISA()
	defer SetISA(prev)
	b := make([]float32, 8*6)
	if err := SetISA(Generic); err != nil {
		t.Fatal(err)
	}
	if gp := GatePacked(nil, PackB(false, 8, 6, b, 6), 2, 3, make([]float32, 6)); gp != nil {
		t.Fatalf("GatePacked on the generic code = %+v, want nil", gp)
	}
	for _, isa := range SupportedISAs() {
		if err := SetISA(isa); err != nil {
			t.Fatal(err)
		}
		p := PackB(false, 8, 6, b, 6)
		mustPanic(t, "a 3×3 grid", "does not tile a 8×6 weight", func() { GatePacked(nil, p, 3, 3, make([]float32, 9)) })
		mustPanic(t, "too few gates", "does not tile", func() { GatePacked(nil, p, 2, 3, make([]float32, 5)) })
		if isa == Generic {
			continue
		}
		gp := GatePacked(nil, p, 2, 3, make([]float32, 6))
		mustPanic(t, "gating twice", "already gated", func() { GatePacked(nil, gp, 2, 3, make([]float32, 6)) })
		gp.Release()
		p.Release()
	}
}

// mustPanic runs f and fails unless it panics with a message containing want.
func mustPanic(t *testing.T, what, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if msg, _ := r.(string); !strings.Contains(msg, want) {
			t.Fatalf("%s: panic %v, want one containing %q", what, r, want)
		}
	}()
	f()
}

// sameGatedBits fails unless a gated product's result and its input gradient's are
// GridGatedGemm's and GridGatedGemmGradA's bit for bit; fwd and grad name the two
// products tested.
func sameGatedBits(t *testing.T, what string, got, want, gotDA, wantDA []float32, fwd, grad string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: %s differs from GridGatedGemm", what, fwd)
	}
	if !slices.Equal(gotDA, wantDA) {
		t.Fatalf("%s: %s differs from GridGatedGemmGradA", what, grad)
	}
}

// gatedOperands draws a gate case's operands: m rows of A (leading dimension lda), the
// weight B (ldb), the gates and a gradient dC (ldc), each leading dimension past the
// width so that no product can read a row as contiguous with the next.
func gatedOperands(rng *rand.Rand, tc gateCase) (m, lda, ldb, ldc int, a, b, g, dc []float32) {
	m = tc.batch * tc.rows
	lda, ldb, ldc = tc.k+1, tc.n+2, tc.n+3
	a, b = randSlice(rng, m*lda), randSlice(rng, tc.k*ldb)
	g, dc = randSlice(rng, tc.batch*tc.gr*tc.gc), randSlice(rng, m*ldc)
	return m, lda, ldb, ldc, a, b, g, dc
}
