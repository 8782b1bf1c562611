package hf

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/tokenizer"
)

// tinyConfig is a small T5 config of the given flavour.
func tinyConfig(gated bool) map[string]any {
	proj, tie := "relu", true
	if gated {
		proj, tie = "gated-gelu", false
	}
	return map[string]any{"model_type": "t5", "vocab_size": 40, "d_model": 8, "d_kv": 4, "d_ff": 12, "num_layers": 2,
		"num_decoder_layers": 1, "num_heads": 2, "relative_attention_num_buckets": 8, "relative_attention_max_distance": 16,
		"feed_forward_proj": proj, "tie_word_embeddings": tie, "layer_norm_epsilon": 1e-6}
}

// hfTensors returns random tensors of the Hugging Face layout of cfg, by name.
func hfTensors(t testing.TB, cfg map[string]any) map[string]checkpoint.Tensor {
	t.Helper()
	b, _ := json.Marshal(cfg)
	c, err := ParseConfig("config.json", b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Spec()
	if err != nil {
		t.Fatal(err)
	}
	glu := s.FFN.(*layers.GLUConfig)
	r := rand.New(rand.NewPCG(1, 2))
	out := map[string]checkpoint.Tensor{}
	for _, l := range Layout(s, glu.DFF, glu.Gated) {
		n := 1
		for _, d := range l.HFShape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(r.NormFloat64())
		}
		out[l.HF] = checkpoint.Tensor{Name: l.HF, Shape: l.HFShape, Data: data}
	}
	return out
}

// writeFolder writes a Hugging Face folder: config.json and model.safetensors.
func writeFolder(t testing.TB, dir string, cfg map[string]any, tensors map[string]checkpoint.Tensor) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	var ts []checkpoint.Tensor
	for _, v := range tensors {
		ts = append(ts, v)
	}
	if err := checkpoint.WriteSafetensorsFile(filepath.Join(dir, WeightsFile), ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
}

func TestReadRefuses(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string)
		wants []string
	}{
		{"every missing, unexpected and mis-shaped tensor together", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			delete(ts, "encoder.block.1.layer.0.SelfAttention.k.weight")
			delete(ts, "decoder.final_layer_norm.weight")
			ts["encoder.block.7.layer.0.layer_norm.weight"] = checkpoint.Tensor{Name: "encoder.block.7.layer.0.layer_norm.weight", Shape: []int{8}, Data: make([]float32, 8)}
			ts["shared.weight"] = checkpoint.Tensor{Name: "shared.weight", Shape: []int{8, 40}, Data: make([]float32, 320)}
		}, []string{"missing (2): decoder.final_layer_norm.weight [8]; encoder.block.1.layer.0.SelfAttention.k.weight [8 8]",
			"unexpected (1): encoder.block.7.layer.0.layer_norm.weight [8]", "wrong shape (1): shared.weight is [8 40], want [40 8]"}},
		{"gated weights in a relu config", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			cfg["feed_forward_proj"] = "gated-gelu"
		}, []string{"missing (6)", "encoder.block.0.layer.1.DenseReluDense.wi_0.weight", "unexpected (3)", "encoder.block.0.layer.1.DenseReluDense.wi.weight"}},
		{"lm_head missing when untied", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			cfg["tie_word_embeddings"] = false
		}, []string{"missing (1): lm_head.weight [40 8]"}},
		{"embed_tokens that is not a copy", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			ts[EncoderEmbedName] = checkpoint.Tensor{Name: EncoderEmbedName, Shape: []int{40, 8}, Data: make([]float32, 320)}
		}, []string{"encoder.embed_tokens.weight differs from shared.weight"}},
		{"integer tensor", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			writeFolder(t, dir, cfg, ts)
			p := filepath.Join(dir, WeightsFile)
			// Rewrite the file with one I32 tensor in place of a norm weight.
			var hdr = `{"encoder.final_layer_norm.weight":{"dtype":"I32","shape":[8],"data_offsets":[0,32]}}`
			b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
			b = append(append(b, hdr...), make([]byte, 32)...)
			os.WriteFile(p, b, 0o644)
		}, []string{"wrong dtype (1): encoder.final_layer_norm.weight is I32"}},
		{"another model_type", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			cfg["model_type"] = "bart"
		}, []string{`model_type is "bart"`}},
		{"exact gelu and a bad eps together", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			cfg["feed_forward_proj"] = "gelu"
			cfg["layer_norm_epsilon"] = -1
		}, []string{"exact (erf) GELU", "layer_norm_epsilon is -1"}},
		{"another decoder start", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			cfg["decoder_start_token_id"] = 2
		}, []string{"decoder_start_token_id is 2"}},
		{"a string for a number", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			cfg["d_model"] = "512"
		}, []string{`key "d_model" is string`}},
		{"pytorch_model.bin", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			writeFolder(t, dir, cfg, ts)
			os.Remove(filepath.Join(dir, WeightsFile))
			os.WriteFile(filepath.Join(dir, "pytorch_model.bin"), []byte("PK"), 0o644)
		}, []string{"pytorch_model.bin (PyTorch pickle)", "save_pretrained('.', safe_serialization=True)"}},
		{"no weights", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			writeFolder(t, dir, cfg, ts)
			os.Remove(filepath.Join(dir, WeightsFile))
		}, []string{"has no model.safetensors nor model.safetensors.index.json"}},
		{"a missing shard", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			writeFolder(t, dir, cfg, ts)
			os.Rename(filepath.Join(dir, WeightsFile), filepath.Join(dir, "model-00001-of-00002.safetensors"))
			wm := map[string]string{}
			for name := range ts {
				wm[name] = "model-00001-of-00002.safetensors"
			}
			wm["lm_head.weight"] = "model-00002-of-00002.safetensors"
			b, _ := json.Marshal(map[string]any{"weight_map": wm})
			os.WriteFile(filepath.Join(dir, WeightsIndexFile), b, 0o644)
		}, []string{"names the shard model-00002-of-00002.safetensors, which is missing"}},
		{"a shard outside the folder", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			writeFolder(t, dir, cfg, ts)
			os.Remove(filepath.Join(dir, WeightsFile))
			b, _ := json.Marshal(map[string]any{"weight_map": map[string]string{"shared.weight": "../x.safetensors"}})
			os.WriteFile(filepath.Join(dir, WeightsIndexFile), b, 0o644)
		}, []string{`a shard must be a file name in the same folder`}},
		{"an index that disagrees with its shards", func(cfg map[string]any, ts map[string]checkpoint.Tensor, dir string) {
			writeFolder(t, dir, cfg, ts)
			os.Rename(filepath.Join(dir, WeightsFile), filepath.Join(dir, "a.safetensors"))
			wm := map[string]string{"ghost.weight": "a.safetensors"}
			for name := range ts {
				wm[name] = "a.safetensors"
			}
			b, _ := json.Marshal(map[string]any{"weight_map": wm})
			os.WriteFile(filepath.Join(dir, WeightsIndexFile), b, 0o644)
		}, []string{"tensor ghost.weight is listed in the index under a.safetensors, which does not hold it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := tinyConfig(false)
			ts := hfTensors(t, cfg)
			tt.edit(cfg, ts, dir)
			if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err != nil {
				writeFolder(t, dir, cfg, ts)
			}
			_, err := Read(dir)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestReadAccepts(t *testing.T) {
	for _, gated := range []bool{false, true} {
		dir := t.TempDir()
		cfg := tinyConfig(gated)
		ts := hfTensors(t, cfg)
		if !gated { // a tied model may carry lm_head.weight as a copy, and the unused cross bias
			ts[LMHeadName] = checkpoint.Tensor{Name: LMHeadName, Shape: []int{40, 8}, Data: ts[SharedName].Data}
			ts[crossBiasName] = checkpoint.Tensor{Name: crossBiasName, Shape: []int{8, 2}, Data: make([]float32, 16)}
		}
		writeFolder(t, dir, cfg, ts)
		m, err := Read(dir)
		if err != nil {
			t.Fatal(err)
		}
		s := m.Spec
		if s.EncoderLayers != 2 || s.DecoderLayers != 1 || s.TieEmbeddings == gated || m.GLU.Gated != gated || m.Tokenizer != nil {
			t.Errorf("gated %v: spec %+v, glu %+v", gated, s, m.GLU)
		}
		want := layers.ReLU
		if gated {
			want = layers.GELU
		}
		if m.GLU.Activation != want {
			t.Errorf("gated %v: activation %s, want %s", gated, m.GLU.Activation, want)
		}
		if _, err := model.New(s, 1); err != nil {
			t.Fatal(err)
		}
		// A transposed weight lands transposed.
		q := ts["encoder.block.0.layer.0.SelfAttention.q.weight"] // [inner=8, d=8]
		for _, tn := range m.Tensors {
			if tn.Name == "encoder.block.0.self_attn.q" {
				if tn.Data[1*8+2] != q.Data[2*8+1] {
					t.Errorf("q[1][2] = %v, want HF q[2][1] = %v", tn.Data[1*8+2], q.Data[2*8+1])
				}
			}
		}
	}
}

func TestConfigRoundTrip(t *testing.T) {
	for _, g := range []layers.GLUConfig{{DFF: 12, Activation: layers.ReLU}, {DFF: 12, Activation: layers.GELU, Gated: true},
		{DFF: 12, Activation: layers.GELU}, {DFF: 12, Activation: layers.SiLU, Gated: true}, {DFF: 12, Activation: layers.ReLU, Gated: true}} {
		s := model.DefaultSpec()
		s.FFN = &g
		s.EncoderLayers, s.DecoderLayers = 3, 5
		c, err := ConfigFor(s, g)
		if err != nil {
			t.Fatal(err)
		}
		b, err := MarshalConfig(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ParseConfig("config.json", b)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := c2.Spec()
		if err != nil {
			t.Fatal(err)
		}
		g2 := *s2.FFN.(*layers.GLUConfig)
		if g2 != g || s2.EncoderLayers != 3 || s2.DecoderLayers != 5 || s2.Vocab != s.Vocab || s2.TieEmbeddings != s.TieEmbeddings ||
			s2.RelativeAttention != s.RelativeAttention || s2.Eps != s.Eps || s2.Heads != s.Heads || s2.DKV != s.DKV {
			t.Errorf("%+v: config %s gives %+v, %+v", g, b, s2, g2)
		}
	}
	s := model.DefaultSpec()
	s.Norm = layers.LayerNormKind
	s.RelativeAttention.Buckets = 0
	s.Attention = &layers.T5AttentionConfig{ScaleScores: true}
	_, err := ConfigFor(s, layers.GLUConfig{DFF: 4, Activation: layers.ReLU})
	for _, w := range []string{"model.norm", "buckets is 0", "scale_scores"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v lacks %q", err, w)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	b, _ := json.Marshal(tinyConfig(true))
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"num_decoder_layers": null, "feed_forward_proj": "gated-silu"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig("config.json", b)
		if err != nil {
			return
		}
		s, err := c.Spec()
		if err != nil {
			return
		}
		// A config that gives a spec gives one that validates, and its own config.json
		// gives the same spec back.
		if errs := s.Validate(); len(errs) > 0 {
			t.Fatalf("Spec returned an invalid spec: %v", errs)
		}
		g := *s.FFN.(*layers.GLUConfig)
		c2, err := ConfigFor(s, g)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := MarshalConfig(c2)
		if err != nil {
			t.Fatal(err)
		}
		c3, err := ParseConfig("again", b2)
		if err != nil {
			t.Fatal(err)
		}
		s3, err := c3.Spec()
		if err != nil {
			t.Fatalf("the exported config does not import: %v\n%s", err, b2)
		}
		if s3.Vocab != s.Vocab || s3.DModel != s.DModel || s3.EncoderLayers != s.EncoderLayers || s3.DecoderLayers != s.DecoderLayers ||
			*s3.FFN.(*layers.GLUConfig) != g || s3.Eps != s.Eps || s3.TieEmbeddings != s.TieEmbeddings {
			t.Fatalf("round trip changed the spec: %+v -> %+v", s, s3)
		}
	})
}

func TestCheckpointOpensAsARun(t *testing.T) {
	for _, gated := range []bool{false, true} {
		dir := t.TempDir()
		cfg := tinyConfig(gated)
		cfg["vocab_size"] = 160
		writeFolder(t, dir, cfg, hfTensors(t, cfg))
		os.WriteFile(filepath.Join(dir, TokenizerFile), tinyTokenizer(t), 0o644)
		os.WriteFile(filepath.Join(dir, TokenizerConfigFile), []byte(`{"additional_special_tokens": [{"content": "<extra_id_0>"}, "<extra_id_1>", "<x>"]}`), 0o644)
		m, err := Read(dir)
		if err != nil {
			t.Fatal(err)
		}
		if m.ExtraIDs != 2 {
			t.Errorf("extra ids %d, want the 2 <extra_id_N> of additional_special_tokens", m.ExtraIDs)
		}
		if _, err := m.Checkpoint(dir, nil); err == nil || !strings.Contains(err.Error(), "--tokenizer") {
			t.Errorf("a checkpoint without a tokenizer: error %v, want one naming --tokenizer", err)
		}
		c, err := m.Checkpoint(dir, m.Tokenizer)
		if err != nil {
			t.Fatal(err)
		}
		ck := filepath.Join(t.TempDir(), "ck")
		if err := checkpoint.Save(ck, c); err != nil {
			t.Fatal(err)
		}
		tr, err := job.Open(ck, job.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !sameArchitecture(tr.Model.Spec, m.Spec) || tr.Recipe.Tokenizer.ExtraIDs != 2 {
			t.Errorf("the checkpoint's recipe builds %+v (extra ids %d), want %+v", tr.Model.Spec, tr.Recipe.Tokenizer.ExtraIDs, m.Spec)
		}
		byName := map[string][]float32{}
		for _, p := range tr.Model.Params() {
			byName[p.Name] = p.Data
		}
		for _, ts := range m.Tensors {
			got := byName[ts.Name]
			for i := range ts.Data {
				if got[i] != ts.Data[i] {
					t.Fatalf("%s[%d] = %v after loading, imported %v", ts.Name, i, got[i], ts.Data[i])
				}
			}
		}
	}
}

var (
	tokOnce  sync.Once
	tokBytes []byte
	tokErr   error
)

// tinyTokenizer returns a small SentencePiece model (.model bytes), trained once.
func tinyTokenizer(t testing.TB) []byte {
	t.Helper()
	tokOnce.Do(func() {
		tok, err := tokenizer.Train(tokenizer.TrainOptions{VocabSize: 40, SoftVocabLimit: true, SeedPieces: 1000, Normalization: tokenizer.Identity,
			Sentences: []string{"the cat sat on the mat", "a fine moving film"}})
		if err == nil {
			tokBytes = tok.Marshal()
		}
		tokErr = err
	})
	if tokErr != nil {
		t.Fatal(tokErr)
	}
	return tokBytes
}

func TestParseConfigDefaults(t *testing.T) {
	tests := []struct {
		json       string
		tie, gated bool
		vocab, dec int
	}{
		{`{}`, true, false, 32128, 6},
		{`{"model_type": "t5", "num_layers": 4, "num_decoder_layers": null}`, true, false, 32128, 4},
		{`{"model_type": "t5", "num_layers": 4, "num_decoder_layers": 2, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": false}`, false, true, 32128, 2},
		{`{"model_type": "mt5"}`, false, true, 250112, 8},
	}
	for _, tt := range tests {
		c, err := ParseConfig("config.json", []byte(tt.json))
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Spec()
		if err != nil {
			t.Fatal(err)
		}
		g := s.FFN.(*layers.GLUConfig)
		if s.TieEmbeddings != tt.tie || g.Gated != tt.gated || s.Vocab != tt.vocab || s.DecoderLayers != tt.dec {
			t.Errorf("%s: tie %v gated %v vocab %d decoder %d; want %v %v %d %d", tt.json, s.TieEmbeddings, g.Gated, s.Vocab, s.DecoderLayers, tt.tie, tt.gated, tt.vocab, tt.dec)
		}
	}
}
