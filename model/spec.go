package model

import (
	"fmt"
	"math"

	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/registry"
)

// Architectures for Spec.Arch.
const (
	ArchT5      = "t5"      // encoder-decoder, text-to-text
	ArchEncoder = "encoder" // encoder-only with per-task heads
)

// Task kinds for TaskSpec.Kind.
const (
	Classification = "classification"
	Regression     = "regression"
)

// Poolings for Spec.Pooling (encoder-only heads).
const (
	PoolFirstToken = "first_token"
	PoolMean       = "mean"
)

// RelativeAttention configures T5's relative position buckets.
type RelativeAttention struct {
	// Buckets is the number of relative position buckets (0 disables the bias).
	Buckets int `yaml:"buckets"`
	// MaxDistance is the distance beyond which all offsets share one bucket.
	MaxDistance int `yaml:"max_distance"`
}

// TaskSpec describes one task of the model.
type TaskSpec struct {
	// Name identifies the task (e.g. "sst2"); parameter names of its head use it.
	Name string `yaml:"name"`
	// Kind is classification or regression (encoder-only heads; a T5 model is
	// text-to-text and ignores it).
	Kind string `yaml:"kind"`
	// Classes is the number of labels of a classification task.
	Classes int `yaml:"classes"`
}

// Spec is a whole architecture as typed values. The plain fields carry the yaml tags
// of a recipe's model: section; FFN and Attention are filled from that section's
// type-tagged sub-mappings "ffn:" and "attention:" by the recipe loader.
type Spec struct {
	// Arch is "t5" (encoder-decoder) or "encoder" (encoder-only).
	Arch string `yaml:"arch"`
	// Vocab is the vocabulary size; token id 0 is padding (and T5's decoder start).
	Vocab int `yaml:"vocab"`
	// DModel is the width of the residual stream.
	DModel int `yaml:"d_model"`
	// Heads and DKV are the number of attention heads and the width of each.
	Heads int `yaml:"heads"`
	DKV   int `yaml:"d_kv"`
	// EncoderLayers and DecoderLayers are the blocks per stack (DecoderLayers must be
	// 0 for an encoder-only model).
	EncoderLayers int `yaml:"encoder_layers"`
	DecoderLayers int `yaml:"decoder_layers"`
	// RelativeAttention configures the relative position bias.
	RelativeAttention RelativeAttention `yaml:"relative_attention"`
	// TieEmbeddings shares the token embedding with the output projection (T5.1.0);
	// false gives T5.1.1's separate lm_head.
	TieEmbeddings bool `yaml:"tie_embeddings"`
	// Norm is "rms" (T5) or "layer".
	Norm layers.NormKind `yaml:"norm"`
	// Eps is the normalisation's epsilon.
	Eps float64 `yaml:"eps"`
	// Dropout is the dropout rate on every sublayer's output (before the residual add).
	Dropout float64 `yaml:"dropout"`
	// LabelSmoothing is the label smoothing of the cross-entropy losses.
	LabelSmoothing float64 `yaml:"label_smoothing"`
	// Pooling is how an encoder-only model pools a sequence for its heads:
	// first_token or mean.
	Pooling string `yaml:"pooling"`
	// Tasks lists the tasks; the order gives the task indices of a batch. A T5 model
	// needs them only for task-conditioned layers (task_embedding); an encoder-only
	// model needs one head per task. The recipe loader may fill it from the recipe's
	// tasks section.
	Tasks []TaskSpec `yaml:"tasks"`

	// Attention builds every attention sublayer (recipe key "attention").
	Attention layers.AttentionBuilder `yaml:"-"`
	// FFN builds every feed-forward sublayer (recipe key "ffn").
	FFN layers.FFNBuilder `yaml:"-"`
}

// DefaultSpec returns the t5-mini architecture: vocabulary 8000, d_model 256, 4+4
// layers of 4 heads of 64, GEGLU d_ff 1024, 32 relative buckets up to distance 128,
// untied output projection, RMSNorm with eps 1e-6, dropout 0.1.
func DefaultSpec() Spec {
	return Spec{
		Arch: ArchT5, Vocab: 8000, DModel: 256, Heads: 4, DKV: 64,
		EncoderLayers: 4, DecoderLayers: 4,
		RelativeAttention: RelativeAttention{Buckets: 32, MaxDistance: 128},
		Norm:              layers.RMSNormKind, Eps: 1e-6, Dropout: 0.1,
		Pooling:   PoolFirstToken,
		Attention: layers.DefaultT5AttentionConfig(),
		FFN:       layers.DefaultGLUConfig(),
	}
}

// Bounds on a spec's sizes (see also layers.MaxWidth, which bounds d_model, heads, d_kv,
// the relative buckets and the number of tasks, and layers.MaxElements, which bounds
// vocab·d_model, heads·d_kv·d_model, buckets·heads and d_model·classes; the builders
// bound their own sizes, e.g. d_ff and d_model·d_ff). They only keep every product
// used to build a model far from overflowing; whether a model fits in memory is
// Estimate's question.
const (
	// MaxVocab is the largest vocabulary: token ids are int32.
	MaxVocab = math.MaxInt32
	// MaxLayers is the largest number of blocks of one stack.
	MaxLayers = 4096
	// MaxClasses is the largest number of classes of a classification task: labels
	// are int32.
	MaxClasses = math.MaxInt32
)

// Validate reports every invalid setting as a *registry.FieldError whose path is
// relative to the model section ("d_model", "tasks[1].classes", ...). Errors of the
// pluggable builders are reported with "ffn." or "attention." prefixed to their
// paths when the builder has a Validate() []error method. Sizes beyond the bounds
// (MaxVocab, MaxLayers, MaxClasses, layers.MaxWidth, layers.MaxElements) are errors
// too, so that building a valid spec cannot overflow; whether it fits in memory is
// Estimate's question. A few bounds that depend on the builders' settings together
// with the spec's (such as d_model·d_ff) are checked when the builders build, or size,
// each site: New and Estimate report them.
func (s *Spec) Validate() []error {
	errs := s.ValidateFields()
	if s.Attention != nil {
		errs = append(errs, prefixed("attention", s.Attention)...)
	}
	if s.FFN != nil {
		errs = append(errs, prefixed("ffn", s.FFN)...)
	}
	return errs
}

// ValidateFields is Validate without the pluggable builders' own checks: it reports
// the spec's own fields, and a missing builder. A recipe loader that validates each
// builder when it decodes it uses this, so that no problem is reported twice.
func (s *Spec) ValidateFields() []error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, registry.FieldErrorf(path, format, args...))
	}
	if s.Arch != ArchT5 && s.Arch != ArchEncoder {
		add("arch", "is %q; want t5 or encoder", s.Arch)
	}
	vocabOK, dModelOK, headsOK, dkvOK := true, true, true, true
	if s.Vocab < 2 {
		add("vocab", "is %d; want at least 2 (id 0 is padding)", s.Vocab)
		vocabOK = false
	} else if s.Vocab > MaxVocab {
		add("vocab", "is %d; want at most %d (token ids are int32): use a smaller vocabulary", s.Vocab, MaxVocab)
		vocabOK = false
	}
	if s.DModel <= 0 {
		add("d_model", "is %d; want a positive width", s.DModel)
		dModelOK = false
	} else if s.DModel > layers.MaxWidth {
		add("d_model", "is %d; want at most %d (2^20): use a width such as 512", s.DModel, layers.MaxWidth)
		dModelOK = false
	}
	if s.Heads <= 0 {
		add("heads", "is %d; want a positive number of heads", s.Heads)
		headsOK = false
	} else if s.Heads > layers.MaxWidth {
		add("heads", "is %d; want at most %d (2^20): use a number of heads such as 8", s.Heads, layers.MaxWidth)
		headsOK = false
	}
	if s.DKV <= 0 {
		add("d_kv", "is %d; want a positive head width (d_model/heads is usual)", s.DKV)
		dkvOK = false
	} else if s.DKV > layers.MaxWidth {
		add("d_kv", "is %d; want at most %d (2^20): d_model/heads is usual", s.DKV, layers.MaxWidth)
		dkvOK = false
	}
	if vocabOK && dModelOK {
		if _, ok := layers.Elements(s.Vocab, s.DModel); !ok {
			add("vocab", "is %d, which with d_model %d makes an embedding of more than %d (2^36) values; reduce vocab or d_model", s.Vocab, s.DModel, layers.MaxElements)
		}
	}
	if headsOK && dkvOK && dModelOK {
		if _, ok := layers.Elements(s.Heads, s.DKV, s.DModel); !ok {
			add("d_kv", "is %d, which with %d heads and d_model %d makes attention projections of more than %d (2^36) values; reduce d_kv, heads or d_model", s.DKV, s.Heads, s.DModel, layers.MaxElements)
		}
	}
	if s.EncoderLayers <= 0 {
		add("encoder_layers", "is %d; want at least 1", s.EncoderLayers)
	} else if s.EncoderLayers > MaxLayers {
		add("encoder_layers", "is %d; want at most %d (T5-XXL has 24)", s.EncoderLayers, MaxLayers)
	}
	switch {
	case s.Arch == ArchT5 && s.DecoderLayers <= 0:
		add("decoder_layers", "is %d; a t5 model needs at least 1", s.DecoderLayers)
	case s.Arch == ArchEncoder && s.DecoderLayers != 0:
		add("decoder_layers", "is %d; an encoder model has no decoder (set 0 or arch: t5)", s.DecoderLayers)
	case s.DecoderLayers > MaxLayers:
		add("decoder_layers", "is %d; want at most %d (T5-XXL has 24)", s.DecoderLayers, MaxLayers)
	}
	if s.RelativeAttention.Buckets < 0 || s.RelativeAttention.Buckets == 1 || s.RelativeAttention.Buckets%2 != 0 {
		add("relative_attention.buckets", "is %d; want 0 (no bias) or an even number >= 2", s.RelativeAttention.Buckets)
	} else if s.RelativeAttention.Buckets > layers.MaxWidth {
		add("relative_attention.buckets", "is %d; want at most %d (2^20); T5 uses 32", s.RelativeAttention.Buckets, layers.MaxWidth)
	} else if _, ok := layers.Elements(s.RelativeAttention.Buckets, s.Heads); headsOK && s.RelativeAttention.Buckets > 0 && !ok {
		add("relative_attention.buckets", "is %d, which with %d heads makes a bias table of more than %d (2^36) values; T5 uses 32", s.RelativeAttention.Buckets, s.Heads, layers.MaxElements)
	} else if s.RelativeAttention.Buckets > 0 && s.RelativeAttention.MaxDistance <= s.RelativeAttention.Buckets/2 {
		add("relative_attention.max_distance", "is %d; want more than buckets/2 (%d)", s.RelativeAttention.MaxDistance, s.RelativeAttention.Buckets/2)
	}
	if !s.Norm.Valid() {
		add("norm", "is %q; want rms or layer", string(s.Norm))
	}
	if !(s.Eps > 0 && s.Eps < 1) {
		add("eps", "is %v; want a small positive value such as 1e-6", s.Eps)
	}
	if !(s.Dropout >= 0 && s.Dropout < 1) {
		add("dropout", "is %v; want a rate in [0, 1)", s.Dropout)
	}
	if !(s.LabelSmoothing >= 0 && s.LabelSmoothing < 1) {
		add("label_smoothing", "is %v; want a value in [0, 1)", s.LabelSmoothing)
	}
	if s.Arch == ArchEncoder {
		if s.Pooling != PoolFirstToken && s.Pooling != PoolMean {
			add("pooling", "is %q; want first_token or mean", s.Pooling)
		}
		if len(s.Tasks) == 0 {
			add("tasks", "is empty; an encoder model needs at least one task with its head")
		}
	}
	if len(s.Tasks) > layers.MaxWidth {
		add("tasks", "lists %d tasks; want at most %d (2^20)", len(s.Tasks), layers.MaxWidth)
	}
	seen := map[string]int{}
	for i, t := range s.Tasks {
		p := fmt.Sprintf("tasks[%d]", i)
		if t.Name == "" {
			add(p+".name", "is empty; name the task")
		} else if j, dup := seen[t.Name]; dup {
			add(p+".name", "repeats %q of tasks[%d]", t.Name, j)
		} else {
			seen[t.Name] = i
		}
		if s.Arch != ArchEncoder {
			continue
		}
		switch t.Kind {
		case Classification:
			if t.Classes < 2 {
				add(p+".classes", "is %d; a classification task needs at least 2 classes", t.Classes)
			} else if t.Classes > MaxClasses {
				add(p+".classes", "is %d; want at most %d (labels are int32)", t.Classes, MaxClasses)
			} else if _, ok := layers.Elements(s.DModel, t.Classes); dModelOK && !ok {
				add(p+".classes", "is %d, which with d_model %d makes a head of more than %d (2^36) values; reduce the classes", t.Classes, s.DModel, layers.MaxElements)
			}
		case Regression:
			if t.Classes != 0 {
				add(p+".classes", "is %d; a regression task has no classes (omit it)", t.Classes)
			}
		default:
			add(p+".kind", "is %q; want classification or regression", t.Kind)
		}
	}
	if s.Attention == nil {
		add("attention", "is missing; set e.g. {type: attn.t5}")
	}
	if s.FFN == nil {
		add("ffn", "is missing; set e.g. {type: ffn.glu} or {type: ffn.hypergrid}")
	}
	return errs
}

// prefixed validates a pluggable builder and prefixes its field paths.
func prefixed(prefix string, b any) []error {
	v, ok := b.(interface{ Validate() []error })
	if !ok {
		return nil
	}
	return registry.Prefix(prefix, v.Validate()...)
}
