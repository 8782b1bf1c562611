package hf

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/model"
)

// Tensor is one weight of a T5 model in both namings: Hugging Face's name and shape
// ([out, in] for a linear layer, as nn.Linear stores it) and this program's
// (x·W, [in, out]). Transposed says the two layouts are transposes of each other.
type Tensor struct {
	HF         string
	HFShape    []int
	Name       string
	Shape      []int
	Transposed bool
}

// Names of the Hugging Face tensors that a T5 file may hold besides Layout's:
// copies of shared.weight, and a cross-attention relative bias that the original T5
// checkpoints carry and transformers ignores.
const (
	SharedName       = "shared.weight"
	EncoderEmbedName = "encoder.embed_tokens.weight"
	DecoderEmbedName = "decoder.embed_tokens.weight"
	LMHeadName       = "lm_head.weight"
	crossBiasName    = "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"
)

// Layout lists the weights of a dense T5 spec (attn.t5; ffn.glu of width dff, gated or
// not) in this program's parameter order, with their Hugging Face names: shared.weight
// for the embedding (the encoder's and decoder's embed_tokens are copies of it), and
// lm_head.weight only when the embeddings are untied.
func Layout(s model.Spec, dff int, gated bool) []Tensor {
	d, inner, v := s.DModel, s.Heads*s.DKV, s.Vocab
	var out []Tensor
	plain := func(hf, name string, shape ...int) {
		out = append(out, Tensor{HF: hf, HFShape: shape, Name: name, Shape: shape})
	}
	// linear adds a weight stored [in, out] here and [out, in] by Hugging Face.
	linear := func(hf, name string, in, o int) {
		out = append(out, Tensor{HF: hf, HFShape: []int{o, in}, Name: name, Shape: []int{in, o}, Transposed: true})
	}
	attention := func(hf, name string, bias bool) {
		linear(hf+".q.weight", name+".q", d, inner)
		linear(hf+".k.weight", name+".k", d, inner)
		linear(hf+".v.weight", name+".v", d, inner)
		linear(hf+".o.weight", name+".o", inner, d)
		if bias {
			plain(hf+".relative_attention_bias.weight", name+".relative_bias", s.RelativeAttention.Buckets, s.Heads)
		}
	}
	ffn := func(hf, name string) {
		if gated {
			linear(hf+".wi_0.weight", name+".wi0", d, dff)
			linear(hf+".wi_1.weight", name+".wi1", d, dff)
		} else {
			linear(hf+".wi.weight", name+".wi0", d, dff)
		}
		linear(hf+".wo.weight", name+".wo", dff, d)
	}
	plain(SharedName, "embedding", v, d)
	for _, st := range []struct {
		name   string
		layers int
	}{{"encoder", s.EncoderLayers}, {"decoder", s.DecoderLayers}} {
		for i := range st.layers {
			hb := fmt.Sprintf("%s.block.%d.layer.", st.name, i)
			ob := fmt.Sprintf("%s.block.%d.", st.name, i)
			plain(hb+"0.layer_norm.weight", ob+"self_attn_norm.weight", d)
			attention(hb+"0.SelfAttention", ob+"self_attn", i == 0 && s.RelativeAttention.Buckets > 0)
			n := 1
			if st.name == "decoder" {
				plain(hb+"1.layer_norm.weight", ob+"cross_attn_norm.weight", d)
				attention(hb+"1.EncDecAttention", ob+"cross_attn", false)
				n = 2
			}
			plain(fmt.Sprintf("%s%d.layer_norm.weight", hb, n), ob+"ffn_norm.weight", d)
			ffn(fmt.Sprintf("%s%d.DenseReluDense", hb, n), ob+"ffn")
		}
		plain(st.name+".final_layer_norm.weight", st.name+".final_norm.weight", d)
	}
	if !s.TieEmbeddings {
		linear(LMHeadName, "lm_head", d, v)
	}
	return out
}

// transpose writes the rows×cols matrix src transposed into dst (cols×rows), in
// cache-sized tiles.
func transpose(dst, src []float32, rows, cols int) {
	const tile = 32
	for i0 := 0; i0 < rows; i0 += tile {
		i1 := min(i0+tile, rows)
		for j0 := 0; j0 < cols; j0 += tile {
			j1 := min(j0+tile, cols)
			for i := i0; i < i1; i++ {
				row := src[i*cols : i*cols+cols]
				for j := j0; j < j1; j++ {
					dst[j*rows+i] = row[j]
				}
			}
		}
	}
}
