package recipe

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/registry"
)

// TestRecipeGolden loads (and, when that succeeds, builds) each recipe under
// testdata/recipes and compares a summary or the errors with its .golden file.
func TestRecipeGolden(t *testing.T) {
	runGolden(t, "testdata/recipes", func(t *testing.T, path string, sets []string) string {
		r, err := Load(path, sets...)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("load error %T is not an ErrorList", err)
			}
			return "load error:\n" + err.Error() + "\n"
		}
		m, err := r.Build(1)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("build error %T is not an ErrorList", err)
			}
			return "build error:\n" + err.Error() + "\n"
		}
		var comps []string
		for p, id := range r.Source.Components {
			comps = append(comps, p+"="+id)
		}
		sort.Strings(comps)
		var hg, perTask int
		for _, p := range m.Params() {
			if p.Group == hyper.ParamGroup {
				hg += p.Size()
			}
			if p.PerTask {
				perTask += p.Size()
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "files: %s\n", strings.Join(r.Source.Files, ", "))
		fmt.Fprintf(&b, "components: %s\n", strings.Join(comps, ", "))
		fmt.Fprintf(&b, "ffn: %+v\n", r.Model.FFN)
		fmt.Fprintf(&b, "params: total=%d hypergrid=%d per_task=%d\n", m.NumParams(), hg, perTask)
		return b.String()
	})
}

func TestLoadErrorsArePositioned(t *testing.T) {
	_, err := Load("testdata/recipes/three_errors.yaml")
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error = %v, want an ErrorList", err)
	}
	want := []struct {
		line, col int
		path      string
	}{
		{6, 3, "model.d_modle"},
		{7, 10, "model.heads"},
		{15, 18, "model.ffn.grid.rows"},
	}
	if len(list) != len(want) {
		t.Fatalf("%d errors, want %d:\n%v", len(list), len(want), err)
	}
	for i, w := range want {
		e := list[i]
		if e.Pos.File != "testdata/recipes/three_errors.yaml" || e.Pos.Line != w.line || e.Pos.Col != w.col || e.Path != w.path {
			t.Errorf("error %d is %v at %v, want %s at line %d col %d", i, e, e.Pos, w.path, w.line, w.col)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/recipes/nope.yaml")
	if err == nil || !strings.Contains(err.Error(), "testdata/recipes/nope.yaml: cannot read recipe") {
		t.Errorf("error = %v", err)
	}
}

func TestParseWithEmbeddedFiles(t *testing.T) {
	files := map[string]string{
		"base.yaml": "model: {vocab: 50, d_model: 16, heads: 2, d_kv: 8, encoder_layers: 1, decoder_layers: 1, ffn: {type: ffn.glu, d_ff: 32}}\n",
	}
	r, err := Loader{ReadFile: memFiles(files), Sets: []string{"model.ffn.activation=silu"}}.Parse("main.yaml", []byte("include: base.yaml\nmodel: {tie_embeddings: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	glu, ok := r.Model.FFN.(*layers.GLUConfig)
	if !ok || glu.Activation != layers.SiLU || glu.DFF != 32 || !r.Model.TieEmbeddings || r.Model.Vocab != 50 {
		t.Errorf("decoded %+v with ffn %+v", r.Model.Spec, r.Model.FFN)
	}
	if spec := r.Model.ModelSpec(); spec.FFN != r.Model.FFN || spec.Attention != r.Model.Attention {
		t.Error("ModelSpec does not carry the section's builders")
	}
}

func TestDefaultRecipeIsIndependent(t *testing.T) {
	a, b := Default(), Default()
	a.Model.FFN.(*layers.GLUConfig).DFF = 7
	if b.Model.FFN.(*layers.GLUConfig).DFF == 7 {
		t.Error("two default recipes share their ffn config")
	}
	if _, ok := b.Model.Attention.(*layers.T5AttentionConfig); !ok {
		t.Errorf("default attention is %T", b.Model.Attention)
	}
}

func TestBuiltinIDs(t *testing.T) {
	for id, want := range map[string]any{
		"ffn.glu":       &layers.GLUConfig{},
		"attn.t5":       &layers.T5AttentionConfig{},
		"ffn.hypergrid": &hyper.GridConfig{},
		"hyper.grid":    &hyper.GridConfig{}, // the alias of its first name
	} {
		f, ok := registry.Lookup(id)
		if !ok {
			t.Errorf("%s is not registered", id)
			continue
		}
		if got := fmt.Sprintf("%T", f()); got != fmt.Sprintf("%T", want) {
			t.Errorf("%s builds %s, want %T", id, got, want)
		}
	}
	_, err := registry.NewAs[layers.FFNBuilder]("ffn.gluu")
	const want = `unknown layer type "ffn.gluu" (forgotten import?); known: ffn.glu, ffn.hypergrid; did you mean "ffn.glu"?`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}
