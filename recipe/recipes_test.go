package recipe

import (
	"testing"

	"github.com/hypergrid-go/hypergrid/recipes"
)

// TestShippedRecipesParamCounts builds every shipped recipe and checks its parameter
// count against the PyTorch reference (shared/bench/torch_t5.py) where there is one.
func TestShippedRecipesParamCounts(t *testing.T) {
	want := map[string]int{
		"t5-mini":             13539072,
		"t5-mini-hypergrid":   13604864,
		"glue-mini":           13539072,
		"glue-mini-hypergrid": 13604864,
		// Embedding and LM head (2·512·128), 2 encoder blocks (attention 4·128², 2 norms,
		// wi0, wi1, wo 3·128·512, LG grid 128·8 + 8), 2 decoder blocks (two attentions,
		// 3 norms, the same FFN), one relative position table per stack, final norms.
		"default": 2*512*128 + 2*(4*128*128+2*128+3*128*512+128*8+8) + 2*(8*128*128+3*128+3*128*512+128*8+8) + 2*32*4 + 2*128,
		// The embedding, 4 encoder blocks of t5-mini with HyperGrid (4·(1,049,088 +
		// 8,224)), the relative position table (32 buckets × 4 heads), the final norm
		// and three heads (2 and 2 classes; regression).
		"encoder-classifier": 2048000 + 4*(1049088+8224) + 32*4 + 256 + (256*2 + 2) + (256*2 + 2) + (256 + 1),
	}
	for _, name := range recipes.Names() {
		t.Run(name, func(t *testing.T) {
			r, err := Load("../recipes/" + name + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			m, err := r.Build(1)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expected parameter count for %s; add one", name)
			}
			if got := m.NumParams(); got != w {
				t.Errorf("%s has %d parameters, want %d", name, got, w)
			}
		})
	}
}
