package autograd

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/ops"
)

// AttentionShape describes the layout and masks of a multi-head attention.
type AttentionShape struct {
	// Batch is the number of examples; QLen and KLen the query and key lengths.
	Batch, QLen, KLen int
	// Heads and DHead are the number of heads and the width of each: queries, keys and
	// values have Heads·DHead columns, head h in columns [h·DHead, (h+1)·DHead).
	Heads, DHead int
	// Scale multiplies the scores q·kᵀ (1 for T5).
	Scale float32
	// Causal hides keys after the query's position (requires QLen == KLen).
	Causal bool
	// KeyValid marks the real keys (Batch·KLen flags, example-major); nil means all.
	// Padding keys get no attention.
	KeyValid []bool
}

// Attention returns softmax(Scale·q·kᵀ + bias + mask)·v for every (example, head):
// q is (Batch·QLen)×(Heads·DHead), k and v are (Batch·KLen)×(Heads·DHead), bias is nil
// or Heads×(QLen·KLen) (shared by all examples, e.g. T5's relative position bias), and
// the result is laid out as q. The per-head products run on ops.GemmStrided; the
// attention probabilities are kept for the backward pass.
func (t *Tape) Attention(q, k, v, bias *Tensor, s AttentionShape) *Tensor {
	b, L, M, H, dh := s.Batch, s.QLen, s.KLen, s.Heads, s.DHead
	hd := H * dh
	if q.Rows != b*L || q.Cols != hd || k.Rows != b*M || k.Cols != hd || v.Rows != b*M || v.Cols != hd {
		panic(fmt.Sprintf("autograd: Attention: q %d×%d, k %d×%d, v %d×%d do not match batch %d, lengths %d/%d, %d heads of %d",
			q.Rows, q.Cols, k.Rows, k.Cols, v.Rows, v.Cols, b, L, M, H, dh))
	}
	if bias != nil && (bias.Rows != H || bias.Cols != L*M) {
		panic(fmt.Sprintf("autograd: Attention: bias %d×%d, want %d×%d", bias.Rows, bias.Cols, H, L*M))
	}
	if s.Causal && L != M {
		panic("autograd: Attention: causal attention needs equal query and key lengths")
	}
	if s.KeyValid != nil && len(s.KeyValid) != b*M {
		panic(fmt.Sprintf("autograd: Attention: %d key flags for %d keys", len(s.KeyValid), b*M))
	}
	out := t.result(b*L, hd, q, k, v, bias)
	p := t.f.alloc(b * H * L * M)
	hlm := H * L * M
	maskBuf := t.i.alloc(b * M)
	// Examples run side by side, each on one goroutine: their products are too small
	// to split well, and this way every example's rows are masked and normalised by
	// the goroutine that computed them. The results are the same bit for bit.
	j := &t.jobs.attnFwd
	*j = attnForward{q: q, k: k, v: v, bias: bias, s: s, p: p, out: out, maskBuf: maskBuf}
	ops.ParallelRange(b, 4*hlm*dh, j)
	*j = attnForward{}
	if out.needsGrad {
		t.push(record{op: opAttention, out: out, a: q, b: k, c: v, d: bias, s0: p,
			n: [6]int{b, L, M, H, dh}, f: s.Scale})
	}
	return out
}

func (t *Tape) attentionBackward(r *record) {
	q, k, v, bias := r.a, r.b, r.c, r.d
	b, L, M, H, dh := r.n[0], r.n[1], r.n[2], r.n[3], r.n[4]
	hlm := H * L * M
	dp := t.f.alloc(len(r.s0))
	dv, vFresh := t.accum(v)
	dq, qFresh := t.accum(q)
	dk, kFresh := t.accum(k)
	// The bias is shared by the examples: its gradient sums theirs, in example order.
	// The first part's goroutine adds its examples' score gradients as it computes
	// them, in order, from a scratch block that stays in cache (not written out and
	// read back); the other parts keep theirs in dp, and they are added after it, in
	// order, in pieces of the bias side by side (each piece all those examples): every
	// value is summed in the same order whatever the thread count.
	db := t.accumZero(bias)
	var first []float32
	if db != nil {
		first = t.f.alloc(hlm)
	}
	// Example by example, side by side (as in the forward pass): each goroutine writes
	// only its examples' rows of dv, dq and dk.
	j := &t.jobs.attnBwd
	*j = attnBackward{r: r, dp: dp, dq: dq, dk: dk, dv: dv, qFresh: qFresh, kFresh: kFresh, vFresh: vFresh, db: db, first: first}
	ops.ParallelRange(b, 8*hlm*dh, j)
	summed := j.summed
	*j = attnBackward{}
	if db != nil && summed < b {
		j := &t.jobs.attnBias
		*j = attnBiasGrad{db: db, dp: dp, from: summed, examples: b}
		ops.ParallelRange((hlm+biasPiece-1)/biasPiece, (b-summed)*biasPiece, j)
		*j = attnBiasGrad{}
	}
}

// biasPiece is the length of the pieces of the bias gradient summed side by side: small
// enough that each Add stays on its goroutine, and that the piece stays in L1.
const biasPiece = 2048

// attnBiasGrad adds the score gradients of examples [from, examples) in dp (examples ×
// len(db)) into db, in example order, piece by piece of db.
type attnBiasGrad struct {
	db, dp         []float32
	from, examples int
}

func (j *attnBiasGrad) RunRange(_, lo, hi int) {
	n := len(j.db)
	for p := lo; p < hi; p++ {
		a, b := p*biasPiece, min((p+1)*biasPiece, n)
		for e := j.from; e < j.examples; e++ {
			ops.Add(j.db[a:b], j.db[a:b], j.dp[e*n+a:e*n+b])
		}
	}
}

// attnForward is the per-example loop of Attention (a RangeRunner kept on the tape, so
// that a step allocates nothing).
type attnForward struct {
	q, k, v, bias, out *Tensor
	s                  AttentionShape
	p                  []float32
	maskBuf            []int32
}

func (j *attnForward) RunRange(_, lo, hi int) {
	s := j.s
	L, M, H, dh := s.QLen, s.KLen, s.Heads, s.DHead
	hd, lm, hlm := H*dh, L*M, H*L*M
	for e := lo; e < hi; e++ {
		pe := j.p[e*hlm : (e+1)*hlm]
		ops.GemmStridedSerial(false, true, H, L, M, dh, s.Scale, j.q.Data[e*L*hd:], hd, dh, j.k.Data[e*M*hd:], hd, dh, 0, pe, M, L*M)
		// Mask only what is hidden: the padding keys, and the keys after each query (the
		// bias, added inside the softmax, leaves a masked score of −1e30 as it is).
		masked := j.maskBuf[e*M : e*M]
		if s.KeyValid != nil {
			for c, ok := range s.KeyValid[e*M : (e+1)*M] {
				if !ok {
					masked = append(masked, int32(c))
				}
			}
		}
		if s.Causal || len(masked) > 0 {
			for h := range H {
				for i := range L {
					row := pe[(h*L+i)*M : (h*L+i+1)*M]
					for _, c := range masked {
						row[c] = negInf
					}
					if s.Causal {
						for c := i + 1; c < M; c++ {
							row[c] = negInf
						}
					}
				}
			}
		}
		for h := range H { // head by head: each call small enough to stay on this goroutine
			ph := pe[h*lm : (h+1)*lm]
			if j.bias != nil {
				ops.SoftmaxRowsBias(ph, ph, j.bias.Data[h*lm:(h+1)*lm], L, M)
			} else {
				ops.SoftmaxRows(ph, ph, L, M)
			}
		}
		ops.GemmStridedSerial(false, false, H, L, dh, M, 1, pe, M, L*M, j.v.Data[e*M*hd:], hd, dh, 0, j.out.Data[e*L*hd:], hd, dh)
	}
}

// attnBackward is the per-example loop of Attention's backward pass.
type attnBackward struct {
	r                      *record
	dp, dq, dk, dv         []float32
	qFresh, kFresh, vFresh bool
	// db, when not nil, is the bias gradient: the first part (examples 0 to summed)
	// computes its score gradients in first and adds them into db as it goes.
	db, first []float32
	summed    int
}

func (j *attnBackward) RunRange(part, lo, hi int) {
	r := j.r
	q, k, v := r.a, r.b, r.c
	L, M, H, dh := r.n[1], r.n[2], r.n[3], r.n[4]
	hd, lm, hlm, scale := H*dh, L*M, H*L*M, r.f
	p, do := r.s0, r.out.Grad
	addBias := j.db != nil && part == 0
	if addBias {
		j.summed = hi // read after the parallel section returns
	}
	for e := lo; e < hi; e++ {
		pe, ds := p[e*hlm:(e+1)*hlm], j.dp[e*hlm:(e+1)*hlm]
		if addBias {
			ds = j.first
		}
		ops.GemmStridedSerial(false, true, H, L, M, dh, 1, do[e*L*hd:], hd, dh, v.Data[e*M*hd:], hd, dh, 0, ds, M, L*M)
		if j.dv != nil {
			ops.GemmStridedSerial(true, false, H, M, dh, L, 1, pe, M, L*M, do[e*L*hd:], hd, dh, beta(j.vFresh), j.dv[e*M*hd:], hd, dh)
		}
		for h := range H { // ds now holds dScores
			hs := ds[h*lm : (h+1)*lm]
			ops.SoftmaxRowsBackward(hs, pe[h*lm:(h+1)*lm], hs, L, M)
		}
		if addBias { // in pieces, each small enough to stay on this goroutine
			for a := 0; a < hlm; a += biasPiece {
				b := min(a+biasPiece, hlm)
				ops.Add(j.db[a:b], j.db[a:b], ds[a:b])
			}
		}
		if j.dq != nil {
			ops.GemmStridedSerial(false, false, H, L, dh, M, scale, ds, M, L*M, k.Data[e*M*hd:], hd, dh, beta(j.qFresh), j.dq[e*L*hd:], hd, dh)
		}
		if j.dk != nil {
			ops.GemmStridedSerial(true, false, H, M, dh, L, scale, ds, M, L*M, q.Data[e*L*hd:], hd, dh, beta(j.kFresh), j.dk[e*M*hd:], hd, dh)
		}
	}
}
