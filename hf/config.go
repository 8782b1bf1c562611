package hf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
)

// MaxConfigSize bounds config.json (and the other small JSON files of a folder):
// 1 MiB; Hugging Face's T5 configs are about 1.5 KB.
const MaxConfigSize = 1 << 20

// Config is the part of a Hugging Face T5 config.json that shapes the model. Absent
// keys take transformers' T5Config defaults (see ParseConfig); keys that do not change
// the computation (architectures, torch_dtype, task_specific_params, ...) are ignored.
type Config struct {
	ModelType                    string   `json:"model_type"`
	Architectures                []string `json:"architectures,omitempty"`
	VocabSize                    int      `json:"vocab_size"`
	DModel                       int      `json:"d_model"`
	DKV                          int      `json:"d_kv"`
	DFF                          int      `json:"d_ff"`
	NumLayers                    int      `json:"num_layers"`
	NumDecoderLayers             *int     `json:"num_decoder_layers"`
	NumHeads                     int      `json:"num_heads"`
	RelativeAttentionNumBuckets  int      `json:"relative_attention_num_buckets"`
	RelativeAttentionMaxDistance int      `json:"relative_attention_max_distance"`
	DropoutRate                  float64  `json:"dropout_rate"`
	LayerNormEpsilon             float64  `json:"layer_norm_epsilon"`
	FeedForwardProj              string   `json:"feed_forward_proj"`
	TieWordEmbeddings            bool     `json:"tie_word_embeddings"`
	IsEncoderDecoder             bool     `json:"is_encoder_decoder"`
	PadTokenID                   *int     `json:"pad_token_id"`
	EOSTokenID                   *int     `json:"eos_token_id"`
	DecoderStartTokenID          *int     `json:"decoder_start_token_id"`
}

// defaultConfig is transformers' T5Config() (t5-small's shape, ReLU, tied).
func defaultConfig() Config {
	return Config{ModelType: "t5", VocabSize: 32128, DModel: 512, DKV: 64, DFF: 2048, NumLayers: 6,
		NumHeads: 8, RelativeAttentionNumBuckets: 32, RelativeAttentionMaxDistance: 128, DropoutRate: 0.1,
		LayerNormEpsilon: 1e-6, FeedForwardProj: "relu", TieWordEmbeddings: true, IsEncoderDecoder: true}
}

// defaultMT5Config is transformers' MT5Config() (mt5-small: gated-gelu, untied).
func defaultMT5Config() Config {
	c := defaultConfig()
	c.ModelType, c.VocabSize, c.DFF, c.NumLayers, c.NumHeads = "mt5", 250112, 1024, 8, 6
	c.FeedForwardProj, c.TieWordEmbeddings = "gated-gelu", false
	return c
}

// ParseConfig decodes a config.json (name names it in errors). Absent keys take
// transformers' defaults (T5Config's, or MT5Config's for model_type mt5); a key of the wrong JSON type is an error naming it.
func ParseConfig(name string, b []byte) (Config, error) {
	c := defaultConfig()
	var kind struct {
		ModelType string `json:"model_type"`
	}
	if json.Unmarshal(b, &kind) == nil && kind.ModelType == "mt5" {
		c = defaultMT5Config()
	}
	if len(b) > MaxConfigSize {
		return c, fmt.Errorf("%s: %d bytes, over the %d-byte limit of a config.json", name, len(b), MaxConfigSize)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return c, fmt.Errorf("%s: key %q is %s, want a JSON %s", name, te.Field, te.Value, te.Type)
		}
		return c, fmt.Errorf("%s: not a JSON object: %v", name, err)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		return c, fmt.Errorf("%s: not a JSON object", name)
	}
	return c, nil
}

// Activation maps feed_forward_proj to the feed-forward layer: "relu" (T5 v1.0),
// "gated-gelu" (v1.1, flan, t5-efficient: transformers' gelu_new, the tanh GELU),
// "gated-relu", "gated-silu", "silu", and the tanh GELUs "gelu_new" and
// "gelu_pytorch_tanh" with or without "gated-". Plain "gelu" is the exact (erf) GELU,
// which this program does not implement.
func (c Config) Activation() (layers.Activation, bool, error) {
	p := c.FeedForwardProj
	if p == "gated-gelu" {
		return layers.GELU, true, nil
	}
	gated := false
	act := p
	if rest, ok := strings.CutPrefix(p, "gated-"); ok {
		gated, act = true, rest
	}
	switch act {
	case "relu":
		return layers.ReLU, gated, nil
	case "silu", "swish":
		return layers.SiLU, gated, nil
	case "gelu_new", "gelu_pytorch_tanh":
		return layers.GELU, gated, nil
	case "gelu":
		return "", false, fmt.Errorf("feed_forward_proj %q is the exact (erf) GELU, which this program does not implement (its gelu is the tanh approximation, transformers' gelu_new); supported: relu, gated-gelu, gated-relu, gated-silu, silu, gelu_new", p)
	}
	return "", false, fmt.Errorf("feed_forward_proj %q is not supported; want relu, gated-gelu, gated-relu, gated-silu, silu or gelu_new", p)
}

// DecoderLayers is num_decoder_layers, or num_layers when it is null or absent.
func (c Config) DecoderLayers() int {
	if c.NumDecoderLayers != nil {
		return *c.NumDecoderLayers
	}
	return c.NumLayers
}

// Spec returns the model this config describes, with ffn.glu and attn.t5 sublayers.
// Every unsupported or invalid value is reported, all together, naming its key.
func (c Config) Spec() (model.Spec, error) {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config.json: %s %s", key, fmt.Sprintf(format, args...)))
	}
	if c.ModelType != "t5" && c.ModelType != "mt5" {
		bad("model_type", "is %q; this importer reads T5 models (t5, mt5: T5ForConditionalGeneration, t5-v1_1, flan-t5, t5-efficient, mt5)", c.ModelType)
	}
	if !c.IsEncoderDecoder {
		bad("is_encoder_decoder", "is false; only encoder-decoder T5 models are imported")
	}
	act, gated, err := c.Activation()
	if err != nil {
		errs = append(errs, fmt.Errorf("config.json: %w", err))
	}
	positive := []struct {
		key string
		v   int
	}{{"vocab_size", c.VocabSize}, {"d_model", c.DModel}, {"d_kv", c.DKV}, {"d_ff", c.DFF}, {"num_layers", c.NumLayers},
		{"num_decoder_layers", c.DecoderLayers()}, {"num_heads", c.NumHeads},
		{"relative_attention_num_buckets", c.RelativeAttentionNumBuckets}, {"relative_attention_max_distance", c.RelativeAttentionMaxDistance}}
	for _, p := range positive {
		if p.v <= 0 {
			bad(p.key, "is %d; want a positive number", p.v)
		}
	}
	if !(c.LayerNormEpsilon > 0 && c.LayerNormEpsilon < 1) {
		bad("layer_norm_epsilon", "is %v; want a small positive number such as 1e-6", c.LayerNormEpsilon)
	}
	if !(c.DropoutRate >= 0 && c.DropoutRate < 1) {
		bad("dropout_rate", "is %v; want a rate in [0, 1)", c.DropoutRate)
	}
	for _, id := range []struct {
		key  string
		v    *int
		want int
	}{{"pad_token_id", c.PadTokenID, 0}, {"eos_token_id", c.EOSTokenID, 1}, {"decoder_start_token_id", c.DecoderStartTokenID, 0}} {
		if id.v != nil && *id.v != id.want {
			bad(id.key, "is %d; this program's T5 uses %d (pad 0 = decoder start, EOS 1)", *id.v, id.want)
		}
	}
	if len(errs) > 0 {
		return model.Spec{}, errors.Join(errs...)
	}
	s := model.Spec{
		Arch: model.ArchT5, Vocab: c.VocabSize, DModel: c.DModel, Heads: c.NumHeads, DKV: c.DKV,
		EncoderLayers: c.NumLayers, DecoderLayers: c.DecoderLayers(),
		RelativeAttention: model.RelativeAttention{Buckets: c.RelativeAttentionNumBuckets, MaxDistance: c.RelativeAttentionMaxDistance},
		TieEmbeddings:     c.TieWordEmbeddings, Norm: layers.RMSNormKind, Eps: c.LayerNormEpsilon, Dropout: c.DropoutRate,
		Attention: layers.DefaultT5AttentionConfig(),
		FFN:       &layers.GLUConfig{DFF: c.DFF, Activation: act, Gated: gated},
	}
	if verrs := s.Validate(); len(verrs) > 0 {
		return model.Spec{}, fmt.Errorf("config.json describes a model this program cannot build: %w", errors.Join(verrs...))
	}
	return s, nil
}

// ConfigFor returns the config.json of a dense T5 spec (ffn.glu, attn.t5 without
// score scaling, RMS norm): what Export writes. It reports why a spec has no Hugging
// Face equivalent.
func ConfigFor(s model.Spec, glu layers.GLUConfig) (Config, error) {
	var errs []error
	if s.Arch != model.ArchT5 {
		errs = append(errs, fmt.Errorf("model.arch is %q; only the encoder-decoder (t5) exports as T5ForConditionalGeneration", s.Arch))
	}
	if s.Norm != layers.RMSNormKind {
		errs = append(errs, fmt.Errorf("model.norm is %q; Hugging Face's T5 uses rms", s.Norm))
	}
	if s.RelativeAttention.Buckets <= 0 {
		errs = append(errs, fmt.Errorf("model.relative_attention.buckets is %d; Hugging Face's T5 always has a relative position bias", s.RelativeAttention.Buckets))
	}
	if a, ok := s.Attention.(*layers.T5AttentionConfig); !ok {
		errs = append(errs, fmt.Errorf("model.attention is %T; only attn.t5 exports", s.Attention))
	} else if a.ScaleScores {
		errs = append(errs, errors.New("model.attention.scale_scores is true; Hugging Face's T5 does not scale the scores"))
	}
	var proj string
	switch {
	case glu.Activation == layers.GELU && glu.Gated:
		proj = "gated-gelu"
	case glu.Activation == layers.GELU:
		proj = "gelu_new"
	case glu.Gated:
		proj = "gated-" + string(glu.Activation)
	default:
		proj = string(glu.Activation)
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	zero, one := 0, 1
	dec := s.DecoderLayers
	return Config{
		ModelType: "t5", Architectures: []string{"T5ForConditionalGeneration"}, VocabSize: s.Vocab, DModel: s.DModel,
		DKV: s.DKV, DFF: glu.DFF, NumLayers: s.EncoderLayers, NumDecoderLayers: &dec, NumHeads: s.Heads,
		RelativeAttentionNumBuckets: s.RelativeAttention.Buckets, RelativeAttentionMaxDistance: s.RelativeAttention.MaxDistance,
		DropoutRate: s.Dropout, LayerNormEpsilon: s.Eps, FeedForwardProj: proj, TieWordEmbeddings: s.TieEmbeddings,
		IsEncoderDecoder: true, PadTokenID: &zero, EOSTokenID: &one, DecoderStartTokenID: &zero,
	}, nil
}

// MarshalConfig returns the config.json text of c, with the keys transformers
// expects of a T5 config.
func MarshalConfig(c Config) ([]byte, error) {
	m := map[string]any{
		"architectures": c.Architectures, "model_type": c.ModelType, "vocab_size": c.VocabSize, "d_model": c.DModel,
		"d_kv": c.DKV, "d_ff": c.DFF, "num_layers": c.NumLayers, "num_decoder_layers": c.NumDecoderLayers,
		"num_heads": c.NumHeads, "relative_attention_num_buckets": c.RelativeAttentionNumBuckets,
		"relative_attention_max_distance": c.RelativeAttentionMaxDistance, "dropout_rate": c.DropoutRate,
		"layer_norm_epsilon": c.LayerNormEpsilon, "feed_forward_proj": c.FeedForwardProj,
		"tie_word_embeddings": c.TieWordEmbeddings, "is_encoder_decoder": c.IsEncoderDecoder,
		"pad_token_id": c.PadTokenID, "eos_token_id": c.EOSTokenID, "decoder_start_token_id": c.DecoderStartTokenID,
		"initializer_factor": 1.0, "use_cache": true, "torch_dtype": "float32",
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
