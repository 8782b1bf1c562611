package ops

// gemmGeneric computes C = alpha·op(A)·op(B) + beta·C with the plainest loops, where
// op(X) is X or Xᵀ. op(A) is m×k, op(B) is k×n, C is m×n. When beta is 0, C is not read
// (so NaNs in it do not propagate), as in BLAS.
func gemmGeneric(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// gridGatedGemmGeneric computes, for each example e < batch, C_e = A_e·(B ⊙ φ(G_e)) + beta·C_e
// where A_e is rows r = e·rows … e·rows+rows-1 of A (rows×k), B is k×n, G_e is the e-th
// gr×gc grid in g and φ(G_e)[p][q] = G_e[p/(k/gr)][q/(n/gc)].
func gridGatedGemmGeneric(batch, rows, k, n, gr, gc int, a []float32, lda int, b []float32, ldb int, g []float32, beta float32, c []float32, ldc int) {
	bh, bw := k/gr, n/gc
	for e := 0; e < batch; e++ {
		ge := g[e*gr*gc:]
		for t := 0; t < rows; t++ {
			r := e*rows + t
			for q := 0; q < n; q++ {
				var s float32
				for p := 0; p < k; p++ {
					s += a[r*lda+p] * b[p*ldb+q] * ge[(p/bh)*gc+q/bw]
				}
				if beta == 0 {
					c[r*ldc+q] = s
				} else {
					c[r*ldc+q] = s + beta*c[r*ldc+q]
				}
			}
		}
	}
}

// gridGatedGemmGradAGeneric computes, for each example e, dA_e = dC_e·(B ⊙ φ(G_e))ᵀ + beta·dA_e.
// dC_e is rows×n, dA_e is rows×k.
func gridGatedGemmGradAGeneric(batch, rows, k, n, gr, gc int, dc []float32, lddc int, b []float32, ldb int, g []float32, beta float32, da []float32, ldda int) {
	bh, bw := k/gr, n/gc
	for e := 0; e < batch; e++ {
		ge := g[e*gr*gc:]
		for t := 0; t < rows; t++ {
			r := e*rows + t
			for p := 0; p < k; p++ {
				var s float32
				for q := 0; q < n; q++ {
					s += dc[r*lddc+q] * b[p*ldb+q] * ge[(p/bh)*gc+q/bw]
				}
				if beta == 0 {
					da[r*ldda+p] = s
				} else {
					da[r*ldda+p] = s + beta*da[r*ldda+p]
				}
			}
		}
	}
}

// gridGatedGemmGradBGGeneric accumulates dB += Σ_e (A_eᵀ·dC_e) ⊙ φ(G_e) and
// dG_e[i][j] += Σ over block (i,j) of (A_eᵀ·dC_e) ⊙ B. A nil db or dg is skipped.
func gridGatedGemmGradBGGeneric(batch, rows, k, n, gr, gc int, a []float32, lda int, dc []float32, lddc int, b []float32, ldb int, g []float32, db []float32, lddb int, dg []float32) {
	bh, bw := k/gr, n/gc
	for e := 0; e < batch; e++ {
		ge := g[e*gr*gc:]
		for p := 0; p < k; p++ {
			for q := 0; q < n; q++ {
				var s float32
				for t := 0; t < rows; t++ {
					r := e*rows + t
					s += a[r*lda+p] * dc[r*lddc+q]
				}
				cell := (p/bh)*gc + q/bw
				if db != nil {
					db[p*lddb+q] += s * ge[cell]
				}
				if dg != nil {
					dg[e*gr*gc+cell] += s * b[p*ldb+q]
				}
			}
		}
	}
}
