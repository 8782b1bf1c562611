package layers_test

import (
	"math"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
)

// shapes lists the stored shapes of params.
func shapes(params []*autograd.Param) []layers.ParamShape {
	var out []layers.ParamShape
	for _, p := range params {
		out = append(out, layers.ParamShape{Rows: int64(p.Rows), Cols: int64(p.Cols)})
	}
	return out
}

func equalShapes(a, b []layers.ParamShape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Footprint lists exactly the shapes the builder creates, in order.
func TestFootprintMatchesBuild(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    layers.Sizer
		site func(layers.Site) layers.Site
	}{
		{"glu gated", layers.DefaultGLUConfig(), nil},
		{"glu plain", &layers.GLUConfig{DFF: 10, Activation: layers.SiLU}, nil},
		{"attention self layer 0", layers.DefaultT5AttentionConfig(), nil},
		{"attention self layer 1", layers.DefaultT5AttentionConfig(), func(s layers.Site) layers.Site { s.Layer = 1; return s }},
		{"attention cross", layers.DefaultT5AttentionConfig(), func(s layers.Site) layers.Site { s.Cross = true; return s }},
		{"attention no buckets", &layers.T5AttentionConfig{ScaleScores: true}, func(s layers.Site) layers.Site { s.RelativeBuckets = 0; return s }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := site("x")
			if tc.site != nil {
				s = tc.site(s)
			}
			f, err := tc.b.Footprint(s)
			if err != nil {
				t.Fatal(err)
			}
			var params []*autograd.Param
			switch b := tc.b.(type) {
			case layers.FFNBuilder:
				l, err := b.BuildFFN(s)
				if err != nil {
					t.Fatal(err)
				}
				params = l.Params()
			case layers.AttentionBuilder:
				l, err := b.BuildAttention(s)
				if err != nil {
					t.Fatal(err)
				}
				params = l.Params()
			}
			if got, want := f.Params, shapes(params); !equalShapes(got, want) {
				t.Errorf("Footprint lists %v; the built layer has %v", got, want)
			}
			if f.Activations.PerRow <= 0 {
				t.Errorf("Footprint reports no activations: %+v", f.Activations)
			}
		})
	}
}

// A site out of range is an error from the builders, never a panic.
func TestBuildersRefuseBadSites(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *layers.Site)
	}{
		{"d_model 0", func(s *layers.Site) { s.DModel = 0 }},
		{"d_model huge", func(s *layers.Site) { s.DModel = 1 << 40 }},
		{"heads huge", func(s *layers.Site) { s.Heads = 1 << 40 }},
		{"attention product", func(s *layers.Site) { s.DModel, s.Heads, s.DKV = 1<<20, 1<<10, 1<<10 }},
		{"buckets product", func(s *layers.Site) { s.Heads, s.RelativeBuckets = 1<<20, 1<<20 }},
		{"tasks negative", func(s *layers.Site) { s.NumTasks = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := site("x")
			tc.edit(&s)
			if err := s.Check(); err == nil {
				t.Error("Check accepts the site")
			}
			if _, err := layers.DefaultT5AttentionConfig().BuildAttention(s); err == nil {
				t.Error("BuildAttention builds at the site")
			}
		})
	}
	s := site("x")
	s.DModel = 1 << 20
	if _, err := (&layers.GLUConfig{DFF: 1 << 17, Activation: layers.GELU}).BuildFFN(s); err == nil || !strings.Contains(err.Error(), "d_ff: is 131072, which with d_model 1048576") {
		t.Errorf("BuildFFN: %v; want d_model·d_ff over the bound", err)
	}
	if errs := (&layers.GLUConfig{DFF: 1 << 40, Activation: layers.GELU}).Validate(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "at most 1048576") {
		t.Errorf("Validate: %v; want d_ff over the bound", errs)
	}
}

func TestElements(t *testing.T) {
	for _, tc := range []struct {
		dims []int
		n    int64
		ok   bool
	}{
		{[]int{8000, 256}, 2048000, true},
		{[]int{}, 1, true},
		{[]int{1 << 18, 1 << 18}, 1 << 36, true},
		{[]int{1 << 18, 1<<18 + 1}, 0, false},
		{[]int{1 << 62, 4}, 0, false}, // wraps to 0 in int arithmetic
		{[]int{math.MaxInt, math.MaxInt}, 0, false},
		{[]int{3, 0}, 0, false},
		{[]int{-2, -3}, 0, false},
	} {
		if n, ok := layers.Elements(tc.dims...); n != tc.n || ok != tc.ok {
			t.Errorf("Elements(%v) = %d, %v; want %d, %v", tc.dims, n, ok, tc.n, tc.ok)
		}
	}
}

// The constructors refuse a wrapping size with a clear panic (validation keeps models
// away from it) instead of building an empty parameter.
func TestEmbeddingRefusesWrappingSize(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "embedding") {
			t.Errorf("NewEmbedding(2^62×4) panicked with %v; want a message naming the parameter", r)
		}
	}()
	layers.NewEmbedding(layers.NewInit(1), "embedding", 1<<62, 4)
}

// embeddedGLU inherits GLUConfig's Footprint, which does not describe it.
type embeddedGLU struct{ layers.GLUConfig }

func TestSizerOf(t *testing.T) {
	if layers.SizerOf(layers.DefaultGLUConfig()) == nil || layers.SizerOf(layers.DefaultT5AttentionConfig()) == nil {
		t.Error("SizerOf refuses a framework builder")
	}
	if layers.SizerOf(&embeddedGLU{}) != nil {
		t.Error("SizerOf trusts a Footprint inherited through an embedded field")
	}
	if layers.SizerOf(nil) != nil || layers.SizerOf(42) != nil {
		t.Error("SizerOf accepts a non-builder")
	}
}
