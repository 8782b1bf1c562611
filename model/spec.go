package model

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/layers"
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

// Validate reports every invalid setting as a *layers.FieldError whose path is
// relative to the model section ("d_model", "tasks[1].classes", ...). Errors of the
// pluggable builders are reported with "ffn." or "attention." prefixed to their
// paths when the builder has a Validate() []error method.
func (s *Spec) Validate() []error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, &layers.FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if s.Arch != ArchT5 && s.Arch != ArchEncoder {
		add("arch", "is %q; want t5 or encoder", s.Arch)
	}
	if s.Vocab < 2 {
		add("vocab", "is %d; want at least 2 (id 0 is padding)", s.Vocab)
	}
	if s.DModel <= 0 {
		add("d_model", "is %d; want a positive width", s.DModel)
	}
	if s.Heads <= 0 {
		add("heads", "is %d; want a positive number of heads", s.Heads)
	}
	if s.DKV <= 0 {
		add("d_kv", "is %d; want a positive head width (d_model/heads is usual)", s.DKV)
	}
	if s.EncoderLayers <= 0 {
		add("encoder_layers", "is %d; want at least 1", s.EncoderLayers)
	}
	switch {
	case s.Arch == ArchT5 && s.DecoderLayers <= 0:
		add("decoder_layers", "is %d; a t5 model needs at least 1", s.DecoderLayers)
	case s.Arch == ArchEncoder && s.DecoderLayers != 0:
		add("decoder_layers", "is %d; an encoder model has no decoder (set 0 or arch: t5)", s.DecoderLayers)
	}
	if s.RelativeAttention.Buckets < 0 || s.RelativeAttention.Buckets == 1 || s.RelativeAttention.Buckets%2 != 0 {
		add("relative_attention.buckets", "is %d; want 0 (no bias) or an even number >= 2", s.RelativeAttention.Buckets)
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
	} else {
		errs = append(errs, prefixed("attention", s.Attention)...)
	}
	if s.FFN == nil {
		add("ffn", "is missing; set e.g. {type: ffn.glu} or {type: hyper.grid}")
	} else {
		errs = append(errs, prefixed("ffn", s.FFN)...)
	}
	return errs
}

// prefixed validates a pluggable builder and prefixes its field paths.
func prefixed(prefix string, b any) []error {
	v, ok := b.(interface{ Validate() []error })
	if !ok {
		return nil
	}
	var out []error
	for _, e := range v.Validate() {
		if fe, ok := e.(interface{ Field() string }); ok {
			out = append(out, &layers.FieldError{Path: prefix + "." + fe.Field(), Msg: fieldMsg(e, fe.Field())})
		} else {
			out = append(out, &layers.FieldError{Path: prefix, Msg: e.Error()})
		}
	}
	return out
}

// fieldMsg strips a "path: " prefix from a field error's message.
func fieldMsg(e error, path string) string {
	if fe, ok := e.(*layers.FieldError); ok {
		return fe.Msg
	}
	msg := e.Error()
	if len(msg) > len(path)+2 && msg[:len(path)+2] == path+": " {
		return msg[len(path)+2:]
	}
	return msg
}
