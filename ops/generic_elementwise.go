package ops

import "math"

// This file holds the generic implementation of every elementwise, row and reduction
// kernel: the plainest loop that computes what the operation's doc comment says. They are
// the fallback on every CPU and the oracle that every SIMD variant is tested against.

func axpyGeneric(alpha float32, x, y []float32) {
	for i := range x {
		y[i] += alpha * x[i]
	}
}

func scaleGeneric(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

func addGeneric(dst, a, b []float32) {
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func mulGeneric(dst, a, b []float32) {
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

func mulAddGeneric(dst, a, b []float32) {
	for i := range dst {
		dst[i] += a[i] * b[i]
	}
}

func addMulGeneric(dst, x, a, b []float32) {
	for i := range dst {
		dst[i] = x[i] + float32(a[i]*b[i]) // the conversion rounds the product: no fused multiply-add
	}
}

func dotGeneric(x, y []float32) float32 {
	var s float32
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

func sumGeneric(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v
	}
	return s
}

func maxGeneric(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}

func expGeneric(dst, x []float32) {
	for i := range dst {
		dst[i] = float32(math.Exp(float64(x[i])))
	}
}

func sigmoidGeneric(dst, x []float32) {
	for i := range dst {
		dst[i] = float32(1 / (1 + math.Exp(-float64(x[i]))))
	}
}

func sigmoidBackwardGeneric(dx, y, dy []float32) {
	for i := range dx {
		dx[i] = dy[i] * y[i] * (1 - y[i])
	}
}

const (
	geluC0 = 0.7978845608028654 // sqrt(2/pi)
	geluC1 = 0.044715
)

func geluGeneric(dst, x []float32) {
	for i := range dst {
		gelu, _ := gelu64(float64(x[i]))
		dst[i] = float32(gelu)
	}
}

func geluBackwardGeneric(dx, x, dy []float32) {
	for i := range dx {
		_, d := gelu64(float64(x[i]))
		dx[i] = dy[i] * float32(d)
	}
}

// gelu64 is GELU's tanh form in float64, and its derivative.
func gelu64(v float64) (gelu, deriv float64) {
	t := math.Tanh(geluC0 * (v + geluC1*v*v*v))
	return 0.5 * v * (1 + t), 0.5*(1+t) + 0.5*v*(1-t*t)*geluC0*(1+3*geluC1*v*v)
}

// gatedGeluGeneric rounds GELU(a) to float32 before the product, as GELU then Mul does.
func gatedGeluGeneric(dst, a, b []float32) {
	for i := range dst {
		gelu, _ := gelu64(float64(a[i]))
		dst[i] = float32(gelu) * b[i]
	}
}

// gatedGeluBackwardGeneric gives the values of Mul(gb, g, b), GELUBackward(da, a, gb),
// GELU(t, a) and Mul(db, g, t).
func gatedGeluBackwardGeneric(da, db, g, a, b []float32) {
	for i := range da {
		gelu, d := gelu64(float64(a[i]))
		gb := g[i] * b[i]
		da[i] = gb * float32(d)
		db[i] = g[i] * float32(gelu)
	}
}

func reluGeneric(dst, x []float32) {
	for i := range dst {
		if x[i] > 0 {
			dst[i] = x[i]
		} else {
			dst[i] = 0
		}
	}
}

func reluBackwardGeneric(dx, x, dy []float32) {
	for i := range dx {
		if x[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

func siluGeneric(dst, x []float32) {
	for i := range dst {
		v := float64(x[i])
		dst[i] = float32(v / (1 + math.Exp(-v)))
	}
}

func siluBackwardGeneric(dx, x, dy []float32) {
	for i := range dx {
		v := float64(x[i])
		s := 1 / (1 + math.Exp(-v))
		dx[i] = dy[i] * float32(s*(1+v*(1-s)))
	}
}

func softmaxRowsGeneric(dst, x []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		xr, dr := x[r*cols:(r+1)*cols], dst[r*cols:(r+1)*cols]
		m := float32(math.Inf(-1))
		for _, v := range xr {
			if v > m {
				m = v
			}
		}
		var s float64
		for i, v := range xr {
			e := math.Exp(float64(v - m))
			dr[i] = float32(e)
			s += e
		}
		inv := float32(1 / s)
		for i := range dr {
			dr[i] *= inv
		}
	}
}

func softmaxRowsBiasGeneric(dst, x, bias []float32, rows, cols int) {
	for i := range rows * cols {
		dst[i] = x[i] + bias[i]
	}
	softmaxRowsGeneric(dst, dst, rows, cols)
}

func softmaxRowsBackwardGeneric(dx, y, dy []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		yr, dyr, dxr := y[r*cols:(r+1)*cols], dy[r*cols:(r+1)*cols], dx[r*cols:(r+1)*cols]
		var s float32
		for i := range yr {
			s += yr[i] * dyr[i]
		}
		for i := range yr {
			dxr[i] = yr[i] * (dyr[i] - s)
		}
	}
}

func rmsNormRowsGeneric(dst, x, w []float32, rows, cols int, eps float32, invRMS []float32) {
	for r := 0; r < rows; r++ {
		xr, dr := x[r*cols:(r+1)*cols], dst[r*cols:(r+1)*cols]
		var ss float32
		for _, v := range xr {
			ss += v * v
		}
		inv := float32(1 / math.Sqrt(float64(ss/float32(cols)+eps)))
		invRMS[r] = inv
		for i, v := range xr {
			dr[i] = v * inv * w[i]
		}
	}
}

func rmsNormRowsBackwardGeneric(dx, dw, x, w, invRMS, dy []float32, rows, cols int) {
	rmsNormRowsBackwardRows(dx, dw, x, w, invRMS, dy, rows, cols, false)
}

func rmsNormRowsBackwardAddGeneric(dx, dw, x, w, invRMS, dy []float32, rows, cols int) {
	rmsNormRowsBackwardRows(dx, dw, x, w, invRMS, dy, rows, cols, true)
}

// rmsNormRowsBackwardRows overwrites dx with the gradient of x, or adds it (the value
// rounded first, as a separate Add would).
func rmsNormRowsBackwardRows(dx, dw, x, w, invRMS, dy []float32, rows, cols int, add bool) {
	for r := 0; r < rows; r++ {
		xr, dyr, dxr := x[r*cols:(r+1)*cols], dy[r*cols:(r+1)*cols], dx[r*cols:(r+1)*cols]
		inv := invRMS[r]
		// y_i = w_i x_i inv;  dx_j = inv (w_j dy_j) - inv^3 x_j (Σ_i w_i dy_i x_i) / cols
		var s float32
		for i := range xr {
			s += w[i] * dyr[i] * xr[i]
			dw[i] += dyr[i] * xr[i] * inv
		}
		c := inv * inv * inv * s / float32(cols)
		for i := range xr {
			v := float32(inv*w[i]*dyr[i] - c*xr[i])
			if add {
				v += dxr[i]
			}
			dxr[i] = v
		}
	}
}

func layerNormRowsGeneric(dst, x, w, b []float32, rows, cols int, eps float32, mean, rstd []float32) {
	for r := 0; r < rows; r++ {
		xr, dr := x[r*cols:(r+1)*cols], dst[r*cols:(r+1)*cols]
		var s float32
		for _, v := range xr {
			s += v
		}
		mu := s / float32(cols)
		var ss float32
		for _, v := range xr {
			ss += (v - mu) * (v - mu)
		}
		rs := float32(1 / math.Sqrt(float64(ss/float32(cols)+eps)))
		mean[r], rstd[r] = mu, rs
		for i, v := range xr {
			dr[i] = (v-mu)*rs*w[i] + b[i]
		}
	}
}

func layerNormRowsBackwardGeneric(dx, dw, db, x, w, mean, rstd, dy []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		xr, dyr, dxr := x[r*cols:(r+1)*cols], dy[r*cols:(r+1)*cols], dx[r*cols:(r+1)*cols]
		mu, rs := mean[r], rstd[r]
		// xhat = (x-mu) rs; g = w dy; dx = rs (g - mean(g) - xhat mean(g xhat))
		var sg, sgx float32
		for i := range xr {
			xh := (xr[i] - mu) * rs
			g := w[i] * dyr[i]
			sg += g
			sgx += g * xh
			dw[i] += dyr[i] * xh
			db[i] += dyr[i]
		}
		n := float32(cols)
		for i := range xr {
			xh := (xr[i] - mu) * rs
			dxr[i] = rs * (w[i]*dyr[i] - sg/n - xh*sgx/n)
		}
	}
}

// adamwFlush is the magnitude below which AdamW's moments are taken as 0, so that the
// moments of parameters left without a gradient, which decay by b1 and b2 a step, never
// turn subnormal (m·0.9 per step falls below 1e−37 after some 800 steps), nor do their
// products with the step size: a subnormal costs a microcode assist per vector on x86.
// A moment of 1e−28 moves a weight by less than step·1e−28/eps, far below its float32
// resolution. The SIMD kernels flush alike (the generator's adamwFlush).
const adamwFlush = 1e-28

// adamwFlushBits is adamwFlush's bits: a float32 of smaller magnitude has smaller bits.
var adamwFlushBits = math.Float32bits(adamwFlush)

// adamwGeneric is AdamWUpdate's plain loop. The conversions round each product on its
// own: Go may otherwise fuse a product into the following sum where the CPU has FMA
// (arm64), which the SIMD variants do not.
func adamwGeneric(w, g, m, v []float32, b1, gb1, b2, gb2, decay, step, invSC2, eps, gs float32) {
	for j := range w {
		gj := float32(g[j] * gs)
		mj := float32(b1*m[j]) + float32(gb1*gj)
		vj := float32(b2*v[j]) + float32(float32(gb2*gj)*gj)
		// Moments that have decayed below adamwFlush are 0 (see adamwFlush); comparing
		// the magnitudes' bits keeps NaN and costs no floating-point comparison.
		if math.Float32bits(mj)&0x7fffffff < adamwFlushBits {
			mj = 0
		}
		if math.Float32bits(vj)&0x7fffffff < adamwFlushBits {
			vj = 0
		}
		m[j], v[j] = mj, vj
		den := float32(float32(math.Sqrt(float64(vj)))*invSC2) + eps
		w[j] = float32(w[j]*decay) - float32(step*mj)/den
	}
}
