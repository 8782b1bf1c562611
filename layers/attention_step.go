package layers

import (
	"fmt"
	"math"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/ops"
)

// maskedScore is the score of a hidden key, as in autograd.Tape.Attention: finite, so
// that a row with every key hidden gets a uniform distribution instead of NaNs.
const maskedScore = -1e30

// appendRows appends x to s, doubling s's capacity when it is full (from room for 16
// steps), so that a cache of n steps holds less than twice their values and is copied
// about log₂ n times.
func appendRows(s, x []float32) []float32 {
	if len(s)+len(x) > cap(s) {
		grown := make([]float32, len(s), max(2*cap(s), 16*len(x), len(s)+len(x)))
		copy(grown, s)
		s = grown
	}
	return append(s, x...)
}

// t5KV is T5Attention's StepCache state: the keys and values attended to.
type t5KV struct {
	// k and v hold Heads·DKV columns per row. Self-attention appends one row per
	// example at each step, position-major (row pos·batch + e); cross-attention holds
	// the memory's values, example-major (row e·n + j), on the first step's tape, and no k.
	k, v []float32
	// kT holds cross-attention's keys transposed per example and head: the dh×n block
	// of (e, h) at (e·H + h)·dh·n. A query's scores are then one row times a matrix,
	// which the kernels compute without packing, instead of one row times a transposed
	// matrix (the same sums, bit for bit).
	kT []float32
	// n is the number of keys per example; batch the number of examples.
	n, batch int
	// valid marks the real memory keys (cross-attention; nil: all).
	valid []bool
}

// ForwardStep implements StepAttention. Self-attention appends the new position's key
// and value to cache and attends causally to every position so far, with the stack's
// relative position bias of the new position (computed by the stack's first layer,
// shared through in.Shared); cross-attention projects the memory once, at the first
// step, and masks its padding as Forward does.
func (a *T5Attention) ForwardStep(ctx *Context, in StepInput, cache *StepCache) *autograd.Tensor {
	mustNotRecord(ctx, a.Site.Prefix+": ForwardStep")
	t := ctx.Tape
	b, H, dh := in.Batch, a.Site.Heads, a.Site.DKV
	hd := H * dh
	if in.X.Rows != b {
		panic(fmt.Sprintf("layers: %s: ForwardStep: %d input rows for a batch of %d", a.Site.Prefix, in.X.Rows, b))
	}
	q := t.MatMul(in.X, &a.Q.Tensor, false)
	kv, _ := cache.State.(*t5KV)
	if a.Site.Cross {
		if kv == nil {
			if in.Memory == nil || in.MemorySeq.Batch != b {
				panic("layers: " + a.Site.Prefix + ": ForwardStep: cross-attention needs the memory of the batch at its first step")
			}
			k := t.MatMul(in.Memory, &a.K.Tensor, false)
			v := t.MatMul(in.Memory, &a.V.Tensor, false)
			// Kept by reference: the first step's tape outlives the generation.
			n := in.MemorySeq.Len
			kv = &t5KV{kT: transposeHeads(t.Floats(len(k.Data)), k.Data, b, n, H, dh), v: v.Data, n: n, batch: b}
			if in.MemorySeq.Valid != nil {
				kv.valid = append([]bool(nil), in.MemorySeq.Valid...)
			}
			cache.State = kv
		}
	} else {
		if kv == nil {
			kv = &t5KV{batch: b}
			cache.State = kv
		}
		if kv.n != in.Pos {
			panic(fmt.Sprintf("layers: %s: ForwardStep at position %d, but %d positions are cached", a.Site.Prefix, in.Pos, kv.n))
		}
		k := t.MatMul(in.X, &a.K.Tensor, false)
		v := t.MatMul(in.X, &a.V.Tensor, false)
		kv.k = appendRows(kv.k, k.Data)
		kv.v = appendRows(kv.v, v.Data)
		kv.n++
	}
	if kv.batch != b {
		panic(fmt.Sprintf("layers: %s: ForwardStep: a batch of %d, but the cache holds %d examples", a.Site.Prefix, b, kv.batch))
	}
	n := kv.n
	var bias *autograd.Tensor
	if !a.Site.Cross && a.Site.RelativeBuckets > 0 {
		if a.RelativeBias != nil {
			buckets := t.Ints(n)
			for j := range n {
				buckets[j] = RelativeBucket(j-in.Pos, !a.Site.Causal, a.Site.RelativeBuckets, a.Site.RelativeMaxDistance)
			}
			bias = t.RelPosBias(&a.RelativeBias.Tensor, buckets, H)
			if in.Shared != nil {
				in.Shared.PositionBias = bias
			}
		} else {
			if in.Shared == nil || in.Shared.PositionBias == nil {
				panic("layers: " + a.Site.Prefix + ": the stack's first layer did not set the shared position bias")
			}
			bias = in.Shared.PositionBias
		}
		if bias.Rows != H || bias.Cols != n {
			panic(fmt.Sprintf("layers: %s: ForwardStep: position bias %d×%d, want %d×%d", a.Site.Prefix, bias.Rows, bias.Cols, H, n))
		}
	}
	scale := float32(1)
	if a.Config.ScaleScores {
		scale = float32(1 / math.Sqrt(float64(dh)))
	}
	// The products are the ones autograd.Tape.Attention computes for the same query,
	// on the same kernels, so that a step gives the full pass's numbers bit for bit (on
	// amd64; NEON's softmax groups a row's sums by its length, a few ulps apart).
	// Examples run side by side, each part with scores of its own.
	out := t.New(b, hd)
	parts := max(1, ops.Parts(b, 2*H*n*dh))
	scores := t.Floats(parts * H * n)
	ops.ParallelRangeIn(parts, b, ops.RangeFunc(func(part, lo, hi int) {
		p := scores[part*H*n : (part+1)*H*n]
		for e := lo; e < hi; e++ {
			if a.Site.Cross {
				if e+1 < hi {
					// The next example's cached keys and values (2·n·hd floats, 256 KiB
					// for t5-mini), fetched while this one is attended to: a decoding
					// step reads each example's once, from memory, with too little work
					// to hide the wait (bench generate t5-mini --profile: these products
					// 10.9-11.8 → 8.0-8.1 ms a batch at 1 thread, AMD EPYC Zen 5).
					ops.Prefetch(kv.kT[(e+1)*H*dh*n : (e+2)*H*dh*n])
					ops.Prefetch(kv.v[(e+1)*n*hd : (e+2)*n*hd])
				}
				ops.GemmStridedSerial(false, false, H, 1, n, dh, scale, q.Data[e*hd:], hd, dh, kv.kT[e*H*dh*n:], n, dh*n, 0, p, n, n)
			} else {
				// Example e's cached positions: rows e, e+b, ...
				ops.GemmStridedSerial(false, true, H, 1, n, dh, scale, q.Data[e*hd:], hd, dh, kv.k[e*hd:], b*hd, dh, 0, p, n, n)
			}
			if kv.valid != nil {
				for j, ok := range kv.valid[e*n : (e+1)*n] {
					if !ok {
						for h := range H {
							p[h*n+j] = maskedScore
						}
					}
				}
			}
			// The bias is added inside the softmax (a masked score stays −1e30).
			if bias != nil {
				ops.SoftmaxRowsBias(p, p, bias.Data, H, n)
			} else {
				ops.SoftmaxRows(p, p, H, n)
			}
			off, ld := e*hd, b*hd
			if a.Site.Cross {
				off, ld = e*n*hd, hd
			}
			ops.GemmStridedSerial(false, false, H, 1, dh, n, 1, p, n, n, kv.v[off:], ld, dh, 0, out.Data[e*hd:], hd, dh)
		}
	}))
	return t.MatMul(out, &a.O.Tensor, false)
}

// transposeHeads writes into dst, for each of batch examples and heads heads, the
// dh×n transpose of the example's n rows of that head's dh columns in src (rows of
// heads·dh values, example-major): dst[((e·heads + h)·dh + d)·n + j] = src[(e·n + j)·heads·dh + h·dh + d].
func transposeHeads(dst, src []float32, batch, n, heads, dh int) []float32 {
	hd := heads * dh
	for e := range batch {
		for j := range n {
			row := src[(e*n+j)*hd : (e*n+j+1)*hd]
			for h := range heads {
				base := (e*heads + h) * dh * n
				for d, v := range row[h*dh : (h+1)*dh] {
					dst[base+d*n+j] = v
				}
			}
		}
	}
	return dst
}
