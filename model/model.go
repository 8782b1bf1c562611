package model

import (
	"errors"
	"fmt"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/registry"
)

// block is one Transformer block: pre-norm self-attention, (decoder) pre-norm
// cross-attention and pre-norm feed-forward, each added to the residual stream.
type block struct {
	selfNorm, crossNorm, ffnNorm *layers.Norm
	self, cross                  layers.Attention
	ffn                          layers.FeedForward
}

// stack is the encoder or the decoder: its blocks and its final norm.
type stack struct {
	name   layers.Stack
	blocks []*block
	final  *layers.Norm
	state  layers.StackState
}

// taskHead is an encoder-only model's output head for one task.
type taskHead struct {
	cls *layers.ClassificationHead
	reg *layers.RegressionHead
}

// Model is a built architecture with its parameters. Its forward methods reuse
// scratch buffers, so one Model must not run two forward passes at once.
type Model struct {
	// Spec is the architecture the model was built from.
	Spec Spec

	embed   *layers.Embedding
	encoder *stack
	decoder *stack // nil for an encoder-only model
	lm      *layers.LMHead
	heads   []taskHead
	params  []*autograd.Param

	ctx     layers.Context
	scratch scratch
}

// New builds the model described by spec, with parameters drawn deterministically
// from seed. Invalid settings are reported together, as *registry.FieldError values
// whose paths are relative to the model section (see Spec.Validate), joined with
// errors.Join.
func New(spec Spec, seed uint64) (*Model, error) {
	if errs := spec.Validate(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m := &Model{Spec: spec}
	init := layers.NewInit(seed)
	m.embed = layers.NewEmbedding(init, "embedding", spec.Vocab, spec.DModel)
	m.params = append(m.params, m.embed.Table)
	var errs []error
	failed := map[string]bool{} // the builders' errors so far: each is reported once
	m.encoder, errs = m.buildStack(layers.Encoder, spec.EncoderLayers, init, failed, errs)
	if spec.Arch == ArchT5 {
		m.decoder, errs = m.buildStack(layers.Decoder, spec.DecoderLayers, init, failed, errs)
		var tied *layers.Embedding
		if spec.TieEmbeddings {
			tied = m.embed
		}
		m.lm = layers.NewLMHead(init, "lm_head", spec.DModel, spec.Vocab, tied, spec.LabelSmoothing)
		m.params = append(m.params, m.lm.Params()...)
	} else {
		for _, t := range spec.Tasks {
			name := "heads." + t.Name
			var h taskHead
			if t.Kind == Classification {
				h.cls = layers.NewClassificationHead(init, name, spec.DModel, t.Classes, spec.LabelSmoothing)
				m.params = append(m.params, h.cls.Params()...)
			} else {
				h.reg = layers.NewRegressionHead(init, name, spec.DModel)
				m.params = append(m.params, h.reg.Params()...)
			}
			for _, p := range m.params[len(m.params)-2:] {
				p.PerTask = true
			}
			m.heads = append(m.heads, h)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	seen := map[string]bool{}
	for _, p := range m.params {
		if seen[p.Name] {
			return nil, fmt.Errorf("model: two parameters are named %q (a plugin reuses a name; give its parameters names under its site's prefix)", p.Name)
		}
		seen[p.Name] = true
	}
	return m, nil
}

// buildStack builds one stack's blocks, collecting the builders' errors (reported
// once over the whole model, with field paths under "attention." and "ffn."): failed
// records the errors reported already.
func (m *Model) buildStack(name layers.Stack, n int, init *layers.Init, failed map[string]bool, errs []error) (*stack, []error) {
	s := m.Spec
	st := &stack{name: name}
	norm := func(prefix string) *layers.Norm {
		nm := layers.NewNorm(prefix, s.Norm, s.DModel, s.Eps)
		m.params = append(m.params, nm.Params()...)
		return nm
	}
	site := func(layer int, part string) layers.Site {
		return layers.Site{
			Stack: name, Layer: layer, Prefix: fmt.Sprintf("%s.block.%d.%s", name, layer, part),
			DModel: s.DModel, Heads: s.Heads, DKV: s.DKV,
			RelativeBuckets: s.RelativeAttention.Buckets, RelativeMaxDistance: s.RelativeAttention.MaxDistance,
			NumTasks: len(s.Tasks), Init: init,
		}
	}
	fail := func(component string, err error) {
		for _, e := range registry.Prefix(component, err) {
			if !failed[e.Error()] {
				failed[e.Error()] = true
				errs = append(errs, e)
			}
		}
	}
	for i := range n {
		b := &block{}
		b.selfNorm = norm(fmt.Sprintf("%s.block.%d.self_attn_norm", name, i))
		ss := site(i, "self_attn")
		ss.Causal = name == layers.Decoder
		a, err := s.Attention.BuildAttention(ss)
		if err != nil {
			fail("attention", err)
		} else {
			b.self = a
			m.params = append(m.params, a.Params()...)
		}
		if name == layers.Decoder {
			b.crossNorm = norm(fmt.Sprintf("%s.block.%d.cross_attn_norm", name, i))
			cs := site(i, "cross_attn")
			cs.Cross = true
			a, err := s.Attention.BuildAttention(cs)
			if err != nil {
				fail("attention", err)
			} else {
				b.cross = a
				m.params = append(m.params, a.Params()...)
			}
		}
		b.ffnNorm = norm(fmt.Sprintf("%s.block.%d.ffn_norm", name, i))
		f, err := s.FFN.BuildFFN(site(i, "ffn"))
		if err != nil {
			fail("ffn", err)
		} else {
			b.ffn = f
			m.params = append(m.params, f.Params()...)
		}
		st.blocks = append(st.blocks, b)
	}
	st.final = norm(string(name) + ".final_norm")
	return st, errs
}

// Params lists every parameter in a fixed order: the embedding, the encoder's blocks,
// its final norm, then the decoder and the output projection (or the task heads).
func (m *Model) Params() []*autograd.Param { return m.params }

// NumParams is the total number of parameter values.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Size()
	}
	return n
}

// ZeroGrad clears every parameter's gradient.
func (m *Model) ZeroGrad() { autograd.ZeroGrads(m.params) }

// DeferZeroGrad zeroes every parameter's gradient the deferred way
// (autograd.DeferZeroGrads): call SettleGrads after the Backward that follows.
func (m *Model) DeferZeroGrad() { autograd.DeferZeroGrads(m.params) }

// SettleGrads completes DeferZeroGrad after a Backward (autograd.SettleGrads).
func (m *Model) SettleGrads() { autograd.SettleGrads(m.params) }
