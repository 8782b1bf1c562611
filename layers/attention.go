package layers

import (
	"fmt"
	"math"

	"github.com/hypergrid-go/hypergrid/autograd"
)

// T5AttentionConfig configures T5's multi-head attention ("attn.t5"): query, key, value
// and output projections without biases; scores are not scaled by 1/√d_kv (T5 folds the
// scale into the query's initialisation) unless ScaleScores is set; self-attention
// adds the stack's relative position bias, computed by the stack's first layer from a
// Buckets×Heads table and shared by the others.
type T5AttentionConfig struct {
	// ScaleScores divides the attention scores by √d_kv (the original Transformer's
	// scaling) instead of relying on T5's initialisation.
	ScaleScores bool `yaml:"scale_scores"`
}

// DefaultT5AttentionConfig returns T5's attention settings.
func DefaultT5AttentionConfig() *T5AttentionConfig { return &T5AttentionConfig{} }

// Validate reports every invalid setting; T5AttentionConfig has none to get wrong.
func (c *T5AttentionConfig) Validate() []error { return nil }

// BuildAttention builds the attention sublayer for site, with parameters Prefix.q,
// Prefix.k, Prefix.v, Prefix.o and, for the first self-attention of a stack with
// relative buckets, Prefix.relative_bias.
func (c *T5AttentionConfig) BuildAttention(site Site) (Attention, error) {
	if _, err := c.Footprint(site); err != nil {
		return nil, err
	}
	return NewT5Attention(site, *c), nil
}

// Footprint implements Sizer: the shapes of q, k, v, o and (for the first
// self-attention of a stack with relative buckets) relative_bias; and the activations
// of the forward pass: the queries and the attention's output (2·heads·d_kv per row),
// the keys and values (2·heads·d_kv per memory row), the attention probabilities
// (heads per (query, key) pair) and, with the relative bias, the bias and its bucket
// indices (heads+1 per pair, once per batch). It returns BuildAttention's error for an
// invalid site.
func (c *T5AttentionConfig) Footprint(site Site) (Footprint, error) {
	if site.Heads <= 0 || site.DKV <= 0 || site.DModel <= 0 {
		return Footprint{}, fmt.Errorf("attn.t5 at %s: heads (%d), d_kv (%d) and d_model (%d) must be positive", site.Prefix, site.Heads, site.DKV, site.DModel)
	}
	if site.RelativeBuckets < 0 || (site.RelativeBuckets > 0 && site.RelativeMaxDistance <= 0) {
		return Footprint{}, fmt.Errorf("attn.t5 at %s: relative attention needs buckets >= 0 and a positive max_distance (got %d, %d)", site.Prefix, site.RelativeBuckets, site.RelativeMaxDistance)
	}
	if err := site.Check(); err != nil {
		return Footprint{}, err
	}
	d, inner, h := int64(site.DModel), int64(site.Heads)*int64(site.DKV), int64(site.Heads)
	f := Footprint{
		Params:      []ParamShape{{d, inner}, {d, inner}, {d, inner}, {inner, d}},
		Activations: Activations{PerRow: 2 * inner, PerMemoryRow: 2 * inner, PerPair: h},
	}
	if hasRelativeBias(site) {
		f.Params = append(f.Params, ParamShape{int64(site.RelativeBuckets), h})
		f.Activations.PerSharedPair = h + 1
	}
	// ForwardStep's cache: self-attention's keys and values, appended step by step;
	// cross-attention's keys, their per-head transpose and values, on the first step's
	// tape.
	f.Step = &StepFootprint{CachePerPosition: 2 * inner}
	if site.Cross {
		f.Step.CachePerPosition = 3 * inner
		f.MemoryCached = true // memoryKV
	}
	return f, nil
}

// SizedBuilder implements Sizer.
func (c *T5AttentionConfig) SizedBuilder() any { return c }

// hasRelativeBias reports whether the attention at site owns the stack's relative
// position bias table: the first self-attention of a stack with relative buckets.
func hasRelativeBias(site Site) bool {
	return !site.Cross && site.Layer == 0 && site.RelativeBuckets > 0
}

// T5Attention is the attention sublayer built by T5AttentionConfig. Projections are
// stored as input×output matrices (DModel×Heads·DKV, and Heads·DKV×DModel for O).
type T5Attention struct {
	Config T5AttentionConfig
	Site   Site
	// Q, K, V and O are the projections; RelativeBias is the Buckets×Heads table of the
	// stack's first self-attention (nil elsewhere).
	Q, K, V, O, RelativeBias *autograd.Param

	buckets map[[2]int][]int32 // cached bucket indices per (query, key) length
}

// NewT5Attention creates the sublayer's parameters with T5's initialisation.
func NewT5Attention(site Site, c T5AttentionConfig) *T5Attention {
	inner := site.Heads * site.DKV
	a := &T5Attention{Config: c, Site: site}
	qStd := 1 / math.Sqrt(float64(site.DModel*site.DKV))
	if c.ScaleScores {
		qStd = Fan(site.DModel)
	}
	a.Q = site.Init.Normal(site.Param("q", site.DModel, inner), qStd)
	a.K = site.Init.Normal(site.Param("k", site.DModel, inner), Fan(site.DModel))
	a.V = site.Init.Normal(site.Param("v", site.DModel, inner), Fan(site.DModel))
	a.O = site.Init.Normal(site.Param("o", inner, site.DModel), Fan(inner))
	if hasRelativeBias(site) {
		a.RelativeBias = site.Init.Normal(site.Param("relative_bias", site.RelativeBuckets, site.Heads), Fan(site.DModel))
	}
	return a
}

// Forward implements Attention.
func (a *T5Attention) Forward(ctx *Context, in AttentionInput) *autograd.Tensor {
	t := ctx.Tape
	mem, ms := in.Memory, in.MemorySeq
	if mem == nil {
		mem, ms = in.X, in.XSeq
	}
	var q, k, v *autograd.Tensor
	if in.Memory == nil {
		// Queries, keys and values of one input: one product (autograd.MatMulEach).
		var qkv [3]*autograd.Tensor
		t.MatMulEach(in.X, []*autograd.Tensor{&a.Q.Tensor, &a.K.Tensor, &a.V.Tensor}, qkv[:])
		q, k, v = qkv[0], qkv[1], qkv[2]
	} else {
		q = t.MatMul(in.X, &a.Q.Tensor, false)
		k, v = a.memoryKV(t, mem, in.MemoryCache)
	}
	var bias *autograd.Tensor
	if !a.Site.Cross && a.Site.RelativeBuckets > 0 {
		if a.RelativeBias != nil {
			bias = t.RelPosBias(&a.RelativeBias.Tensor, a.bucketsFor(in.XSeq.Len, ms.Len), a.Site.Heads)
			if in.Shared != nil {
				in.Shared.PositionBias = bias
			}
		} else {
			if in.Shared == nil || in.Shared.PositionBias == nil {
				panic("layers: " + a.Site.Prefix + ": the stack's first layer did not set the shared position bias")
			}
			bias = in.Shared.PositionBias
		}
	}
	scale := float32(1)
	if a.Config.ScaleScores {
		scale = float32(1 / math.Sqrt(float64(a.Site.DKV)))
	}
	o := t.Attention(q, k, v, bias, autograd.AttentionShape{
		Batch: in.XSeq.Batch, QLen: in.XSeq.Len, KLen: ms.Len,
		Heads: a.Site.Heads, DHead: a.Site.DKV, Scale: scale,
		Causal: a.Site.Causal, KeyValid: ms.Valid,
	})
	return t.MatMul(o, &a.O.Tensor, false)
}

// memoryProjection is T5Attention's MemoryCache state: the keys and values of one
// memory tensor.
type memoryProjection struct {
	mem, k, v *autograd.Tensor
}

// memoryKV returns the keys and values of mem: from cache when it holds those of the
// same tensor (and t does not record: recorded products need their own records),
// else projected, and then kept in cache. The same products, so the same bits.
func (a *T5Attention) memoryKV(t *autograd.Tape, mem *autograd.Tensor, cache *StepCache) (k, v *autograd.Tensor) {
	keep := cache != nil && !t.Recording()
	if keep {
		if p, ok := cache.State.(*memoryProjection); ok && p.mem == mem {
			return p.k, p.v
		}
	}
	var kv [2]*autograd.Tensor
	t.MatMulEach(mem, []*autograd.Tensor{&a.K.Tensor, &a.V.Tensor}, kv[:])
	if keep {
		cache.State = &memoryProjection{mem: mem, k: kv[0], v: kv[1]}
	}
	return kv[0], kv[1]
}

// GatherMemoryCache returns a MemoryCache for a cross-attention's call on mem, the
// rows rows of the memory whose projections from holds (a call on that memory filled
// it): the same rows of them, gathered on t, not projected again (the same bits: a
// product's rows do not depend on each other). It is empty, and the call projects
// mem, when from holds nothing this package's attention keeps, or t records.
func GatherMemoryCache(t *autograd.Tape, from *StepCache, mem *autograd.Tensor, rows []int32) StepCache {
	p, ok := from.State.(*memoryProjection)
	if !ok || t.Recording() {
		return StepCache{}
	}
	return StepCache{State: &memoryProjection{mem: mem, k: t.GatherRows(p.k, rows), v: t.GatherRows(p.v, rows)}}
}

// Params implements Attention.
func (a *T5Attention) Params() []*autograd.Param {
	ps := []*autograd.Param{a.Q, a.K, a.V, a.O}
	if a.RelativeBias != nil {
		ps = append(ps, a.RelativeBias)
	}
	return ps
}

// bucketsFor returns the bucket of every (query, key) pair, computed once per shape.
func (a *T5Attention) bucketsFor(qLen, kLen int) []int32 {
	key := [2]int{qLen, kLen}
	if b, ok := a.buckets[key]; ok {
		return b
	}
	if a.buckets == nil {
		a.buckets = map[[2]int][]int32{}
	}
	b := RelativeBuckets(qLen, kLen, !a.Site.Causal, a.Site.RelativeBuckets, a.Site.RelativeMaxDistance)
	a.buckets[key] = b
	return b
}

// RelativeBuckets returns T5's relative position bucket of every (query i, key j) pair
// as a qLen×kLen row-major slice. Offsets below half the (per-direction) buckets get a
// bucket each; larger ones share logarithmically wider buckets up to maxDistance.
// Bidirectional attention (encoder) splits the buckets between keys before and after
// the query; causal attention (decoder) uses them all for keys before it. The
// arithmetic is float32, as in the reference implementations, so that bucket
// boundaries agree with them exactly.
func RelativeBuckets(qLen, kLen int, bidirectional bool, buckets, maxDistance int) []int32 {
	out := make([]int32, qLen*kLen)
	for i := range qLen {
		for j := range kLen {
			out[i*kLen+j] = RelativeBucket(j-i, bidirectional, buckets, maxDistance)
		}
	}
	return out
}

// RelativeBucket returns the bucket of the offset rel = key position - query position
// (see RelativeBuckets).
func RelativeBucket(rel int, bidirectional bool, nb, maxd int) int32 {
	ret := 0
	n := -rel
	if bidirectional {
		nb /= 2
		if n < 0 {
			ret = nb
			n = -n
		}
	} else if n < 0 {
		n = 0
	}
	me := nb / 2
	if n < me {
		return int32(ret + n)
	}
	x := float32(n)/float32(me) + 1e-9
	l := float32(math.Log(float64(x))) / float32(math.Log(float64(maxd)/float64(me)))
	large := me + int(l*float32(nb-me))
	return int32(ret + min(large, nb-1))
}
