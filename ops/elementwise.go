package ops

import (
	"sync"
	"time"
)

// Dispatch entries of the vector and row kernels. Generated per-architecture files add
// their SIMD variants to these.
var (
	adamwOp                  = newOp("adamw", adamwGeneric)
	axpyOp                   = newOp("axpy", axpyGeneric)
	scaleOp                  = newOp("scale", scaleGeneric)
	addOp                    = newOp("add", addGeneric)
	mulOp                    = newOp("mul", mulGeneric)
	mulAddOp                 = newOp("muladd", mulAddGeneric)
	addMulOp                 = newOp("add_mul", addMulGeneric)
	dotOp                    = newOp("dot", dotGeneric)
	sumOp                    = newOp("sum", sumGeneric)
	maxOp                    = newOp("max", maxGeneric)
	expOp                    = newOp("exp", expGeneric)
	sigmoidOp                = newOp("sigmoid", sigmoidGeneric)
	sigmoidBackwardOp        = newOp("sigmoid_backward", sigmoidBackwardGeneric)
	geluOp                   = newOp("gelu", geluGeneric)
	geluBackwardOp           = newOp("gelu_backward", geluBackwardGeneric)
	gatedGeluOp              = newOp("gated_gelu", gatedGeluGeneric)
	gatedGeluBackwardOp      = newOp("gated_gelu_backward", gatedGeluBackwardGeneric)
	reluOp                   = newOp("relu", reluGeneric)
	reluBackwardOp           = newOp("relu_backward", reluBackwardGeneric)
	siluOp                   = newOp("silu", siluGeneric)
	siluBackwardOp           = newOp("silu_backward", siluBackwardGeneric)
	softmaxRowsOp            = newOp("softmax_rows", softmaxRowsGeneric)
	softmaxRowsBiasOp        = newOp("softmax_rows_bias", softmaxRowsBiasGeneric)
	softmaxRowsBackwardOp    = newOp("softmax_rows_backward", softmaxRowsBackwardGeneric)
	rmsNormRowsOp            = newOp("rmsnorm_rows", rmsNormRowsGeneric)
	rmsNormRowsBackwardOp    = newOp("rmsnorm_rows_backward", rmsNormRowsBackwardGeneric)
	rmsNormRowsBackwardAddOp = newOp("rmsnorm_rows_backward_add", rmsNormRowsBackwardAddGeneric)
	layerNormRowsOp          = newOp("layernorm_rows", layerNormRowsGeneric)
	layerNormRowsBackOp      = newOp("layernorm_rows_backward", layerNormRowsBackwardGeneric)
)

// parallelMinValues is the size from which the vector and row kernels split their
// work over the threads: below it, the parts would cost more to start than they save.
const parallelMinValues = 1 << 16

// bigVector reports whether a kernel over n values splits its work.
func bigVector(n int) bool { return n >= parallelMinValues && Threads() > 1 }

// splitVector runs f over [0, n) in ranges of whole 64-value blocks, side by side.
// Each value is computed as on one goroutine: the results are the same bit for bit.
func splitVector(n int, f func(lo, hi int)) {
	const block = 64
	ParallelFor((n+block-1)/block, 8*block, func(_, lo, hi int) { f(lo*block, min(n, hi*block)) })
}

// splitRows runs f over the rows [0, rows) in ranges, side by side. (Both count a
// value as 8 multiply-adds of work for ParallelFor.)
func splitRows(rows, cols int, f func(r0, r1 int)) {
	ParallelFor(rows, 8*cols, func(_, r0, r1 int) { f(r0, r1) })
}

func checkLen(name string, want int, s []float32) {
	if len(s) < want {
		panic("ops: " + name + ": slice shorter than the operation needs")
	}
}

func same(name string, a, b []float32) {
	if len(a) != len(b) {
		panic("ops: " + name + ": slices differ in length")
	}
}

// Axpy computes y[i] += alpha·x[i]. x and y have equal length.
func Axpy(alpha float32, x, y []float32) {
	if profiling.Load() {
		defer profiled("Axpy", time.Now(), 0)
	}
	same("Axpy", x, y)
	if bigVector(len(y)) {
		splitVector(len(y), func(lo, hi int) { axpyOp.use(alpha, x[lo:hi], y[lo:hi]) })
		return
	}
	axpyOp.use(alpha, x, y)
}

// Scale computes x[i] *= alpha.
func Scale(alpha float32, x []float32) {
	if profiling.Load() {
		defer profiled("Scale", time.Now(), 0)
	}
	if bigVector(len(x)) {
		splitVector(len(x), func(lo, hi int) { scaleOp.use(alpha, x[lo:hi]) })
		return
	}
	scaleOp.use(alpha, x)
}

// Add computes dst[i] = a[i] + b[i]. The three have equal length; dst may alias a or b.
func Add(dst, a, b []float32) {
	if profiling.Load() {
		defer profiled("Add", time.Now(), 0)
	}
	same("Add", dst, a)
	same("Add", dst, b)
	if bigVector(len(dst)) {
		splitVector(len(dst), func(lo, hi int) { addOp.use(dst[lo:hi], a[lo:hi], b[lo:hi]) })
		return
	}
	addOp.use(dst, a, b)
}

// Mul computes dst[i] = a[i]·b[i]. The three have equal length; dst may alias a or b.
func Mul(dst, a, b []float32) {
	if profiling.Load() {
		defer profiled("Mul", time.Now(), 0)
	}
	same("Mul", dst, a)
	same("Mul", dst, b)
	if bigVector(len(dst)) {
		splitVector(len(dst), func(lo, hi int) { mulOp.use(dst[lo:hi], a[lo:hi], b[lo:hi]) })
		return
	}
	mulOp.use(dst, a, b)
}

// MulAdd computes dst[i] += a[i]·b[i]. The three have equal length.
func MulAdd(dst, a, b []float32) {
	if profiling.Load() {
		defer profiled("MulAdd", time.Now(), 0)
	}
	same("MulAdd", dst, a)
	same("MulAdd", dst, b)
	if bigVector(len(dst)) {
		splitVector(len(dst), func(lo, hi int) { mulAddOp.use(dst[lo:hi], a[lo:hi], b[lo:hi]) })
		return
	}
	mulAddOp.use(dst, a, b)
}

// AddMul computes dst[i] = x[i] + a[i]·b[i] with the product rounded before the sum
// (never fused into one multiply-add), so that it equals Add(dst, x, c) after Mul(c, a,
// b) bit for bit: a residual connection and a dropout mask in one pass. The four have
// equal length; dst may alias any of them.
func AddMul(dst, x, a, b []float32) {
	if profiling.Load() {
		defer profiled("AddMul", time.Now(), 0)
	}
	same("AddMul", dst, x)
	same("AddMul", dst, a)
	same("AddMul", dst, b)
	if bigVector(len(dst)) {
		splitVector(len(dst), func(lo, hi int) { addMulOp.use(dst[lo:hi], x[lo:hi], a[lo:hi], b[lo:hi]) })
		return
	}
	addMulOp.use(dst, x, a, b)
}

// Dot returns Σ x[i]·y[i]. x and y have equal length.
func Dot(x, y []float32) float32 {
	if profiling.Load() {
		defer profiled("Dot", time.Now(), 0)
	}
	same("Dot", x, y)
	return dotOp.use(x, y)
}

// Sum returns Σ x[i] (0 for an empty slice).
func Sum(x []float32) float32 {
	if profiling.Load() {
		defer profiled("Sum", time.Now(), 0)
	}
	return sumOp.use(x)
}

// Max returns the largest x[i] (-Inf for an empty slice). NaNs are ignored unless
// every element is NaN.
func Max(x []float32) float32 {
	if profiling.Load() {
		defer profiled("Max", time.Now(), 0)
	}
	return maxOp.use(x)
}

// Exp computes dst[i] = e^x[i].
func Exp(dst, x []float32) {
	if profiling.Load() {
		defer profiled("Exp", time.Now(), 0)
	}
	same("Exp", dst, x)
	if bigVector(len(dst)) {
		splitVector(len(dst), func(lo, hi int) { expOp.use(dst[lo:hi], x[lo:hi]) })
		return
	}
	expOp.use(dst, x)
}

// Sigmoid computes dst[i] = 1/(1+e^-x[i]). The SIMD kernels of Sigmoid, GELU, SiLU, the
// gated GELU and their gradients take a sigmoid below the smallest normal float32 (an
// argument beyond ±87.33) as 0, so that no subnormal, which costs x86 a microcode assist
// per vector, reaches their results; the generic code computes it.
func Sigmoid(dst, x []float32) {
	if profiling.Load() {
		defer profiled("Sigmoid", time.Now(), 0)
	}
	same("Sigmoid", dst, x)
	if bigVector(len(dst)) {
		splitVector(len(dst), func(lo, hi int) { sigmoidOp.use(dst[lo:hi], x[lo:hi]) })
		return
	}
	sigmoidOp.use(dst, x)
}

// SigmoidBackward computes dx[i] = dy[i]·y[i]·(1-y[i]) where y = Sigmoid(x).
func SigmoidBackward(dx, y, dy []float32) {
	if profiling.Load() {
		defer profiled("SigmoidBackward", time.Now(), 0)
	}
	same("SigmoidBackward", dx, y)
	same("SigmoidBackward", dx, dy)
	if bigVector(len(dx)) {
		splitVector(len(dx), func(lo, hi int) { sigmoidBackwardOp.use(dx[lo:hi], y[lo:hi], dy[lo:hi]) })
		return
	}
	sigmoidBackwardOp.use(dx, y, dy)
}

// GELU computes the tanh form dst[i] = ½x(1+tanh(√(2/π)(x+0.044715x³))).
func GELU(dst, x []float32) {
	if profiling.Load() {
		defer profiled("GELU", time.Now(), 0)
	}
	same("GELU", dst, x)
	if bigVector(len(dst)) {
		splitVector(len(dst), func(lo, hi int) { geluOp.use(dst[lo:hi], x[lo:hi]) })
		return
	}
	geluOp.use(dst, x)
}

// GELUBackward computes dx[i] = dy[i]·GELU'(x[i]).
func GELUBackward(dx, x, dy []float32) {
	if profiling.Load() {
		defer profiled("GELUBackward", time.Now(), 0)
	}
	same("GELUBackward", dx, x)
	same("GELUBackward", dx, dy)
	if bigVector(len(dx)) {
		splitVector(len(dx), func(lo, hi int) { geluBackwardOp.use(dx[lo:hi], x[lo:hi], dy[lo:hi]) })
		return
	}
	geluBackwardOp.use(dx, x, dy)
}

// GatedGELU computes dst[i] = GELU(a[i])·b[i], the hidden layer of a GEGLU feed-forward
// layer, in one pass: the same values as GELU into a temporary and Mul by b.
func GatedGELU(dst, a, b []float32) {
	if profiling.Load() {
		defer profiled("GatedGELU", time.Now(), 0)
	}
	same("GatedGELU", dst, a)
	same("GatedGELU", dst, b)
	if bigVector(len(dst)) {
		splitVector(len(dst), func(lo, hi int) { gatedGeluOp.use(dst[lo:hi], a[lo:hi], b[lo:hi]) })
		return
	}
	gatedGeluOp.use(dst, a, b)
}

// GatedGELUBackward computes both gradients of GatedGELU from its output's gradient g:
// da[i] = GELU'(a[i])·(g[i]·b[i]) and db[i] = g[i]·GELU(a[i]), in one pass that
// evaluates the sigmoid behind GELU and GELU' once. It overwrites da and db, which may
// be a and b themselves (each value is read before its gradients are written) but must
// not otherwise overlap g, a or b.
func GatedGELUBackward(da, db, g, a, b []float32) {
	if profiling.Load() {
		defer profiled("GatedGELUBackward", time.Now(), 0)
	}
	for _, s := range [][]float32{db, g, a, b} {
		same("GatedGELUBackward", da, s)
	}
	if bigVector(len(da)) {
		splitVector(len(da), func(lo, hi int) {
			gatedGeluBackwardOp.use(da[lo:hi], db[lo:hi], g[lo:hi], a[lo:hi], b[lo:hi])
		})
		return
	}
	gatedGeluBackwardOp.use(da, db, g, a, b)
}

// ReLU computes dst[i] = max(x[i], 0).
func ReLU(dst, x []float32) {
	if profiling.Load() {
		defer profiled("ReLU", time.Now(), 0)
	}
	same("ReLU", dst, x)
	if bigVector(len(dst)) {
		splitVector(len(dst), func(lo, hi int) { reluOp.use(dst[lo:hi], x[lo:hi]) })
		return
	}
	reluOp.use(dst, x)
}

// ReLUBackward computes dx[i] = dy[i] where x[i] > 0, else 0.
func ReLUBackward(dx, x, dy []float32) {
	if profiling.Load() {
		defer profiled("ReLUBackward", time.Now(), 0)
	}
	same("ReLUBackward", dx, x)
	same("ReLUBackward", dx, dy)
	if bigVector(len(dx)) {
		splitVector(len(dx), func(lo, hi int) { reluBackwardOp.use(dx[lo:hi], x[lo:hi], dy[lo:hi]) })
		return
	}
	reluBackwardOp.use(dx, x, dy)
}

// SiLU computes dst[i] = x[i]·sigmoid(x[i]).
func SiLU(dst, x []float32) {
	if profiling.Load() {
		defer profiled("SiLU", time.Now(), 0)
	}
	same("SiLU", dst, x)
	if bigVector(len(dst)) {
		splitVector(len(dst), func(lo, hi int) { siluOp.use(dst[lo:hi], x[lo:hi]) })
		return
	}
	siluOp.use(dst, x)
}

// SiLUBackward computes dx[i] = dy[i]·s(1+x(1-s)) with s = sigmoid(x[i]).
func SiLUBackward(dx, x, dy []float32) {
	if profiling.Load() {
		defer profiled("SiLUBackward", time.Now(), 0)
	}
	same("SiLUBackward", dx, x)
	same("SiLUBackward", dx, dy)
	if bigVector(len(dx)) {
		splitVector(len(dx), func(lo, hi int) { siluBackwardOp.use(dx[lo:hi], x[lo:hi], dy[lo:hi]) })
		return
	}
	siluBackwardOp.use(dx, x, dy)
}

// SoftmaxRows computes, for each of rows rows of cols values, dst = exp(x - max x) / Σ exp(x - max x).
// dst may alias x.
func SoftmaxRows(dst, x []float32, rows, cols int) {
	if profiling.Load() {
		defer profiled("SoftmaxRows", time.Now(), 0)
	}
	checkLen("SoftmaxRows", rows*cols, dst)
	checkLen("SoftmaxRows", rows*cols, x)
	if bigVector(rows * cols) {
		splitRows(rows, cols, func(r0, r1 int) {
			softmaxRowsOp.use(dst[r0*cols:r1*cols], x[r0*cols:r1*cols], r1-r0, cols)
		})
		return
	}
	softmaxRowsOp.use(dst, x, rows, cols)
}

// SoftmaxRowsBias computes the softmax of each row of x + bias into dst (rows×cols
// each): the same bits as Add into a scratch copy followed by SoftmaxRows, in one pass
// less (attention's scores and their position bias). dst may alias x.
func SoftmaxRowsBias(dst, x, bias []float32, rows, cols int) {
	if profiling.Load() {
		defer profiled("SoftmaxRowsBias", time.Now(), 0)
	}
	checkLen("SoftmaxRowsBias", rows*cols, dst)
	checkLen("SoftmaxRowsBias", rows*cols, x)
	checkLen("SoftmaxRowsBias", rows*cols, bias)
	if bigVector(rows * cols) {
		splitRows(rows, cols, func(r0, r1 int) {
			softmaxRowsBiasOp.use(dst[r0*cols:r1*cols], x[r0*cols:r1*cols], bias[r0*cols:r1*cols], r1-r0, cols)
		})
		return
	}
	softmaxRowsBiasOp.use(dst, x, bias, rows, cols)
}

// SoftmaxRowsBackward computes, row by row, dx = y ⊙ (dy - Σ y⊙dy) where y = SoftmaxRows(x).
// dx may alias dy.
func SoftmaxRowsBackward(dx, y, dy []float32, rows, cols int) {
	if profiling.Load() {
		defer profiled("SoftmaxRowsBackward", time.Now(), 0)
	}
	checkLen("SoftmaxRowsBackward", rows*cols, dx)
	checkLen("SoftmaxRowsBackward", rows*cols, y)
	checkLen("SoftmaxRowsBackward", rows*cols, dy)
	if bigVector(rows * cols) {
		splitRows(rows, cols, func(r0, r1 int) {
			softmaxRowsBackwardOp.use(dx[r0*cols:r1*cols], y[r0*cols:r1*cols], dy[r0*cols:r1*cols], r1-r0, cols)
		})
		return
	}
	softmaxRowsBackwardOp.use(dx, y, dy, rows, cols)
}

// RMSNormRows computes, row by row, dst = x ⊙ w / sqrt(mean(x²) + eps) and stores each
// row's 1/sqrt(mean(x²)+eps) in invRMS (length rows) for the backward pass. w has length cols.
func RMSNormRows(dst, x, w []float32, rows, cols int, eps float32, invRMS []float32) {
	if profiling.Load() {
		defer profiled("RMSNormRows", time.Now(), 0)
	}
	checkLen("RMSNormRows", rows*cols, dst)
	checkLen("RMSNormRows", rows*cols, x)
	checkLen("RMSNormRows", cols, w)
	checkLen("RMSNormRows", rows, invRMS)
	if bigVector(rows * cols) {
		splitRows(rows, cols, func(r0, r1 int) {
			rmsNormRowsOp.use(dst[r0*cols:r1*cols], x[r0*cols:r1*cols], w, r1-r0, cols, eps, invRMS[r0:r1])
		})
		return
	}
	rmsNormRowsOp.use(dst, x, w, rows, cols, eps, invRMS)
}

// RMSNormRowsBackward computes dx (overwritten) and accumulates dw (dw += Σ_rows dy⊙x⊙invRMS)
// for y = RMSNormRows(x, w), given dy and the invRMS saved by the forward pass. Inputs
// of more than 256 rows and at least 65536 values run chunk by chunk of 256 rows side by
// side, dw summed per chunk and the chunks' sums added in order: the
// same bits at every thread count (normBackChunkRows).
func RMSNormRowsBackward(dx, dw, x, w, invRMS, dy []float32, rows, cols int) {
	if profiling.Load() {
		defer profiled("RMSNormRowsBackward", time.Now(), 0)
	}
	checkRMSNormBackward("RMSNormRowsBackward", dx, dw, x, w, invRMS, dy, rows, cols)
	rmsNormBackwardChunked(rmsNormRowsBackwardOp.use, dx, dw, x, w, invRMS, dy, rows, cols)
}

// RMSNormRowsBackwardAdd is RMSNormRowsBackward adding the gradient of x into dx
// instead of overwriting it: dx ends as it would after RMSNormRowsBackward into a
// scratch buffer and Add(dx, dx, scratch), bit for bit, in one pass and without the
// scratch (the gradient of a residual stream, which already holds the skip path's).
func RMSNormRowsBackwardAdd(dx, dw, x, w, invRMS, dy []float32, rows, cols int) {
	if profiling.Load() {
		defer profiled("RMSNormRowsBackwardAdd", time.Now(), 0)
	}
	checkRMSNormBackward("RMSNormRowsBackwardAdd", dx, dw, x, w, invRMS, dy, rows, cols)
	rmsNormBackwardChunked(rmsNormRowsBackwardAddOp.use, dx, dw, x, w, invRMS, dy, rows, cols)
}

// rmsNormBackwardKernel and layerNormBackwardKernel are the signatures of the norms'
// backward kernels.
type (
	rmsNormBackwardKernel   = func(dx, dw, x, w, invRMS, dy []float32, rows, cols int)
	layerNormBackwardKernel = func(dx, dw, db, x, w, mean, rstd, dy []float32, rows, cols int)
)

// normBackChunkRows is the height of the chunks the norms' backward passes sum their
// weight (and bias) gradients in, for inputs of more than one chunk and at least
// parallelMinValues values (the shape alone decides, never the thread count): each
// chunk's rows are summed from zero in order, then the chunks' sums are added into the
// gradients in chunk order. The chunks run side by side, each computing its rows of dx
// as well. One chunk is 256 rows (t5-mini's 4096×256 activations: 16 chunks, 256 KiB
// each of x and dy).
const normBackChunkRows = 256

// normBackward is a norm's backward pass over rows×cols: the kernel in one call for
// small inputs, else chunk by chunk of normBackChunkRows rows side by side, each chunk's
// column sums (sums of them: dw, and db for LayerNorm) written into scratch and then
// added into grads in chunk order. Both ways every value is the same whatever the
// thread count; they differ from each other only in how the sums' terms are grouped.
// j holds the kernel and its operands; RunRange runs chunks.
type normBackward struct {
	rms              rmsNormBackwardKernel   // RMSNorm's kernel, or
	ln               layerNormBackwardKernel // LayerNorm's
	dx, x, w, dy     []float32
	a, b             []float32 // per row: invRMS; or mean and rstd
	rows, cols, nsum int       // nsum: how many column sums (run sets it)
	sums             []float32 // chunk c's column sums at sums[c·nsum·cols:]
}

var normBackPool = sync.Pool{New: func() any { return new(normBackward) }}

// runNormBackward runs the pass nb (its kernel and operands) into grads, cols values
// each, on a job from the pool (a call allocates nothing).
func runNormBackward(nb normBackward, grads ...[]float32) {
	j := normBackPool.Get().(*normBackward)
	*j = nb
	j.run(grads)
	*j = normBackward{}
	normBackPool.Put(j)
}

// run runs j into grads (one column sum each).
func (j *normBackward) run(grads [][]float32) {
	rows, cols := j.rows, j.cols
	j.nsum = len(grads)
	chunks := (rows + normBackChunkRows - 1) / normBackChunkRows
	if chunks < 2 || rows*cols < parallelMinValues {
		j.chunk(0, rows, grads)
		return
	}
	buf := getBuf(chunks * j.nsum * cols)
	j.sums = *buf
	clear(j.sums)
	ParallelRange(chunks, 8*normBackChunkRows*cols, j)
	for c := range chunks {
		for i, g := range grads {
			at := (c*j.nsum + i) * cols
			addOp.use(g, g, j.sums[at:at+cols])
		}
	}
	putBuf(buf)
}

// chunk runs the kernel over rows [r0, r1) into sums (nsum slices of cols values).
func (j *normBackward) chunk(r0, r1 int, sums [][]float32) {
	cols, n := j.cols, r1-r0
	dx, x, dy := j.dx[r0*cols:r1*cols], j.x[r0*cols:r1*cols], j.dy[r0*cols:r1*cols]
	if j.rms != nil {
		j.rms(dx, sums[0], x, j.w, j.a[r0:r1], dy, n, cols)
		return
	}
	j.ln(dx, sums[0], sums[1], x, j.w, j.a[r0:r1], j.b[r0:r1], dy, n, cols)
}

// RunRange runs chunks [lo, hi) into their slots of j.sums.
func (j *normBackward) RunRange(_, lo, hi int) {
	cols := j.cols
	var sums [2][]float32
	for c := lo; c < hi; c++ {
		for i := range j.nsum {
			at := (c*j.nsum + i) * cols
			sums[i] = j.sums[at : at+cols]
		}
		j.chunk(c*normBackChunkRows, min(j.rows, (c+1)*normBackChunkRows), sums[:j.nsum])
	}
}

// rmsNormBackwardChunked runs RMSNorm's backward kernel k through normBackward.
func rmsNormBackwardChunked(k rmsNormBackwardKernel, dx, dw, x, w, invRMS, dy []float32, rows, cols int) {
	runNormBackward(normBackward{rms: k, dx: dx, x: x, w: w, dy: dy, a: invRMS, rows: rows, cols: cols}, dw)
}

// checkRMSNormBackward panics unless the RMSNorm backward kernels' slices (name's)
// hold rows×cols values, or cols (dw, w), or rows (invRMS).
func checkRMSNormBackward(name string, dx, dw, x, w, invRMS, dy []float32, rows, cols int) {
	checkLen(name, rows*cols, dx)
	checkLen(name, cols, dw)
	checkLen(name, rows*cols, x)
	checkLen(name, cols, w)
	checkLen(name, rows, invRMS)
	checkLen(name, rows*cols, dy)
}

// LayerNormRows computes, row by row, dst = (x - mean)/sqrt(var + eps) ⊙ w + b and stores
// each row's mean and 1/sqrt(var+eps) in mean and rstd (length rows). w, b have length cols.
func LayerNormRows(dst, x, w, b []float32, rows, cols int, eps float32, mean, rstd []float32) {
	if profiling.Load() {
		defer profiled("LayerNormRows", time.Now(), 0)
	}
	checkLen("LayerNormRows", rows*cols, dst)
	checkLen("LayerNormRows", rows*cols, x)
	checkLen("LayerNormRows", cols, w)
	checkLen("LayerNormRows", cols, b)
	checkLen("LayerNormRows", rows, mean)
	checkLen("LayerNormRows", rows, rstd)
	if bigVector(rows * cols) {
		splitRows(rows, cols, func(r0, r1 int) {
			layerNormRowsOp.use(dst[r0*cols:r1*cols], x[r0*cols:r1*cols], w, b, r1-r0, cols, eps, mean[r0:r1], rstd[r0:r1])
		})
		return
	}
	layerNormRowsOp.use(dst, x, w, b, rows, cols, eps, mean, rstd)
}

// LayerNormRowsBackward computes dx (overwritten) and accumulates dw and db for
// y = LayerNormRows(x, w, b), given dy and the mean and rstd saved by the forward pass,
// chunk by chunk side by side on large inputs as RMSNormRowsBackward (normBackChunkRows).
func LayerNormRowsBackward(dx, dw, db, x, w, mean, rstd, dy []float32, rows, cols int) {
	if profiling.Load() {
		defer profiled("LayerNormRowsBackward", time.Now(), 0)
	}
	checkLen("LayerNormRowsBackward", rows*cols, dx)
	checkLen("LayerNormRowsBackward", cols, dw)
	checkLen("LayerNormRowsBackward", cols, db)
	checkLen("LayerNormRowsBackward", rows*cols, x)
	checkLen("LayerNormRowsBackward", cols, w)
	checkLen("LayerNormRowsBackward", rows, mean)
	checkLen("LayerNormRowsBackward", rows, rstd)
	checkLen("LayerNormRowsBackward", rows*cols, dy)
	runNormBackward(normBackward{ln: layerNormRowsBackOp.use, dx: dx, x: x, w: w, dy: dy, a: mean, b: rstd, rows: rows, cols: cols}, dw, db)
}

// AdamWUpdate applies one AdamW update to the parameters w from their gradients g
// scaled by gs (g itself is left as it is), updating the first and second moments m
// and v in place (all the same length):
//
//	g' = g·gs (the clipping scale: the value ops.Scale would leave in g)
//	m = b1·m + gb1·g'
//	v = b2·v + (gb2·g')·g'
//	w = w·decay − (step·m) / (√v·invSC2 + eps)
//
// with every product, sum and quotient rounded to float32 on its own (no fused
// multiply-add), so that every variant gives the same bits. The optimizer folds the
// bias corrections into step and invSC2, and the learning rate and weight decay into
// step and decay (package optim).
func AdamWUpdate(w, g, m, v []float32, b1, gb1, b2, gb2, decay, step, invSC2, eps, gs float32) {
	same("AdamWUpdate", w, g)
	same("AdamWUpdate", w, m)
	same("AdamWUpdate", w, v)
	adamwOp.use(w, g, m, v, b1, gb1, b2, gb2, decay, step, invSC2, eps, gs)
}
