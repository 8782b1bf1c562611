package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// closeEnough compares got with want element by element, allowing float32 rounding that
// grows with the length k of the dot products behind each element.
func closeEnough(t *testing.T, what string, got, want []float32, k int) {
	t.Helper()
	tol := 1e-5 * float64(max(k, 1))
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > tol*(1+math.Abs(w)) {
			t.Fatalf("%s: element %d = %v, want %v (tolerance %.2g)", what, i, g, w, tol)
		}
	}
}

// TestGemmGenericAgainstFloat64 checks the oracle itself against gonum's float64 BLAS.
func TestGemmGenericAgainstFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		ta, tb      bool
		m, n, k     int
		alpha, beta float32
	}{
		{false, false, 7, 5, 9, 1, 0}, {true, false, 4, 11, 3, 0.5, 1}, {false, true, 13, 2, 17, -1, 0.25},
		{true, true, 9, 9, 1, 2, -1}, {false, false, 1, 1, 33, 1, 0},
	} {
		lda, ldb, ldc := tc.k+3, tc.n+1, tc.n+2
		ar, ac := tc.m, tc.k
		if tc.ta {
			ar, ac, lda = tc.k, tc.m, tc.m+3
		}
		br, bc := tc.k, tc.n
		if tc.tb {
			br, bc, ldb = tc.n, tc.k, tc.k+1
		}
		a, b, c := randSlice(rng, ar*lda), randSlice(rng, br*ldb), randSlice(rng, tc.m*ldc)
		f64 := func(x []float32) []float64 {
			y := make([]float64, len(x))
			for i, v := range x {
				y[i] = float64(v)
			}
			return y
		}
		tr := func(t bool) blas.Transpose {
			if t {
				return blas.Trans
			}
			return blas.NoTrans
		}
		want := blas64.General{Rows: tc.m, Cols: tc.n, Stride: ldc, Data: f64(c)}
		blas64.Gemm(tr(tc.ta), tr(tc.tb), float64(tc.alpha),
			blas64.General{Rows: ar, Cols: ac, Stride: lda, Data: f64(a)},
			blas64.General{Rows: br, Cols: bc, Stride: ldb, Data: f64(b)}, float64(tc.beta), want)
		gemmGeneric(tc.ta, tc.tb, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				g, w := float64(c[i*ldc+j]), want.Data[i*ldc+j]
				if math.Abs(g-w) > 1e-5*float64(tc.k+1)*(1+math.Abs(w)) {
					t.Fatalf("%+v: C[%d][%d] = %v, float64 reference %v", tc, i, j, g, w)
				}
			}
		}
	}
}

// gemmShapes covers empty, tiny, odd and multi-block sizes: none is a multiple of any
// micro-tile, and some cross the cache blocks (kc, mc and nc; TestSmallBlocks runs the
// variant tests again with blocks small enough that most shapes cross all three).
var gemmShapes = [][3]int{
	{0, 0, 0}, {0, 5, 3}, {4, 0, 2}, {3, 4, 0}, {1, 1, 1}, {2, 3, 4}, {5, 7, 3}, {6, 16, 8},
	{7, 17, 9}, {8, 32, 1}, {13, 31, 33}, {17, 33, 65}, {33, 15, 257}, {50, 70, 300},
	{193, 40, 31}, {64, 97, 513}, {200, 3, 7}, {3, 200, 19}, {20, 40, 70}, {128, 33, 64},
}

func TestGemmVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, threads := range []int{1, 3} {
		prev := SetThreads(threads)
		gemmOp.forEach(func(isa ISA, fn func(bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int)) {
			for _, s := range gemmShapes {
				m, n, k := s[0], s[1], s[2]
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.5}, {0, 2}} {
						name := fmt.Sprintf("%s/threads=%d/m=%d,n=%d,k=%d/trans=%v/alpha=%v,beta=%v", isa, threads, m, n, k, tr, ab[0], ab[1])
						ta, tb := tr[0], tr[1]
						lda, ldb, ldc := k+2, n+3, n+1
						ar := m
						if ta {
							ar, lda = k, m+2
						}
						br := k
						if tb {
							br, ldb = n, k+3
						}
						a, b := randSlice(rng, ar*lda+1), randSlice(rng, br*ldb+1)
						c0 := randSlice(rng, m*ldc+1)
						if ab[1] == 0 {
							for i := range c0 {
								c0[i] = float32(math.NaN()) // beta 0 must not read C
							}
						}
						want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
						gemmGeneric(ta, tb, m, n, k, ab[0], a, lda, b, ldb, ab[1], want, ldc)
						fn(ta, tb, m, n, k, ab[0], a, lda, b, ldb, ab[1], got, ldc)
						// Elements between rows (beyond n in each ldc stride) must be untouched.
						for i := 0; i < m; i++ {
							for j := n; j < ldc && i*ldc+j < len(got); j++ {
								if math.Float32bits(got[i*ldc+j]) != math.Float32bits(c0[i*ldc+j]) {
									t.Fatalf("%s: wrote C[%d][%d] outside the matrix", name, i, j)
								}
							}
						}
						for i := 0; i < m; i++ {
							closeEnough(t, name, got[i*ldc:i*ldc+n], want[i*ldc:i*ldc+n], k)
						}
					}
				}
			}
		})
		SetThreads(prev)
	}
}

// gateCase is one shape of the grid-gated products.
type gateCase struct{ batch, rows, k, n, gr, gc int }

var gateCases = []gateCase{
	{1, 1, 1, 1, 1, 1}, {2, 3, 4, 6, 2, 3}, {3, 5, 8, 8, 8, 1}, {2, 7, 12, 20, 1, 4},
	{4, 9, 32, 40, 4, 5}, {3, 16, 64, 64, 8, 8}, {2, 13, 48, 96, 3, 32}, {1, 33, 96, 50, 12, 5},
	{5, 8, 64, 32, 32, 32}, {2, 20, 300, 70, 3, 7}, {0, 4, 8, 8, 2, 2}, {2, 0, 8, 8, 2, 2},
	{3, 12, 520, 40, 5, 4}, {2, 10, 192, 48, 2, 6}, {3, 7, 384, 64, 4, 16},
	{3, 20, 96, 48, 4, 3}, {2, 32, 64, 64, 2, 4}, {2, 128, 64, 32, 4, 4},
}

// gatedWeight materialises W ⊙ φ(G_e): the explicit formula the fused kernels must match.
func gatedWeight(k, n, gr, gc int, b []float32, ldb int, ge []float32) []float32 {
	w := make([]float32, k*n)
	for p := 0; p < k; p++ {
		for q := 0; q < n; q++ {
			w[p*n+q] = b[p*ldb+q] * ge[(p/(k/gr))*gc+q/(n/gc)]
		}
	}
	return w
}

func TestGridGatedGenericAgainstExplicit(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range gateCases {
		lda, ldb, ldc := tc.k+1, tc.n+2, tc.n+3
		a, b := randSlice(rng, tc.batch*tc.rows*lda), randSlice(rng, tc.k*ldb)
		g, dc := randSlice(rng, tc.batch*tc.gr*tc.gc), randSlice(rng, tc.batch*tc.rows*ldc)
		c := make([]float32, tc.batch*tc.rows*ldc)
		gridGatedGemmGeneric(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, a, lda, b, ldb, g, 0, c, ldc)
		da := make([]float32, tc.batch*tc.rows*lda)
		gridGatedGemmGradAGeneric(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, dc, ldc, b, ldb, g, 0, da, lda)
		db, dg := make([]float32, tc.k*ldb), make([]float32, len(g))
		gridGatedGemmGradBGGeneric(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, a, lda, dc, ldc, b, ldb, g, db, ldb, dg)
		wantDB := make([]float32, tc.k*tc.n)
		for e := 0; e < tc.batch; e++ {
			ge := g[e*tc.gr*tc.gc : (e+1)*tc.gr*tc.gc]
			w := gatedWeight(tc.k, tc.n, tc.gr, tc.gc, b, ldb, ge)
			want := make([]float32, tc.rows*tc.n)
			gemmGeneric(false, false, tc.rows, tc.n, tc.k, 1, a[e*tc.rows*lda:], lda, w, tc.n, 0, want, tc.n)
			for r := 0; r < tc.rows; r++ {
				closeEnough(t, fmt.Sprintf("%+v forward", tc), c[(e*tc.rows+r)*ldc:][:tc.n], want[r*tc.n:][:tc.n], tc.k)
			}
			wantDA := make([]float32, tc.rows*tc.k)
			gemmGeneric(false, true, tc.rows, tc.k, tc.n, 1, dc[e*tc.rows*ldc:], ldc, w, tc.n, 0, wantDA, tc.k)
			for r := 0; r < tc.rows; r++ {
				closeEnough(t, fmt.Sprintf("%+v dA", tc), da[(e*tc.rows+r)*lda:][:tc.k], wantDA[r*tc.k:][:tc.k], tc.n)
			}
			// P_e = A_eᵀ dC_e; dB += P_e ⊙ φ(G_e); dG_e[i][j] = Σ_block P_e ⊙ B.
			pe := make([]float32, tc.k*tc.n)
			gemmGeneric(true, false, tc.k, tc.n, tc.rows, 1, a[e*tc.rows*lda:], lda, dc[e*tc.rows*ldc:], ldc, 0, pe, tc.n)
			wantDG := make([]float32, tc.gr*tc.gc)
			for p := 0; p < tc.k; p++ {
				for q := 0; q < tc.n; q++ {
					cell := (p/(tc.k/tc.gr))*tc.gc + q/(tc.n/tc.gc)
					wantDB[p*tc.n+q] += pe[p*tc.n+q] * ge[cell]
					wantDG[cell] += pe[p*tc.n+q] * b[p*ldb+q]
				}
			}
			closeEnough(t, fmt.Sprintf("%+v dG", tc), dg[e*tc.gr*tc.gc:][:tc.gr*tc.gc], wantDG, tc.rows*tc.k*tc.n/(tc.gr*tc.gc))
		}
		for p := 0; p < tc.k; p++ {
			closeEnough(t, fmt.Sprintf("%+v dB", tc), db[p*ldb:][:tc.n], wantDB[p*tc.n:][:tc.n], tc.rows*max(tc.batch, 1))
		}
	}
}

func TestGridGatedVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, threads := range []int{1, 4} {
		prev := SetThreads(threads)
		for _, tc := range gateCases {
			lda, ldb, ldc := tc.k+1, tc.n+2, tc.n+3
			a, b := randSlice(rng, tc.batch*tc.rows*lda+1), randSlice(rng, tc.k*ldb+1)
			g, dc := randSlice(rng, tc.batch*tc.gr*tc.gc), randSlice(rng, tc.batch*tc.rows*ldc+1)
			c0, da0 := randSlice(rng, tc.batch*tc.rows*ldc+1), randSlice(rng, tc.batch*tc.rows*lda+1)
			db0, dg0 := randSlice(rng, tc.k*ldb+1), randSlice(rng, len(g))
			for _, beta := range []float32{0, 1, -0.5} {
				want := append([]float32(nil), c0...)
				gridGatedGemmGeneric(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, a, lda, b, ldb, g, beta, want, ldc)
				gridGatedOp.forEach(func(isa ISA, fn func(int, int, int, int, int, int, []float32, int, []float32, int, []float32, float32, []float32, int)) {
					got := append([]float32(nil), c0...)
					fn(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, a, lda, b, ldb, g, beta, got, ldc)
					closeEnough(t, fmt.Sprintf("%s threads=%d %+v beta=%v forward", isa, threads, tc, beta), got, want, tc.k)
				})
				wantDA := append([]float32(nil), da0...)
				gridGatedGemmGradAGeneric(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, dc, ldc, b, ldb, g, beta, wantDA, lda)
				gridGatedGradAOp.forEach(func(isa ISA, fn func(int, int, int, int, int, int, []float32, int, []float32, int, []float32, float32, []float32, int)) {
					got := append([]float32(nil), da0...)
					fn(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, dc, ldc, b, ldb, g, beta, got, lda)
					closeEnough(t, fmt.Sprintf("%s threads=%d %+v beta=%v dA", isa, threads, tc, beta), got, wantDA, tc.n)
				})
			}
			for _, skip := range []string{"", "db", "dg"} {
				wantDB, wantDG := append([]float32(nil), db0...), append([]float32(nil), dg0...)
				gridGatedGemmGradBGGeneric(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, a, lda, dc, ldc, b, ldb, g, wantDB, ldb, wantDG)
				gridGatedGradBGOp.forEach(func(isa ISA, fn func(int, int, int, int, int, int, []float32, int, []float32, int, []float32, int, []float32, []float32, int, []float32)) {
					gotDB, gotDG := append([]float32(nil), db0...), append([]float32(nil), dg0...)
					pdb, pdg := gotDB, gotDG
					switch skip {
					case "db":
						pdb = nil
					case "dg":
						pdg = nil
					}
					fn(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, a, lda, dc, ldc, b, ldb, g, pdb, ldb, pdg)
					name := fmt.Sprintf("%s threads=%d %+v skip=%q", isa, threads, tc, skip)
					if skip != "db" {
						closeEnough(t, name+" dB", gotDB, wantDB, tc.rows*max(tc.batch, 1))
					} else {
						closeEnough(t, name+" dB untouched", gotDB, db0, 0)
					}
					if skip != "dg" {
						closeEnough(t, name+" dG", gotDG, wantDG, tc.rows*tc.k*tc.n/(tc.gr*tc.gc))
					} else {
						closeEnough(t, name+" dG untouched", gotDG, dg0, 0)
					}
				})
			}
		}
		SetThreads(prev)
	}
}

// TestGemmSteadyStateAllocations checks that once warm, the matrix products allocate
// (almost) nothing: training calls the same shapes every step.
func TestGemmSteadyStateAllocations(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const m, n, k = 200, 96, 300
	a, b, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	g := randSlice(rng, 4*2*3)
	prev := SetThreads(2)
	defer SetThreads(prev)
	run := func() {
		Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		GridGatedGemm(4, 50, k, n, 2, 3, a, k, b, n, g, 0, c, n)
	}
	run()
	// One closure per parallel call may escape; nothing proportional to the work.
	if allocs := testing.AllocsPerRun(20, run); allocs > 4 {
		t.Errorf("a warm Gemm + GridGatedGemm allocates %v times per call, want at most 4", allocs)
	}
}

func TestGemmStrided(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	for _, s := range [][4]int{{1, 3, 4, 5}, {7, 16, 16, 8}, {12, 40, 33, 64}, {3, 200, 150, 90}} {
		batch, m, n, k := s[0], s[1], s[2], s[3]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}} {
			lda, sa := k, m*k+3
			if tr[0] {
				lda = m
			}
			ldb, sb := n, k*n+1
			if tr[1] {
				ldb = k
			}
			ldc, sc := n+1, m*(n+1)+2
			a, b := randSlice(rng, batch*sa), randSlice(rng, batch*sb)
			c0 := randSlice(rng, batch*sc)
			got, want := append([]float32(nil), c0...), append([]float32(nil), c0...)
			for _, threads := range []int{1, 2} {
				prev := SetThreads(threads)
				copy(got, c0)
				GemmStrided(tr[0], tr[1], batch, m, n, k, 0.5, a, lda, sa, b, ldb, sb, 0.25, got, ldc, sc)
				SetThreads(prev)
				copy(want, c0)
				for i := 0; i < batch; i++ {
					gemmGeneric(tr[0], tr[1], m, n, k, 0.5, a[i*sa:], lda, b[i*sb:], ldb, 0.25, want[i*sc:], ldc)
				}
				closeEnough(t, fmt.Sprintf("GemmStrided %v trans=%v threads=%d", s, tr, threads), got, want, k)
			}
		}
	}
}

func TestProfileCountsCallsTimeAndFlops(t *testing.T) {
	a, b, c := make([]float32, 6*4), make([]float32, 4*5), make([]float32, 6*5)
	Gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 0, c, 5) // not counted: profiling is off
	StartProfile()
	Gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 0, c, 5)
	Gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 0, c, 5)
	GemmStrided(false, false, 2, 3, 5, 4, 1, a, 4, 12, b, 5, 0, 0, c, 5, 15)
	Scale(2, c)
	stats := StopProfile()
	Scale(2, c) // not counted: profiling stopped
	byName := map[string]OpStats{}
	for _, s := range stats {
		byName[s.Name] = s
	}
	if g := byName["Gemm"]; g.Calls != 2 || g.Flops != 2*2*6*5*4 {
		t.Errorf("Gemm: %+v", g)
	}
	if g := byName["GemmStrided"]; g.Calls != 1 || g.Flops != 2*2*3*5*4 {
		t.Errorf("GemmStrided: %+v", g)
	}
	if s := byName["Scale"]; s.Calls != 1 || s.Flops != 0 {
		t.Errorf("Scale: %+v", s)
	}
	if len(stats) != 3 {
		t.Errorf("%d operations counted, want 3: %+v", len(stats), stats)
	}
	// The same products by shape: the transposes and sizes tell two Gemm shapes apart.
	StartProfile()
	Gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 0, c, 5)
	Gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 0, c, 5)
	Gemm(true, false, 4, 5, 4, 1, a, 4, b, 5, 0, c, 5)
	GemmStrided(false, false, 2, 3, 5, 4, 1, a, 4, 12, b, 5, 0, 0, c, 5, 15)
	StopProfile()
	shapes := map[ProductShape]ShapeStats{}
	for _, s := range ProfileShapes() {
		shapes[s.ProductShape] = s
	}
	for sh, want := range map[ProductShape][2]int64{
		{"Gemm", false, false, 1, 6, 5, 4}:        {2, 2 * 2 * 6 * 5 * 4},
		{"Gemm", true, false, 1, 4, 5, 4}:         {1, 2 * 4 * 5 * 4},
		{"GemmStrided", false, false, 2, 3, 5, 4}: {1, 2 * 2 * 3 * 5 * 4},
	} {
		if s := shapes[sh]; s.Calls != want[0] || s.Flops != want[1] || s.Time <= 0 {
			t.Errorf("%+v: %+v, want %d calls, %d flops", sh, s, want[0], want[1])
		}
	}
	if len(shapes) != 3 {
		t.Errorf("%d shapes counted, want 3: %+v", len(shapes), shapes)
	}
	// Packing: counted inside the products of the blocked kernels (the generic Go
	// product packs nothing), from zero at each start.
	if k := activeGemmKernels(); k != nil && ProfilePacking() <= 0 {
		t.Errorf("%s: no packing time counted", k.isa)
	}
	StartProfile()
	if d := ProfilePacking(); d != 0 {
		t.Errorf("packing time %v after StartProfile, want 0", d)
	}
	StopProfile()
}

// TestSmallBlocks runs the Gemm and grid-gated variant tests with the smallest
// blocking every micro-kernel allows (kc 16, mc one of each tile height, nc one
// micro-panel), so that their block edges are crossed on small shapes whatever blocking
// this CPU's caches give.
func TestSmallBlocks(t *testing.T) {
	if testing.Short() {
		// The block edges are the driver's (gemm_blocked.go, the same for every ISA);
		// the full run covers them. Under qemu and the race detector this takes minutes.
		t.Skip("runs every variant test again: skipped with -short")
	}
	saved := make([]blocking, len(registeredGemmKernels))
	for i, k := range registeredGemmKernels {
		saved[i] = k.blocking
		k.blocking = blocking{kc: 16, mc: lcm(k.mr, k.gradMR), nc: k.nr}
	}
	defer func() {
		for i, k := range registeredGemmKernels {
			k.blocking = saved[i]
		}
	}()
	t.Run("Gemm", TestGemmVariants)
	t.Run("GridGated", TestGridGatedVariants)
	t.Run("Strided", TestGemmStrided)
	t.Run("StridedSerial", TestGemmStridedSerial)
}

// deriveBlocking on the caches of CPUs seen in the field, and its invariants.
func TestDeriveBlocking(t *testing.T) {
	const kib, mib = 1 << 10, 1 << 20
	for _, tc := range []struct {
		name           string
		c              caches
		mr, nr, gradMR int
		want           blocking
	}{
		{"Sapphire Rapids AVX-512", caches{48 * kib, 2 * mib, 2 * mib}, 12, 32, 8, blocking{256, 240, 1024}},
		{"Sapphire Rapids AVX2", caches{48 * kib, 2 * mib, 2 * mib}, 6, 16, 4, blocking{384, 168, 672}},
		{"Zen 4 AVX-512", caches{32 * kib, 1 * mib, 4 * mib}, 12, 32, 8, blocking{160, 192, 3264}},
		{"Zen 5 AVX-512", caches{48 * kib, 1 * mib, 4 * mib}, 12, 32, 8, blocking{256, 120, 2048}},
		{"Neoverse V1 NEON", caches{64 * kib, 1 * mib, 1 * mib}, 8, 12, 8, blocking{384, 80, 336}},
		{"nothing reported", caches{}, 12, 32, 8, blocking{160, 192, 1632}},
		{"a VM reporting a huge L3", caches{48 * kib, 2 * mib, 150 * mib}, 12, 32, 8, blocking{256, 240, 4096}},
	} {
		got := deriveBlocking(tc.c, tc.mr, tc.nr, tc.gradMR)
		if got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if got.kc%16 != 0 || got.mc%tc.mr != 0 || got.mc%tc.gradMR != 0 || got.nc%tc.nr != 0 {
			t.Errorf("%s: %v is not a multiple of the steps (16, %d and %d, %d)", tc.name, got, tc.mr, tc.gradMR, tc.nr)
		}
	}
}

// TestGemvRowMatchesBlocked checks that rows of C computed without packing (one row:
// gemvRow, a decoding step must give the full pass's numbers; fewer rows than the
// smallest tile: fewRows, row by row) equal the blocked path's bit for bit, for every
// ISA's kernels, with and without alpha, beta and transposes, on one and two threads.
func TestGemvRowMatchesBlocked(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	ns, kks := []int{1, 5, 16, 33, 64, 128, 300, 40, 7, 2}, []int{1, 7, 64, 256, 257, 600}
	if testing.Short() { // CI's emulated arm64 pass: one of each kind
		ns, kks = []int{1, 33, 64, 300, 7}, []int{7, 257}
	}
	for _, k := range registeredGemmKernels {
		if !supported(k.isa) {
			continue
		}
		for _, m := range []int{1, 2, k.gradMR - 1, k.gradMR} {
			mns, mkks := append(ns, k.gemvWidth, 2*k.gemvWidth), kks
			if m > 1 { // whole strips (fewRows' products) and a few others (the blocked path's)
				mns, mkks = []int{k.gemvWidth, 2 * k.gemvWidth, 33, 7}, kks[len(kks)-2:]
			}
			for _, n := range mns {
				for _, kk := range mkks {
					for _, trans := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
						transA, transB := trans[0], trans[1]
						alphas, betas := []float32{1, 0.5, -1.25}, []float32{0, 1, 0.3}
						if m > 1 { // the one-row path's handling of them is checked at m = 1
							alphas, betas = alphas[1:], []float32{0, 0.3}
						}
						for _, alpha := range alphas {
							for _, beta := range betas {
								lda, ldb, ldc := kk+3, n+1, n+2
								if transA {
									lda = m + 1
								}
								if transB {
									ldb = kk + 2
								}
								a := randSlice(rng, max(m, kk)*lda+kk)
								b := randSlice(rng, max(kk, n)*ldb)
								c0 := randSlice(rng, m*ldc)
								got, want := append([]float32(nil), c0...), append([]float32(nil), c0...)
								threads := 1 + len(got)%2
								prev := SetThreads(threads)
								k.gemmOn(threads, transA, transB, m, n, kk, alpha, a, lda, b, ldb, beta, got, ldc)
								SetThreads(prev)
								scaleC(m, n, beta, want, ldc)
								k.gemmSerial(transA, transB, 0, m, 0, n, kk, alpha, a, lda, []segment{{n: n, b: b, ldb: ldb, c: want, ldc: ldc, overwrite: beta == 0}}, nil)
								for j := range want {
									if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
										t.Fatalf("%s m=%d n=%d k=%d transA=%v transB=%v alpha=%v beta=%v threads=%d: c[%d] = %v, the blocked path gives %v",
											k.isa, m, n, kk, transA, transB, alpha, beta, threads, j, got[j], want[j])
									}
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestFewRowsTakesItsProducts checks that fewRows runs the products it is for, and
// only those, so that TestGemvRowMatchesBlocked's rows do go through it.
func TestFewRowsTakesItsProducts(t *testing.T) {
	for _, k := range registeredGemmKernels {
		if !supported(k.isa) || k.gemvWidth == 0 {
			continue
		}
		w := k.gemvWidth
		for _, c := range []struct {
			m, n, kk, workers int
			transB            bool
			want              bool
		}{
			{2, 2 * w, 64, 1, false, true},
			{k.gradMR - 1, w, 64, 1, false, true},
			{k.gradMR - 1, w, 64, 2, false, true}, // too small to split
			{1, w, 64, 1, false, false},           // the one-row path's
			{k.gradMR, w, 64, 1, false, false},    // a whole tile
			{3, w, 64, 1, true, false},            // B transposed
			{3, w + 1, 64, 1, false, false},       // not whole strips
			{3, 4 * w, 4096, 2, false, false},     // big enough to split over the threads
		} {
			if c.want && (c.m < 2 || c.m >= k.gradMR) {
				continue // this ISA's smallest tile leaves no room for the case
			}
			ldb := c.n
			if c.transB {
				ldb = c.kk
			}
			a, b, cm := make([]float32, c.m*c.kk), make([]float32, c.kk*c.n), make([]float32, c.m*c.n)
			segs := []segment{{n: c.n, b: b, ldb: ldb, c: cm, ldc: c.n, overwrite: true}}
			if got := k.fewRows(c.workers, false, c.transB, c.m, c.n, c.kk, 1, a, c.kk, segs); got != c.want {
				t.Errorf("%s: fewRows took m=%d n=%d k=%d workers=%d transB=%v: %v, want %v", k.isa, c.m, c.n, c.kk, c.workers, c.transB, got, c.want)
			}
		}
	}
}

// TestGatedRowsMatchesBlocked checks that a grid-gated product of one row per example
// (a decoding step), run against the unpacked weight, equals the blocked path's bit for
// bit, for every ISA's kernels: grid rows inside and across k blocks, one or several
// strips of columns, beta 0 and not, 1 and 2 threads.
func TestGatedRowsMatchesBlocked(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	defer func(v int) { gatedRowsGates = v }(gatedRowsGates)
	type shape struct{ batch, kk, gr, strips, gc int }
	shapes := []shape{
		{1, 4, 1, 1, 1}, {3, 64, 64, 1, 4}, {5, 300, 3, 2, 2}, {2, 600, 6, 3, 3}, {4, 1024, 32, 1, 8}, {2, 257, 1, 2, 1},
	}
	if testing.Short() { // CI's emulated arm64 pass
		shapes = []shape{{3, 300, 3, 2, 2}, {2, 64, 64, 1, 4}}
	}
	for _, k := range registeredGemmKernels {
		if !supported(k.isa) {
			continue
		}
		for _, s := range shapes {
			n := s.strips * k.gemvWidth
			for _, threads := range []int{1, 2} {
				// With a tiny bound on the expanded gates, the examples go one at a time.
				for _, beta := range []float32{0, 1, 0.3} {
					gatedRowsGates = 1 << 18
					if beta == 1 {
						gatedRowsGates = 1
					}
					lda, ldb, ldc := s.kk+3, n+5, n+2
					a := randSlice(rng, s.batch*lda)
					b := randSlice(rng, s.kk*ldb)
					g := randSlice(rng, s.batch*s.gr*s.gc)
					c0 := randSlice(rng, s.batch*ldc)
					got, want := append([]float32(nil), c0...), append([]float32(nil), c0...)
					prev := SetThreads(threads)
					scaleC(s.batch, n, beta, got, ldc)
					if !k.gatedRows(s.batch, s.kk, n, s.gr, s.gc, a, lda, b, ldb, g, got, ldc, beta == 0) {
						t.Fatalf("%s %+v: the one-row path declined %d columns", k.isa, s, n)
					}
					scaleC(s.batch, n, beta, want, ldc)
					packed := make([]float32, s.kk*roundUp(n, k.nr))
					k.packWhole(threads, packed, b, ldb, false, s.kk, n)
					k.gridGatedBlocked(threads, s.batch, 1, s.kk, n, s.gr, s.gc, a, lda, packed, g, want, ldc, beta == 0)
					SetThreads(prev)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s %+v threads=%d beta=%v: c[%d] = %v, the blocked path gives %v",
								k.isa, s, threads, beta, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestExpandRuns checks every ISA's expandRuns against the plain loop: run lengths
// around each vector width, and nothing written past the runs.
func TestExpandRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, k := range registeredGemmKernels {
		if !supported(k.isa) {
			continue
		}
		for _, bw := range []int{1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 40} {
			for _, count := range []int{0, 1, 3, 32} {
				src := randSlice(rng, count)
				got := randSlice(rng, count*bw+5)
				want := append([]float32(nil), got...)
				for j, v := range src {
					for q := range bw {
						want[j*bw+q] = v
					}
				}
				if count > 0 {
					k.expandRuns(count, &got[0], &src[0], bw)
				}
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s count=%d bw=%d: dst[%d] = %v, want %v", k.isa, count, bw, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestGridGatedMatchesMaterialised checks the fused forward and input-gradient products
// of every ISA's kernels against the plain blocked product on the materialised gated
// weight W ⊙ φ(G_e), bit for bit: the gate is folded into the packed weight with the
// same rounding and the products run the same chains, whatever the tiling or threads.
func TestGridGatedMatchesMaterialised(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	bitEqual := func(name string, got, want []float32) {
		t.Helper()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: element %d = %v, the plain product on the gated weight gives %v", name, i, got[i], want[i])
			}
		}
	}
	eachKernelGateCase(rng, func(k *gemmKernels, threads int, tc gateCase, o gateOperands) {
		a, b, g, dc, lda, ldb, ldc := o.a, o.b, o.g, o.dc, o.lda, o.ldb, o.ldc
		c0, da0 := randSlice(rng, tc.batch*tc.rows*ldc), randSlice(rng, tc.batch*tc.rows*lda)
		for _, beta := range []float32{0, 0.5} {
			name := fmt.Sprintf("%s threads=%d %+v beta=%v", k.isa, threads, tc, beta)
			got, want := append([]float32(nil), c0...), append([]float32(nil), c0...)
			gotDA, wantDA := append([]float32(nil), da0...), append([]float32(nil), da0...)
			k.gridGated(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, a, lda, b, ldb, g, beta, got, ldc)
			k.gridGatedGradA(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, dc, ldc, b, ldb, g, beta, gotDA, lda)
			for e := 0; e < tc.batch; e++ {
				w := gatedWeight(tc.k, tc.n, tc.gr, tc.gc, b, ldb, g[e*tc.gr*tc.gc:])
				r := e * tc.rows
				k.gemmOn(1, false, false, tc.rows, tc.n, tc.k, 1, a[r*lda:], lda, w, tc.n, beta, want[r*ldc:], ldc)
				k.gemmOn(1, false, true, tc.rows, tc.k, tc.n, 1, dc[r*ldc:], ldc, w, tc.n, beta, wantDA[r*lda:], lda)
			}
			bitEqual(name+" forward", got, want)
			bitEqual(name+" dA", gotDA, wantDA)
		}
	})
}

// gateOperands are random operands of one gate case (A, B, the gates, dC), stored with
// leading dimensions wider than the matrices.
type gateOperands struct {
	lda, ldb, ldc int
	a, b, g, dc   []float32
}

// eachKernelGateCase runs f for every supported ISA's kernels, at 1 and 2 threads, on
// every non-empty gate case, with fresh operands from rng.
func eachKernelGateCase(rng *rand.Rand, f func(k *gemmKernels, threads int, tc gateCase, o gateOperands)) {
	for _, k := range registeredGemmKernels {
		if !supported(k.isa) {
			continue
		}
		for _, threads := range []int{1, 2} {
			func() {
				defer SetThreads(SetThreads(threads)) // also when f stops the test
				for _, tc := range gateCases {
					if tc.batch == 0 || tc.rows == 0 {
						continue
					}
					o := gateOperands{lda: tc.k + 1, ldb: tc.n + 2, ldc: tc.n + 3}
					o.a, o.b = randSlice(rng, tc.batch*tc.rows*o.lda), randSlice(rng, tc.k*o.ldb)
					o.g, o.dc = randSlice(rng, tc.batch*tc.gr*tc.gc), randSlice(rng, tc.batch*tc.rows*o.ldc)
					f(k, threads, tc, o)
				}
			}()
		}
	}
}

// TestGradBGExampleOrderSameBits checks that the weight and gate gradients with the
// examples inside each block of dB equal those with the blocks inside each example, bit
// for bit, for every ISA's kernels at 1 and 2 threads.
func TestGradBGExampleOrderSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	defer func(v int) { gradBGPackAll = v }(gradBGPackAll)
	eachKernelGateCase(rng, func(k *gemmKernels, threads int, tc gateCase, o gateOperands) {
		db0, dg0 := randSlice(rng, tc.k*o.ldb), randSlice(rng, len(o.g))
		var dbs, dgs [2][]float32
		for i, packAll := range []int{0, 1 << 20} {
			gradBGPackAll = packAll
			dbs[i], dgs[i] = append([]float32(nil), db0...), append([]float32(nil), dg0...)
			k.gridGatedGradBG(tc.batch, tc.rows, tc.k, tc.n, tc.gr, tc.gc, o.a, o.lda, o.dc, o.ldc, o.b, o.ldb, o.g, dbs[i], o.ldb, dgs[i])
		}
		for _, pair := range []struct {
			name       string
			per, other []float32
		}{{"dB", dbs[0], dbs[1]}, {"dG", dgs[0], dgs[1]}} {
			for i := range pair.per {
				if math.Float32bits(pair.per[i]) != math.Float32bits(pair.other[i]) {
					t.Fatalf("%s threads=%d %+v: %s[%d] = %v with the examples inside, %v with them outside",
						k.isa, threads, tc, pair.name, i, pair.other[i], pair.per[i])
				}
			}
		}
	})
}

// TestGemmDirectASameBits checks that the products whose tiles read A in place (the
// direct kernels) equal those reading packed panels of A, bit for bit, for every ISA
// with direct kernels: whole and partial tiles in both dimensions, several k blocks,
// beta 0 and not, leading dimensions wider than A, at 1 and 2 threads; and that the
// driver takes the direct path exactly where it should (alpha 1, A not transposed,
// rows not 4 KiB apart, narrow blocks), so that the comparison is not between two
// packed runs.
func TestGemmDirectASameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	defer func(v bool) { directA = v }(directA)
	defer SetThreads(SetThreads(1))
	for _, k := range registeredGemmKernels {
		if !supported(k.isa) || k.kernelDirect == nil {
			continue
		}
		directA = true
		nc := 4 * k.nr
		if !k.readsADirect(false, 1, 256, nc) || k.readsADirect(true, 1, 256, nc) ||
			k.readsADirect(false, 0.5, 256, nc) || k.readsADirect(false, 1, 1024, nc) ||
			k.readsADirect(false, 1, 256, (maxDirectPanels+1)*k.nr) {
			t.Fatalf("%s: readsADirect picks the wrong products", k.isa)
		}
		for _, s := range []struct{ m, n, kk, lda int }{
			{k.mr, k.nr, 7, 7}, {5, 40, 33, 40}, {3*k.mr + 5, 2*k.nr + 3, k.kc + 17, k.kc + 20},
			{128, 64, 128, 256}, {2*k.mc + 7, 3 * k.nr, 2*k.kc + 1, 2*k.kc + 1}, {k.mr + 1, 1, 3, 3},
			{3*k.mr + 1, maxDirectPanels*k.nr - 5, k.kc + 9, k.kc + 9}, // as wide as A is read in place
		} {
			for _, beta := range []float32{0, 1, 0.3} {
				for _, threads := range []int{1, 2} {
					SetThreads(threads)
					a := randSlice(rng, s.m*s.lda)
					b := randSlice(rng, s.kk*s.n)
					c0 := randSlice(rng, s.m*s.n)
					var out [2][]float32
					for i, direct := range []bool{true, false} {
						directA = direct
						out[i] = append([]float32(nil), c0...)
						k.gemm(false, false, s.m, s.n, s.kk, 1, a, s.lda, b, s.n, beta, out[i], s.n)
					}
					for j := range out[0] {
						if math.Float32bits(out[0][j]) != math.Float32bits(out[1][j]) {
							t.Fatalf("%s %+v beta=%v threads=%d: c[%d] = %v with A in place, %v with A packed",
								k.isa, s, beta, threads, j, out[0][j], out[1][j])
						}
					}
				}
			}
		}
	}
}

// TestBandsAndBlockRows checks how the driver cuts rows: blockRows makes no more blocks
// than mc requires, none taller than mc and the last not much shorter than the others,
// and bands covers a block exactly, with a partial tile only where no mix of the two
// tile heights fits the block.
func TestBandsAndBlockRows(t *testing.T) {
	for _, k := range registeredGemmKernels {
		for rows := 1; rows <= 5000; rows++ {
			h := k.blockRows(rows)
			blocks := (rows + h - 1) / h
			last := rows - (blocks-1)*h
			if h < 1 || h > k.mc || blocks != (rows+k.mc-1)/k.mc || last < rows/blocks-(blocks-1)*k.gradMR {
				t.Fatalf("%s: blockRows(%d) = %d with mc %d (last block %d rows)", k.isa, rows, h, k.mc, last)
			}
		}
		for mc := 1; mc <= k.mc; mc++ {
			bs, n := k.bands(mc)
			covered, partial := 0, false
			for _, b := range bs[:n] {
				if b.off != covered {
					t.Fatalf("%s: bands(%d) = %+v leaves a gap", k.isa, mc, bs[:n])
				}
				covered += b.rows
				partial = partial || b.rows%b.t.mr != 0
			}
			fits := false // mc = a·mr + b·gradMR for some a, b ≥ 0
			for a := 0; a*k.mr <= mc; a++ {
				fits = fits || (mc-a*k.mr)%k.gradMR == 0
			}
			if covered != mc || partial == fits {
				t.Errorf("%s: bands(%d) = %+v (partial tile %v, the heights %d and %d fit: %v)", k.isa, mc, bs[:n], partial, k.mr, k.gradMR, fits)
			}
		}
	}
}

// DirectLD keeps every width that spreads over the L1 sets (and narrow ones) and pads
// the rest just enough that the main tiles read A in place, for every ISA's tile
// height.
func TestDirectLD(t *testing.T) {
	for _, c := range []struct{ cols, want int }{
		{1, 1}, {48, 48}, {64, 64}, {100, 100}, {256, 256}, {300, 300}, {512, 528}, {1024, 1040}, {2048, 2064}, {4096, 4112}, {1000, 1000},
	} {
		got := DirectLD(c.cols)
		if got != c.want {
			t.Errorf("DirectLD(%d) = %d, want %d", c.cols, got, c.want)
		}
		for _, k := range registeredGemmKernels {
			if c.cols >= 64 && rowsPerL1Set(got, k.mr) > maxRowsPerL1Set {
				t.Errorf("DirectLD(%d) = %d crowds an L1 set with %s's %d-row tiles", c.cols, got, k.isa, k.mr)
			}
		}
	}
}
