package model

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/optim"
	"github.com/hypergrid-go/hypergrid/registry"
)

// Optimizer names for Spec.Estimate (the train section's optimizer); "" estimates
// inference.
const (
	// OptimizerAdamW keeps two float32 moments per parameter value.
	OptimizerAdamW = "adamw"
	// OptimizerAdafactor keeps a row and a column average for every matrix parameter
	// with more than one row and column, one value per value for the others.
	OptimizerAdafactor = "adafactor"
)

// ErrUnsized is returned (wrapped) by Spec.Estimate when a layer builder of the spec
// does not implement layers.Sizer for itself: its parameters and activations cannot
// be known without building it. A caller that checks memory before building can then
// only build and see, or refuse; errors.Is tells this case apart from an invalid spec.
var ErrUnsized = errors.New("model: a layer builder does not report its size")

// Estimate is the memory a model needs, in bytes, computed from its spec without
// allocating it. Every count is overflow-checked.
type Estimate struct {
	// Params is the number of parameter values: exactly Model.NumParams of the model
	// New builds from the spec.
	Params int64
	// ParamBytes is the memory of the parameter values (float32).
	ParamBytes int64
	// GradBytes is the memory of the parameters' gradients (float32). New allocates a
	// gradient for every parameter, so it is counted for inference too.
	GradBytes int64
	// OptimizerBytes is the optimizer's state: AdamW's two moments per value, or
	// Adafactor's factored second moments plus the factors and column sums of its
	// steps (optim.AdafactorValues); 0 for inference.
	OptimizerBytes int64
	// ActivationBytes is what one step keeps on the tape, which holds every forward
	// value and every gradient until the step ends. For training it counts, per block,
	// the residual stream, the norms, the sublayers'
	// outputs and what the attention and feed-forward builders report (q, k, v, the
	// attention probabilities batch·heads·len², the feed-forward hidden layer
	// batch·len·d_ff times 3 gated or 2 plain, the HyperGrid gates), each twice for its
	// gradient (once where the builder's GradFreeRow says the backward pass needs no
	// buffer for it); and what the loss keeps (autograd.LinearCrossEntropy: one block of
	// logits, the decoder output's gradient and the output projection's). For
	// inference it counts the forward values of a greedy generation of targetLen
	// tokens or of scoring candidates of targetLen tokens in all (in any number of
	// decoder passes on one tape: Model.ScoreCandidateSets), whichever is more.
	// A generation is counted as Model.Generate runs it: one position at a time, with
	// the caches the decoder sublayers' footprints report (layers.StepFootprint), when
	// every one has them; else re-running the decoder over all positions at every step,
	// on the same tape. It is a deliberately upper-ish estimate: it counts what the
	// tape hands out, to within about 1% above, with an allowance for the small
	// per-call buffers.
	ActivationBytes int64
	// RuntimeBytes is a fixed allowance for the Go runtime, the program and its small
	// buffers (RuntimeAllowance). Data sets, tokenizers and checkpoint buffers are not
	// counted.
	RuntimeBytes int64
	// Total is the sum of the byte counts above.
	Total int64
}

// RuntimeAllowance is Estimate.RuntimeBytes: 32 MiB. The peak resident memory of
// "hypergrid bench train" exceeds the rest of the estimate by 12 to 20 MiB.
const RuntimeAllowance = 32 << 20

// Estimate returns the memory that training the model with optimizer ("adamw" or
// "adafactor") on batches of batch examples of inputLen input tokens and targetLen
// target tokens needs, or with optimizer "" the memory of inference (generation of
// up to targetLen tokens). targetLen is ignored for an encoder-only model; batch 0
// gives the memory of the model alone (no activations).
//
// The spec is validated first: its errors are returned joined, as Validate reports
// them; a builder's error at a site is reported once, with "ffn." or "attention."
// prefixed, as New reports it. A builder that does not implement layers.Sizer yields
// an error wrapping ErrUnsized. A size that overflows an int64 is an error, never a
// wrapped value. Estimate allocates nothing in proportion to the sizes.
func (s *Spec) Estimate(batch, inputLen, targetLen int, optimizer string) (Estimate, error) {
	if errs := s.Validate(); len(errs) > 0 {
		return Estimate{}, errors.Join(errs...)
	}
	if batch < 0 || inputLen < 0 || targetLen < 0 {
		return Estimate{}, fmt.Errorf("model: Estimate: batch %d, input length %d, target length %d; want 0 or more", batch, inputLen, targetLen)
	}
	if optimizer != OptimizerAdamW && optimizer != OptimizerAdafactor && optimizer != "" {
		return Estimate{}, fmt.Errorf("model: Estimate: optimizer %q; want %s, %s or \"\" (inference)", optimizer, OptimizerAdamW, OptimizerAdafactor)
	}
	for _, b := range []struct {
		key     string
		builder any
	}{{"attention", s.Attention}, {"ffn", s.FFN}} {
		if layers.SizerOf(b.builder) == nil {
			return Estimate{}, fmt.Errorf("%w: %s %T does not implement layers.Sizer, so its parameters and activations are unknown until it is built", ErrUnsized, b.key, b.builder)
		}
	}
	w := &walker{spec: s, train: optimizer != "", failed: map[string]bool{}}
	if s.Arch != ArchT5 {
		targetLen = 0
	}
	w.shape(int64(batch), int64(inputLen), int64(targetLen))
	w.walk()
	if len(w.errs) > 0 {
		return Estimate{}, errors.Join(w.errs...)
	}
	if !w.train && targetLen > 0 {
		// Inference is a generation or scoring candidates (of targetLen tokens in
		// all): whichever keeps more.
		tf := &walker{spec: s, scoring: true, failed: map[string]bool{}}
		tf.shape(int64(batch), int64(inputLen), int64(targetLen))
		tf.walk()
		w.act = max(w.act, tf.act)
		w.c.overflow = w.c.overflow || tf.c.overflow
	}
	c := &w.c
	var e Estimate
	e.Params = w.params
	e.ParamBytes = c.mul(4, w.params)
	e.GradBytes = e.ParamBytes
	switch optimizer {
	case OptimizerAdamW:
		e.OptimizerBytes = c.mul(8, w.params)
	case OptimizerAdafactor:
		e.OptimizerBytes = c.mul(4, w.factored)
	}
	e.ActivationBytes = c.mul(4, w.act)
	e.RuntimeBytes = RuntimeAllowance
	e.Total = c.add(e.ParamBytes, e.GradBytes, e.OptimizerBytes, e.ActivationBytes, e.RuntimeBytes)
	if c.overflow {
		return Estimate{}, fmt.Errorf("model: Estimate: the memory of batch %d, input length %d, target length %d overflows an int64 count of bytes; reduce them", batch, inputLen, targetLen)
	}
	return e, nil
}

// checked does saturating int64 arithmetic and remembers an overflow.
type checked struct{ overflow bool }

// mul returns the product of xs (all ≥ 0), or math.MaxInt64 after an overflow.
func (c *checked) mul(xs ...int64) int64 {
	r := int64(1)
	for _, x := range xs {
		if x < 0 {
			c.overflow = true
			return math.MaxInt64
		}
		hi, lo := bits.Mul64(uint64(r), uint64(x))
		if hi != 0 || lo > math.MaxInt64 {
			c.overflow = true
			return math.MaxInt64
		}
		r = int64(lo)
	}
	return r
}

// add returns the sum of xs (all ≥ 0), or math.MaxInt64 after an overflow.
func (c *checked) add(xs ...int64) int64 {
	r := int64(0)
	for _, x := range xs {
		if x < 0 || r > math.MaxInt64-x {
			c.overflow = true
			return math.MaxInt64
		}
		r += x
	}
	return r
}

// pass is one stack's work in a step as aggregate counts: a generation runs the
// decoder once per token, and its counts add up those passes.
type pass struct {
	calls    int64 // forward passes through the stack
	rows     int64 // rows (tokens) through the stack
	examples int64 // examples through the stack (per pass)
	pairs    int64 // self-attention (query, key) pairs over all examples
	shared   int64 // self-attention (query, key) pairs once per batch (per pass)
	memRows  int64 // rows of the encoder output read by each cross-attention
	cross    int64 // cross-attention (query, key) pairs over all examples
	// The step caches of a generation one position at a time (0 otherwise): the
	// (example, position) pairs each self-attention's cache holds, and each
	// cross-attention's; the examples each sublayer keeps values for.
	selfCache, crossCache, cacheExamples int64
	// gathered is the rows of the memory copied for passes over some examples.
	gathered int64
}

// walker visits the model's parameters and activations in New's order.
type walker struct {
	spec  *Spec
	train bool
	// scoring counts inference as decoder passes over target positions given in
	// advance (scoring candidates, Model.ScoreCandidateSets) instead of a generation.
	scoring bool
	c       checked

	enc, dec pass

	params   int64 // parameter values
	factored int64 // Adafactor's values (optim.AdafactorValues)
	act      int64 // activation values

	errs   []error
	failed map[string]bool
}

// shape sets the passes of a batch of b examples, l input and t target tokens.
func (w *walker) shape(b, l, t int64) {
	c := &w.c
	if b == 0 {
		return // no step: the model alone
	}
	w.enc = pass{calls: 1, rows: c.mul(b, l), examples: b, pairs: c.mul(b, l, l), shared: c.mul(l, l)}
	if t == 0 {
		return
	}
	if w.train {
		w.dec = pass{calls: 1, rows: c.mul(b, t), examples: b, pairs: c.mul(b, t, t), shared: c.mul(t, t),
			memRows: c.mul(b, l), cross: c.mul(b, t, l)}
		return
	}
	if w.scoring {
		// Candidates of t tokens in all, scored in up to t passes on one tape: each
		// count at its largest over the ways to cut them (one pass of t tokens has the
		// most pairs; t passes of one token read the memory t times, or once when the
		// cross-attentions keep its projections). A batch mixing candidate sets gathers
		// the rows of fewer than half its examples, with their projections, once.
		half := c.mul((b+1)/2, l)
		memRows := c.mul(t, b, l)
		if _, cached := w.decoderCaches(); cached {
			memRows = c.add(c.mul(b, l), half)
		}
		w.dec = pass{calls: t, rows: c.mul(b, t), examples: c.mul(b, t), pairs: c.mul(b, t, t), shared: c.mul(t, t),
			memRows: memRows, cross: c.mul(b, t, l), gathered: half}
		return
	}
	if steps, _ := w.decoderCaches(); steps {
		// Generation one position at a time (Model.Generate with every decoder
		// sublayer incremental): the first step on the tape that keeps the encoder's
		// output, the others each on a tape reset before it, so at most two steps' values
		// (the first, and the last, attending to t positions), besides the caches. A
		// self-attention's cache grows by doubling from 16 positions and is copied when
		// it does: it holds 16 positions, or below 3t while it grows.
		cached := int64(16)
		if t > 16 {
			cached = c.mul(3, t)
		}
		w.dec = pass{calls: 2, rows: c.mul(2, b), examples: c.mul(2, b), pairs: c.add(b, c.mul(b, t)),
			shared: c.add(1, t), cross: c.mul(2, b, l),
			selfCache: c.mul(b, cached), crossCache: c.mul(b, l), cacheExamples: b}
		return
	}
	// Generation re-running the decoder: passes of length 1, 2, ..., t. Σk = t(t+1)/2,
	// Σk² = t(t+1)(2t+1)/6; the divisions are exact, done on the factor that divides.
	sum := triangle(c, t)
	sq := squares(c, t)
	w.dec = pass{calls: t, rows: c.mul(b, sum), examples: c.mul(b, t), pairs: c.mul(b, sq), shared: sq,
		memRows: c.mul(t, b, l), cross: c.mul(b, l, sum)}
}

// triangle returns 1+2+...+t without overflowing in the intermediate product.
func triangle(c *checked, t int64) int64 {
	if t%2 == 0 {
		return c.mul(t/2, t+1)
	}
	return c.mul(t, (t+1)/2)
}

// squares returns 1²+2²+...+t² = t(t+1)(2t+1)/6, dividing a factor first.
func squares(c *checked, t int64) int64 {
	f := [3]int64{t, t + 1, 2*t + 1}
	for _, d := range []int64{2, 3} {
		for i := range f {
			if f[i]%d == 0 {
				f[i] /= d
				break
			}
		}
	}
	return c.mul(f[0], f[1], f[2])
}

// param counts one parameter of rows×cols values.
func (w *walker) param(rows, cols int64) {
	c := &w.c
	n := c.mul(rows, cols)
	w.params = c.add(w.params, n)
	if c.overflow { // n saturated: the totals are, too
		w.factored = c.add(w.factored, n)
	} else {
		w.factored = c.add(w.factored, optim.AdafactorValues(int(rows), int(cols)))
	}
}

// acts adds activation values.
func (w *walker) acts(xs ...int64) { w.act = w.c.add(w.act, w.c.add(xs...)) }

// walk counts the whole model: the embedding, the encoder, then the decoder and the
// output projection, or the task heads.
func (w *walker) walk() {
	s, c := w.spec, &w.c
	d := int64(s.DModel)
	w.param(int64(s.Vocab), d)
	w.stack(layers.Encoder, s.EncoderLayers, w.enc)
	if s.Arch == ArchT5 {
		w.stack(layers.Decoder, s.DecoderLayers, w.dec)
		w.acts(c.mul(w.dec.gathered, d))
		if !s.TieEmbeddings {
			w.param(d, int64(s.Vocab))
		}
		rows, v := w.dec.rows, int64(s.Vocab)
		if w.train {
			// The loss (autograd.LinearCrossEntropy): one block of logits, the
			// decoder output's gradient and the projection's; the targets.
			block := int64(autograd.LinearCrossEntropyRows(int(min(rows, math.MaxInt32)), int(min(v, math.MaxInt32))))
			if rows > 0 {
				w.acts(c.mul(block, v), c.mul(rows, d), c.mul(d, v), rows)
			}
		} else {
			w.acts(c.mul(rows, v))
			if s.TieEmbeddings {
				w.acts(c.mul(rows, d))
			}
		}
		return
	}
	maxClasses := int64(1)
	for _, t := range s.Tasks {
		if t.Kind == Classification {
			w.param(d, int64(t.Classes))
			w.param(1, int64(t.Classes))
			maxClasses = max(maxClasses, int64(t.Classes))
		} else {
			w.param(d, 1)
			w.param(1, 1)
		}
	}
	// The examples are split between the heads: per example, its pooled vector, its
	// head's input, outputs and losses (and gradients when training); a few scalars
	// per head.
	b, n := w.enc.examples, int64(len(s.Tasks))
	k := int64(1)
	if w.train {
		k = 2
	}
	w.acts(c.mul(k, b, c.add(c.mul(2, d), c.mul(2, maxClasses), 2)), c.mul(8, n))
	if s.Pooling == PoolMean {
		w.acts(w.enc.rows) // the pooling weights
	}
}

// site is the site of a sublayer (part: self_attn, cross_attn or ffn) of layer layer
// of stack name, as New builds it.
func (w *walker) site(name layers.Stack, layer int, part string) layers.Site {
	s := w.spec
	site := layers.Site{
		Stack: name, Layer: layer, Prefix: fmt.Sprintf("%s.block.%d.%s", name, layer, part),
		DModel: s.DModel, Heads: s.Heads, DKV: s.DKV,
		RelativeBuckets: s.RelativeAttention.Buckets, RelativeMaxDistance: s.RelativeAttention.MaxDistance,
		NumTasks: len(s.Tasks),
	}
	switch part {
	case "self_attn":
		site.Causal = name == layers.Decoder
	case "cross_attn":
		site.Cross = true
	}
	return site
}

// decoderCaches reports whether every sublayer of the decoder decodes incrementally
// (its builder's footprint has a Step), and whether every cross-attention keeps its
// memory's projections from one pass to the next (Footprint.MemoryCached); a
// builder's error gives false (walk reports it).
func (w *walker) decoderCaches() (steps, memoryCached bool) {
	s := w.spec
	steps, memoryCached = true, true
	for i := range s.DecoderLayers {
		for _, sub := range []struct {
			part    string
			builder any
		}{{"self_attn", s.Attention}, {"cross_attn", s.Attention}, {"ffn", s.FFN}} {
			f, err := layers.SizerOf(sub.builder).Footprint(w.site(layers.Decoder, i, sub.part))
			if err != nil {
				return false, false
			}
			steps = steps && f.Step != nil
			memoryCached = memoryCached && (sub.part != "cross_attn" || f.MemoryCached)
		}
	}
	return steps, memoryCached
}

// stack counts one stack of n blocks run as p.
func (w *walker) stack(name layers.Stack, n int, p pass) {
	s, c := w.spec, &w.c
	d := int64(s.DModel)
	// The embedding lookup: its output (whose gradient the residual add adopts) and
	// the ids.
	w.acts(c.mul(p.rows, d), p.rows)
	// In a generation one step at a time, the cross-attention's memory is read at the
	// first step only, into its cache.
	memRows := p.memRows
	if p.crossCache > 0 {
		memRows = 0
	}
	for i := range n {
		w.norm()
		ss := w.site(name, i, "self_attn")
		st := w.sublayer("attention", s.Attention, ss, p.calls, p.rows, p.examples, p.rows, p.pairs, p.shared)
		w.stepCache("attention", s.Attention, ss, st, p.selfCache, p.cacheExamples)
		if name == layers.Decoder {
			w.norm()
			cs := w.site(name, i, "cross_attn")
			st = w.sublayer("attention", s.Attention, cs, p.calls, p.rows, p.examples, memRows, p.cross, 0)
			w.stepCache("attention", s.Attention, cs, st, p.crossCache, p.cacheExamples)
		}
		w.norm()
		fs := w.site(name, i, "ffn")
		st = w.sublayer("ffn", s.FFN, fs, p.calls, p.rows, p.examples, 0, 0, 0)
		w.stepCache("ffn", s.FFN, fs, st, 0, p.cacheExamples)
	}
	w.norm()
	// The final norm: output and row statistics, and when training the gradients of
	// its output and its input.
	if w.train {
		w.acts(c.mul(3, p.rows, d), c.mul(w.rowStats(), p.rows))
	} else {
		w.acts(c.mul(p.rows, d), c.mul(w.rowStats(), p.rows))
	}
}

// stepCache counts what the sublayer key's builder creates at site keeps in its step
// cache (st, its footprint's: nil after an error sublayer reported) for positions (example, position)
// pairs and examples examples (nothing when both are 0: no generation one position at
// a time).
func (w *walker) stepCache(key string, builder any, site layers.Site, st *layers.StepFootprint, positions, examples int64) {
	if st == nil || (positions == 0 && examples == 0) {
		return // decoderCaches checked the Step where a generation counts it
	}
	if st.CachePerPosition < 0 || st.CachePerExample < 0 {
		w.errs = append(w.errs, fmt.Errorf("model: %s %T reports a negative step cache %+v at %s", key, builder, *st, site.Prefix))
		return
	}
	c := &w.c
	w.acts(c.mul(st.CachePerPosition, positions), c.mul(st.CachePerExample, examples))
}

// norm counts a norm's parameters.
func (w *walker) norm() {
	d := int64(w.spec.DModel)
	w.param(1, d)
	if w.spec.Norm == layers.LayerNormKind {
		w.param(1, d)
	}
}

// rowStats is the number of per-row statistics a norm keeps: RMSNorm's inverse RMS,
// LayerNorm's mean and inverse deviation.
func (w *walker) rowStats() int64 {
	if w.spec.Norm == layers.LayerNormKind {
		return 2
	}
	return 1
}

// callSlack is the allowance, in values, for the small buffers a sublayer takes per
// forward pass whatever the batch (the fused GLU activation's chunks, the attention's
// list of masked keys, ...): it keeps the estimate above what the tape holds.
const callSlack = 8192

// sublayer counts the sublayer key's builder creates at site, run calls times over
// rows rows of examples examples, and the activations of the block around it: its
// pre-norm (output, row statistics and, when training, the gradient of its output), the
// sublayer's output and the residual add;
// the builder's own activations count twice in training (their gradients), and
// callSlack once per call. It returns the footprint's Step (for stepCache), nil after
// an error it reported.
func (w *walker) sublayer(key string, builder any, site layers.Site, calls, rows, examples, memRows, pairs, shared int64) *layers.StepFootprint {
	c := &w.c
	f, err := layers.SizerOf(builder).Footprint(site)
	if err != nil {
		for _, e := range registry.Prefix(key, err) {
			if !w.failed[e.Error()] {
				w.failed[e.Error()] = true
				w.errs = append(w.errs, e)
			}
		}
		return nil
	}
	for _, sh := range f.Params {
		if sh.Rows <= 0 || sh.Cols <= 0 {
			w.errs = append(w.errs, fmt.Errorf("model: %s %T reports a parameter of shape %d×%d at %s", key, builder, sh.Rows, sh.Cols, site.Prefix))
			return nil
		}
		w.param(sh.Rows, sh.Cols)
	}
	a := f.Activations
	if a.PerRow < 0 || a.PerMemoryRow < 0 || a.PerExample < 0 || a.PerPair < 0 || a.PerSharedPair < 0 ||
		a.GradFreeRow < 0 || a.GradFreeRow > a.PerRow {
		w.errs = append(w.errs, fmt.Errorf("model: %s %T reports activations %+v at %s: a count is negative, or GradFreeRow is above PerRow", key, builder, a, site.Prefix))
		return nil
	}
	// ownWith counts the footprint's values with perRow per row.
	ownWith := func(perRow int64) int64 {
		return c.add(c.mul(perRow, rows), c.mul(a.PerMemoryRow, memRows), c.mul(a.PerExample, examples),
			c.mul(a.PerPair, pairs), c.mul(a.PerSharedPair, shared))
	}
	own := ownWith(a.PerRow)
	d := int64(w.spec.DModel)
	rd := c.mul(rows, d)
	stats, slack := c.mul(w.rowStats(), rows), c.mul(callSlack, calls)
	if !w.train {
		// Norm output, sublayer output, residual sum.
		w.acts(own, c.mul(3, rd), stats, slack)
		return f.Step
	}
	// The norm's output and its gradient (the gradient of its input adds into the
	// residual stream's), the sublayer's output and its gradient, the residual sum
	// (autograd.AddDropout keeps neither its mask, drawn again going back, nor a
	// dropped-out copy of the output).
	w.acts(own, ownWith(a.PerRow-a.GradFreeRow), c.mul(2+2+1, rd), stats, slack)
	return f.Step
}
