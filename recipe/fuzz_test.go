package recipe

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// memFiles serves included files from memory, so that fuzzing touches no disk.
func memFiles(files map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if s, ok := files[filepath.ToSlash(name)]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

var fuzzIncludes = map[string]string{
	"base.yaml":      "name: base\nsize: 32\ngrid: {rows: 4, cols: 4}\nshape: {type: test.square, side: 2}\n",
	"loop.yaml":      "include: recipe.yaml\n",
	"sub/deep.yaml":  "include: ../base.yaml\ntags: [a]\n",
	"sub/wrong.yaml": "size: [1\n",
}

// checkErrorList checks the shape of a loader error: an ErrorList whose every entry
// says where it comes from and what is wrong.
func checkErrorList(t *testing.T, err error) {
	t.Helper()
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %T (%v) is not an ErrorList", err, err)
	}
	if len(list) == 0 {
		t.Fatal("empty ErrorList returned as an error")
	}
	for _, e := range list {
		if e.Pos.File == "" && e.Pos.Set == "" {
			t.Errorf("error without a position: %v", e)
		}
		if e.Msg == "" {
			t.Errorf("error without a message at %v", e.Pos)
		}
	}
}

// FuzzDecode feeds arbitrary recipe text (and one arbitrary --set) to the strict
// decoder. It must never panic, must report failures as a positioned ErrorList, and must
// be deterministic.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/decode/*.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data), "size=8")
	}
	f.Add("include: base.yaml\nname: x\n", "shape.type=test.circle")
	f.Add("include: [sub/deep.yaml, loop.yaml]\n", "grid={rows: 2}")
	f.Add("include: sub/wrong.yaml\nname: [", "tags=[a, b")
	f.Add("name: a\nshape: {type: test.square, side: -1}\n", "=")
	f.Add("name: a\ntags: [a, b]\n", "tags[1]=c")
	f.Fuzz(func(t *testing.T, recipe, set string) {
		l := Loader{ReadFile: memFiles(fuzzIncludes), Sets: []string{set}}
		cfg := defaultTestConfig()
		_, err := l.Decode("recipe.yaml", []byte(recipe), cfg)
		if err == nil {
			if cfg.Name == "" && !strings.Contains(recipe+set, "name") {
				t.Fatalf("decoded without the required name: %q", recipe)
			}
			return
		}
		checkErrorList(t, err)
		_, err2 := l.Decode("recipe.yaml", []byte(recipe), defaultTestConfig())
		if err2 == nil || err.Error() != err2.Error() {
			t.Fatalf("not deterministic:\n%v\n---\n%v", err, err2)
		}
	})
}

// FuzzLoadRecipe feeds arbitrary text and one --set override to the recipe loader. It
// must never panic, must report failures as a positioned ErrorList, must be
// deterministic, and must never accept a model section that does not validate.
func FuzzLoadRecipe(f *testing.F) {
	files := map[string]string{}
	for _, p := range []string{"../recipes/t5-mini.yaml", "testdata/recipes/base/small.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		files[filepath.Base(p)] = string(data)
	}
	seeds, _ := filepath.Glob("testdata/recipes/*.yaml")
	shipped, _ := filepath.Glob("../recipes/*.yaml")
	for _, s := range append(seeds, shipped...) {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data), "model.ffn.grid.rows=16")
	}
	f.Add("include: small.yaml\n", "model.ffn={type: hyper.grid, d_ff: 64, grid: {rows: 4, cols: 4}}")
	f.Add("include: t5-mini.yaml\nmodel: {ffn: {type: hyper.grid}}\n", "model.tasks=[{name: a}]")
	f.Add("model:\n  attention: {type: attn.t5, scale_scores: yes}\n", "model.arch=encoder")
	f.Add(topicRecipe, "data.tasks=[sentiment, {name: t, format: csv, inputs: [{name: s}], label: l, label_words: [a, b, c], metrics: [f1]}]")
	f.Add(topicRecipe, "data.tasks[1].label_words[0]=x")
	f.Add(topicRecipe, "data.tasks[0]=paraphrase")
	f.Fuzz(func(t *testing.T, recipe, set string) {
		l := Loader{ReadFile: memFiles(files), Sets: []string{set}}
		r, err := l.Parse("recipe.yaml", []byte(recipe))
		if err != nil {
			checkErrorList(t, err)
			_, err2 := l.Parse("recipe.yaml", []byte(recipe))
			if err2 == nil || err.Error() != err2.Error() {
				t.Fatalf("not deterministic:\n%v\n---\n%v", err, err2)
			}
			return
		}
		spec := r.Model.ModelSpec()
		if errs := spec.Validate(); len(errs) > 0 {
			t.Fatalf("accepted a model that does not validate: %v", errs)
		}
		if spec.FFN == nil || spec.Attention == nil {
			t.Fatal("accepted a model without ffn or attention")
		}
	})
}
