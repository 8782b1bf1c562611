package hf

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/train"
)

// RecipeFile is the name of the recipe an imported checkpoint stores.
const RecipeFile = "hf-import.yaml"

// Recipe returns the recipe an imported checkpoint stores: a model: section that
// rebuilds exactly the imported architecture, the embedded suite's tasks as data: (so
// that eval has something to run), the imported tokenizer with its extra_ids, and
// train: lengths of T5's fine-tuning (512 input, 128 target tokens would be costly on
// a CPU; 128 and 16 are the project's defaults). source names the folder in a comment.
func (m *Model) Recipe(source string) string {
	s := m.Spec
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	var b strings.Builder
	fmt.Fprintf(&b, "# Imported from the Hugging Face %s model %s by \"hypergrid import hf\".\n", m.Config.ModelType, strconv.Quote(source))
	fmt.Fprintf(&b, "# feed_forward_proj %q, tie_word_embeddings %v.\n", m.Config.FeedForwardProj, s.TieEmbeddings)
	fmt.Fprintf(&b, "model:\n  arch: t5\n  vocab: %d\n  d_model: %d\n  heads: %d\n  d_kv: %d\n", s.Vocab, s.DModel, s.Heads, s.DKV)
	fmt.Fprintf(&b, "  encoder_layers: %d\n  decoder_layers: %d\n", s.EncoderLayers, s.DecoderLayers)
	fmt.Fprintf(&b, "  relative_attention: {buckets: %d, max_distance: %d}\n", s.RelativeAttention.Buckets, s.RelativeAttention.MaxDistance)
	fmt.Fprintf(&b, "  tie_embeddings: %v\n  norm: rms\n  eps: %s\n  dropout: %s\n", s.TieEmbeddings, f(s.Eps), f(s.Dropout))
	fmt.Fprintf(&b, "  attention: {type: attn.t5}\n")
	fmt.Fprintf(&b, "  ffn: {type: ffn.glu, d_ff: %d, activation: %s, gated: %v}\n", m.GLU.DFF, m.GLU.Activation, m.GLU.Gated)
	fmt.Fprintf(&b, "data:\n  tasks: [sentiment, paraphrase, similarity]\n")
	fmt.Fprintf(&b, "tokenizer:\n  model: %s\n  extra_ids: %d\n", train.TokenizerFile, m.ExtraIDs)
	fmt.Fprintf(&b, "train:\n  max_input_len: 128\n  max_target_len: 16\n")
	return b.String()
}

// Checkpoint returns the imported model as an ordinary checkpoint at step 0: the
// weights, the recipe (see Recipe) as the run's stored recipe, and the tokenizer
// (tok, the folder's spiece.model or one the caller supplies). It loads the recipe
// back and checks that it builds the imported architecture.
func (m *Model) Checkpoint(source string, tok []byte) (*checkpoint.Checkpoint, error) {
	if len(tok) == 0 {
		return nil, fmt.Errorf("%s has no %s: give the tokenizer with --tokenizer FILE.model", source, TokenizerFile)
	}
	snap := &recipe.Snapshot{Main: RecipeFile, Files: map[string]string{RecipeFile: m.Recipe(source)}}
	r, err := snap.Load()
	if err != nil {
		return nil, fmt.Errorf("the recipe written for the import does not load (a bug): %w", err)
	}
	if !sameArchitecture(r.Model.ModelSpec(), m.Spec) {
		return nil, fmt.Errorf("the recipe written for the import describes another model than %s (a bug): %+v", source, r.Model.ModelSpec())
	}
	info, err := json.Marshal(job.Info{})
	if err != nil {
		return nil, err
	}
	return &checkpoint.Checkpoint{
		Model:    m.Tensors,
		State:    map[string]json.RawMessage{job.StateRecipe: snap.JSON(), job.StateRun: info},
		Files:    map[string][]byte{train.TokenizerFile: tok},
		Metadata: map[string]string{"imported_from": source, "format": "hugging face " + m.Config.ModelType},
	}, nil
}

// sameArchitecture reports whether two dense T5 specs build the same model: the same
// architecture fields (tasks and the encoder-only pooling aside), attn.t5 without score scaling and the same ffn.glu.
func sameArchitecture(a, b model.Spec) bool {
	ga, okA := a.FFN.(*layers.GLUConfig)
	gb, okB := b.FFN.(*layers.GLUConfig)
	aa, okAA := a.Attention.(*layers.T5AttentionConfig)
	if !okA || !okB || !okAA || *ga != *gb || aa.ScaleScores {
		return false
	}
	return a.Arch == b.Arch && a.Vocab == b.Vocab && a.DModel == b.DModel && a.Heads == b.Heads && a.DKV == b.DKV &&
		a.EncoderLayers == b.EncoderLayers && a.DecoderLayers == b.DecoderLayers && a.RelativeAttention == b.RelativeAttention &&
		a.TieEmbeddings == b.TieEmbeddings && a.Norm == b.Norm && a.Eps == b.Eps && a.Dropout == b.Dropout && a.LabelSmoothing == b.LabelSmoothing
}
