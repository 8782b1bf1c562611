package model_test

import (
	"errors"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/optim"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/registry"
)

// checkParams fails unless spec's Estimate counts exactly the parameters New creates.
func checkParams(t *testing.T, spec model.Spec) {
	t.Helper()
	est, err := spec.Estimate(2, 5, 3, model.OptimizerAdamW)
	if err != nil {
		t.Fatalf("Estimate: %v", err)
	}
	m, err := model.New(spec, 1)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if want := int64(m.NumParams()); est.Params != want {
		t.Errorf("Estimate counts %d parameters; New builds %d", est.Params, want)
	}
	// Adafactor's values, counted from the built parameters as optim.Adafactor keeps
	// them.
	var state int64
	for _, p := range m.Params() {
		state += optim.AdafactorValues(p.Rows, p.Cols)
	}
	ada, err := spec.Estimate(2, 5, 3, model.OptimizerAdafactor)
	if err != nil {
		t.Fatalf("Estimate adafactor: %v", err)
	}
	if want := 4 * state; ada.OptimizerBytes != want {
		t.Errorf("Adafactor state %d bytes; the built parameters give %d", ada.OptimizerBytes, want)
	}
	if est.OptimizerBytes != 8*est.Params || est.ParamBytes != 4*est.Params || est.GradBytes != 4*est.Params {
		t.Errorf("AdamW estimate %+v: want 4, 4 and 8 bytes per parameter", est)
	}
	if est.Total != est.ParamBytes+est.GradBytes+est.OptimizerBytes+est.ActivationBytes+est.RuntimeBytes {
		t.Errorf("Total %d is not the sum of %+v", est.Total, est)
	}
}

func TestEstimateParamsOfRecipes(t *testing.T) {
	paths, err := filepath.Glob("../recipes/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no recipes: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			r, err := recipe.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			checkParams(t, r.Model.ModelSpec())
		})
	}
}

func TestEstimateParamsOfSpecs(t *testing.T) {
	grid := func(edit func(g *hyper.GridConfig)) *hyper.GridConfig {
		g := tinyGrid()
		edit(g)
		return g
	}
	tests := []struct {
		name string
		spec func() model.Spec
	}{
		{"t5 glu", func() model.Spec { return tinySpec(&layers.GLUConfig{DFF: 32, Activation: layers.GELU, Gated: true}) }},
		{"t5 plain relu", func() model.Spec { return tinySpec(&layers.GLUConfig{DFF: 24, Activation: layers.ReLU}) }},
		{"t5 hypergrid LG", func() model.Spec { return tinySpec(tinyGrid()) }},
		{"t5 tied", func() model.Spec { s := tinySpec(tinyGrid()); s.TieEmbeddings = true; return s }},
		{"t5 layer norm no buckets", func() model.Spec {
			s := tinySpec(tinyGrid())
			s.Norm, s.RelativeAttention = layers.LayerNormKind, model.RelativeAttention{}
			return s
		}},
		{"t5 scaled attention", func() model.Spec {
			s := tinySpec(tinyGrid())
			s.Attention = &layers.T5AttentionConfig{ScaleScores: true}
			return s
		}},
		{"LL task_embedding both", func() model.Spec {
			return tinySpec(grid(func(g *hyper.GridConfig) {
				g.Composition, g.Conditioning, g.Weights = hyper.LL, hyper.TaskEmbedding, []string{hyper.WeightBoth}
			}))
		}},
		{"GG wi", func() model.Spec {
			return tinySpec(grid(func(g *hyper.GridConfig) { g.Composition, g.Weights = hyper.GG, []string{hyper.WeightWi} }))
		}},
		{"GG task_embedding no tasks", func() model.Spec {
			s := tinySpec(grid(func(g *hyper.GridConfig) { g.Composition, g.Conditioning = hyper.GG, hyper.TaskEmbedding }))
			s.Tasks = nil
			return s
		}},
		{"GL mean encoder only", func() model.Spec {
			return tinySpec(grid(func(g *hyper.GridConfig) {
				g.Composition, g.Conditioning, g.Stacks = hyper.GL, hyper.Mean, []layers.Stack{layers.Encoder}
			}))
		}},
		{"GL task_embedding one task plain", func() model.Spec {
			s := tinySpec(grid(func(g *hyper.GridConfig) {
				g.Composition, g.Conditioning, g.Gated = hyper.GL, hyper.TaskEmbedding, false
			}))
			s.Tasks = s.Tasks[:1]
			return s
		}},
		{"LG wi and wo, row-only grid", func() model.Spec {
			return tinySpec(grid(func(g *hyper.GridConfig) {
				g.Grid, g.Weights = hyper.Grid{Rows: 1, Cols: 8}, []string{hyper.WeightWi, hyper.WeightWo}
			}))
		}},
		{"decoder only gated", func() model.Spec {
			return tinySpec(grid(func(g *hyper.GridConfig) { g.Stacks = []layers.Stack{layers.Decoder} }))
		}},
		{"encoder with tasks", func() model.Spec { return encoderSpec(tinyGrid()) }},
		{"encoder mean LL task_embedding", func() model.Spec {
			s := encoderSpec(grid(func(g *hyper.GridConfig) {
				g.Composition, g.Conditioning, g.Stacks = hyper.LL, hyper.TaskEmbedding, []layers.Stack{layers.Encoder}
			}))
			s.Pooling = model.PoolMean
			return s
		}},
		{"encoder glu layer norm", func() model.Spec {
			s := encoderSpec(layers.DefaultGLUConfig())
			s.Norm = layers.LayerNormKind
			return s
		}},
		{"default spec", model.DefaultSpec},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkParams(t, tc.spec()) })
	}
}

// A builder's error at a site is reported as New reports it, once.
func TestEstimateBuilderErrors(t *testing.T) {
	g := tinyGrid()
	g.Grid.Cols = 5 // does not divide d_model 16
	g.DFF = 40
	g.Grid.Rows = 5
	spec := tinySpec(g)
	_, estErr := spec.Estimate(1, 1, 1, "")
	_, newErr := model.New(spec, 1)
	if estErr == nil || newErr == nil {
		t.Fatalf("Estimate: %v; New: %v; want both to fail", estErr, newErr)
	}
	if estErr.Error() != newErr.Error() {
		t.Errorf("Estimate reports\n%v\nNew reports\n%v", estErr, newErr)
	}
}

// sizelessFFN embeds GLUConfig but adds a parameter: the inherited Footprint must not
// be trusted.
type sizelessFFN struct {
	layers.GLUConfig
}

func (c *sizelessFFN) BuildFFN(site layers.Site) (layers.FeedForward, error) {
	return c.GLUConfig.BuildFFN(site)
}

func TestEstimateUnsizedBuilder(t *testing.T) {
	spec := tinySpec(&sizelessFFN{*layers.DefaultGLUConfig()})
	if layers.SizerOf(spec.FFN) != nil {
		t.Fatal("SizerOf trusts a Footprint inherited from an embedded GLUConfig")
	}
	_, err := spec.Estimate(1, 1, 1, model.OptimizerAdamW)
	if !errors.Is(err, model.ErrUnsized) {
		t.Fatalf("Estimate: %v; want ErrUnsized", err)
	}
	if layers.SizerOf(layers.DefaultGLUConfig()) == nil || layers.SizerOf(hyper.DefaultGridConfig()) == nil || layers.SizerOf(layers.DefaultT5AttentionConfig()) == nil {
		t.Error("a framework builder is not a Sizer")
	}
}

// badFootprintFFN is a GLU whose footprint reports the activations act.
type badFootprintFFN struct {
	layers.GLUConfig
	act layers.Activations
}

func (c *badFootprintFFN) BuildFFN(site layers.Site) (layers.FeedForward, error) {
	return c.GLUConfig.BuildFFN(site)
}

func (c *badFootprintFFN) Footprint(site layers.Site) (layers.Footprint, error) {
	f, err := c.GLUConfig.Footprint(site)
	f.Activations = c.act
	return f, err
}

func (c *badFootprintFFN) SizedBuilder() any { return c }

// A footprint with a negative count, or freeing more gradients than it keeps values,
// is refused with what it reported.
func TestEstimateRejectsBadActivations(t *testing.T) {
	for _, act := range []layers.Activations{{PerRow: -1}, {PerRow: 10, GradFreeRow: 11}, {PerRow: 10, GradFreeRow: -1}} {
		spec := tinySpec(&badFootprintFFN{*layers.DefaultGLUConfig(), act})
		_, err := spec.Estimate(1, 1, 1, model.OptimizerAdamW)
		if err == nil || !strings.Contains(err.Error(), "badFootprintFFN reports activations") || !strings.Contains(err.Error(), "GradFreeRow is above PerRow") {
			t.Errorf("activations %+v: Estimate: %v", act, err)
		}
	}
	spec := tinySpec(&badFootprintFFN{*layers.DefaultGLUConfig(), layers.Activations{PerRow: 10, GradFreeRow: 10}})
	if _, err := spec.Estimate(1, 1, 1, model.OptimizerAdamW); err != nil {
		t.Errorf("GradFreeRow equal to PerRow: Estimate: %v", err)
	}
}

func TestEstimateArguments(t *testing.T) {
	spec := tinySpec(tinyGrid())
	for _, tc := range []struct {
		batch, in, tgt int
		opt            string
	}{{-1, 1, 1, ""}, {1, -1, 1, ""}, {1, 1, -1, ""}, {1, 1, 1, "sgd"}} {
		if _, err := spec.Estimate(tc.batch, tc.in, tc.tgt, tc.opt); err == nil {
			t.Errorf("Estimate(%d, %d, %d, %q) succeeded", tc.batch, tc.in, tc.tgt, tc.opt)
		}
	}
	e, err := spec.Estimate(0, 0, 0, model.OptimizerAdamW)
	if err != nil || e.ActivationBytes != 0 || e.Params == 0 {
		t.Errorf("Estimate with an empty batch: %+v, %v; want the parameters and no activations", e, err)
	}
	inf, err := spec.Estimate(4, 16, 8, "")
	if err != nil || inf.OptimizerBytes != 0 || inf.GradBytes != inf.ParamBytes {
		t.Errorf("inference estimate %+v, %v: want no optimizer state and the gradients New allocates", inf, err)
	}
	// A batch beyond any machine is an error, not a wrapped size.
	if e, err := spec.Estimate(math.MaxInt, math.MaxInt, math.MaxInt, model.OptimizerAdamW); err == nil {
		t.Errorf("Estimate of an astronomic batch succeeded: %+v", e)
	}
	if e, err := spec.Estimate(1<<20, 1<<20, 1<<20, ""); err == nil {
		t.Errorf("Estimate of an astronomic generation succeeded: %+v", e)
	}
}

// The estimate grows with every size, and training a batch needs more than inference.
func TestEstimateMonotone(t *testing.T) {
	spec := tinySpec(tinyGrid())
	base, err := spec.Estimate(4, 16, 8, model.OptimizerAdamW)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ b, l, t int }{{8, 16, 8}, {4, 32, 8}, {4, 16, 16}} {
		e, err := spec.Estimate(tc.b, tc.l, tc.t, model.OptimizerAdamW)
		if err != nil || e.ActivationBytes <= base.ActivationBytes {
			t.Errorf("Estimate%v = %+v, %v; want more activations than %d", tc, e, err, base.ActivationBytes)
		}
	}
	ada, _ := spec.Estimate(4, 16, 8, model.OptimizerAdafactor)
	if !(ada.OptimizerBytes > 0 && ada.OptimizerBytes < base.OptimizerBytes) {
		t.Errorf("Adafactor state %d bytes, AdamW %d: want less but some", ada.OptimizerBytes, base.OptimizerBytes)
	}
}

// The training activations match what the tape holds after a training step (forward
// values, gradients and scratch). The tape reports only its arena's capacity, which
// grows in chunks of doubling size (up to 64 MiB), so the values it handed out lie
// between about half of it and all of it; the estimate must lie there too. (Measured
// with an instrumented arena, the estimate is 1.00 to 1.03 times what it hands out.)
func TestEstimateActivationsCoverTape(t *testing.T) {
	tests := []struct {
		name string
		spec model.Spec
	}{
		{"t5 hypergrid", tinySpec(tinyGrid())},
		{"t5 glu tied", func() model.Spec {
			s := tinySpec(layers.DefaultGLUConfig())
			s.TieEmbeddings = true
			return s
		}()},
		{"encoder", encoderSpec(tinyGrid())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Vocab, spec.DModel, spec.DKV = 512, 64, 32
			spec.Dropout = 0.1
			const b, l, tl = 16, 64, 16
			m, err := model.New(spec, 1)
			if err != nil {
				t.Fatal(err)
			}
			batch := specBatch(spec, b, l, tl)
			tape := autograd.NewTape()
			for range 2 {
				tape.Reset()
				loss, err := m.Loss(tape, batch, model.Options{Train: true, Dropout: layers.NewDropoutSource(1)})
				if err != nil {
					t.Fatal(err)
				}
				m.ZeroGrad()
				tape.Backward(loss)
			}
			arena := int64(tape.ArenaBytes())
			e, err := spec.Estimate(b, l, tl, model.OptimizerAdamW)
			if err != nil {
				t.Fatal(err)
			}
			ratio := float64(e.ActivationBytes) / float64(arena)
			t.Logf("activations: estimate %d B, tape arena %d B (×%.2f)", e.ActivationBytes, arena, ratio)
			if ratio < 0.45 || ratio > 1.1 {
				t.Errorf("estimate %d B is ×%.2f the tape arena's %d B; want ×0.45 to ×1.1", e.ActivationBytes, ratio, arena)
			}
		})
	}
}

// specBatch returns a batch of b examples with ids in [1, vocab) (and targets,
// tasks or labels as spec needs).
func specBatch(spec model.Spec, b, l, tl int) *model.Batch {
	x := uint32(1)
	next := func(n int) int32 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		return int32(x % uint32(n))
	}
	batch := &model.Batch{Size: b, InputLen: l, Inputs: make([]int32, b*l)}
	for i := range batch.Inputs {
		batch.Inputs[i] = 1 + next(spec.Vocab-1)
	}
	if len(spec.Tasks) > 0 {
		batch.Tasks = make([]int32, b)
		for i := range batch.Tasks {
			batch.Tasks[i] = next(len(spec.Tasks))
		}
	}
	if spec.Arch == model.ArchT5 {
		batch.TargetLen, batch.Targets = tl, make([]int32, b*tl)
		for i := range batch.Targets {
			batch.Targets[i] = 1 + next(spec.Vocab-1)
		}
		return batch
	}
	batch.Labels, batch.Values = make([]int32, b), make([]float32, b)
	for i, task := range batch.Tasks {
		if spec.Tasks[task].Kind == model.Classification {
			batch.Labels[i] = next(spec.Tasks[task].Classes)
		}
	}
	return batch
}

// Sizes beyond the bounds are reported by Validate as field errors naming the field
// and the bound, and Estimate returns them without panicking or allocating.
func TestValidateBounds(t *testing.T) {
	glu := func(dff int) *layers.GLUConfig {
		return &layers.GLUConfig{DFF: dff, Activation: layers.GELU, Gated: true}
	}
	tests := []struct {
		name string
		edit func(s *model.Spec)
		path string // the field error's path
		want string // a fragment of its message
	}{
		{"vocab 2e9", func(s *model.Spec) { s.Vocab, s.DModel = 2_000_000_000, 128 }, "vocab", "2^36"},
		{"vocab 2^55", func(s *model.Spec) { s.Vocab = 1 << 55 }, "vocab", "int32"},
		{"vocab 2^62", func(s *model.Spec) { s.Vocab = 1 << 62 }, "vocab", "int32"},
		{"d_model 2^40", func(s *model.Spec) { s.DModel = 1 << 40 }, "d_model", "at most 1048576"},
		{"heads huge", func(s *model.Spec) { s.Heads = 1 << 30 }, "heads", "at most"},
		{"d_kv huge", func(s *model.Spec) { s.DKV = 1 << 21 }, "d_kv", "at most"},
		{"attention product", func(s *model.Spec) { s.Heads, s.DKV, s.DModel = 1<<12, 1<<12, 1<<20 }, "d_kv", "2^36"},
		{"encoder_layers 1e6", func(s *model.Spec) { s.EncoderLayers = 1_000_000 }, "encoder_layers", "at most 4096"},
		{"decoder_layers 1e6", func(s *model.Spec) { s.DecoderLayers = 1_000_000 }, "decoder_layers", "at most 4096"},
		{"buckets huge", func(s *model.Spec) {
			s.RelativeAttention = model.RelativeAttention{Buckets: 1 << 30, MaxDistance: 1 << 31}
		}, "relative_attention.buckets", "at most"},
		{"d_ff huge", func(s *model.Spec) { s.FFN = glu(1 << 40) }, "ffn.d_ff", "at most 1048576"},
		{"d_ff 2^62", func(s *model.Spec) { s.FFN = glu(1 << 62) }, "ffn.d_ff", "at most"},
		{"hypergrid d_ff huge", func(s *model.Spec) { g := tinyGrid(); g.DFF = 1 << 50; s.FFN = g }, "ffn.d_ff", "at most"},
		{"grid rows huge", func(s *model.Spec) { g := tinyGrid(); g.Grid.Rows = 1 << 40; s.FFN = g }, "ffn.grid.rows", "at most"},
		{"grid cols huge", func(s *model.Spec) { g := tinyGrid(); g.Grid.Cols = 1 << 40; s.FFN = g }, "ffn.grid.cols", "at most"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := tinySpec(tinyGrid())
			tc.edit(&spec)
			found := false
			for _, err := range spec.Validate() {
				var fe *registry.FieldError
				if errors.As(err, &fe) && fe.Path == tc.path && strings.Contains(fe.Msg, tc.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("Validate() = %v; want a field error at %s mentioning %q", spec.Validate(), tc.path, tc.want)
			}
			if _, err := spec.Estimate(32, 128, 8, model.OptimizerAdamW); err == nil || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("Estimate: %v; want the error at %s", err, tc.path)
			}
			if _, err := model.New(spec, 1); err == nil {
				t.Error("New built the model")
			}
		})
	}
	t.Run("classes", func(t *testing.T) {
		spec := encoderSpec(tinyGrid())
		spec.DModel = 1 << 20
		spec.Heads, spec.DKV = 1, 1
		spec.Tasks[0].Classes = 1 << 21
		var msgs []string
		for _, err := range spec.Validate() {
			msgs = append(msgs, err.Error())
		}
		if !strings.Contains(strings.Join(msgs, "\n"), "tasks[0].classes: is 2097152, which with d_model") {
			t.Errorf("Validate() = %v; want tasks[0].classes over the bound", msgs)
		}
	})
	t.Run("within bounds", func(t *testing.T) {
		// The largest valid sizes are refused by the memory estimate, not by
		// validation: they pass, and Estimate counts them without overflow.
		spec := tinySpec(tinyGrid())
		spec.Vocab, spec.DModel, spec.EncoderLayers, spec.DecoderLayers = 1<<16, 1<<20, model.MaxLayers, model.MaxLayers
		spec.FFN = glu(1 << 16)
		if errs := spec.Validate(); len(errs) > 0 {
			t.Fatalf("Validate: %v", errs)
		}
		e, err := spec.Estimate(1, 1, 1, model.OptimizerAdamW)
		if err != nil {
			t.Fatal(err)
		}
		if e.Params < 1<<50 || e.Total < e.Params {
			t.Errorf("Estimate = %+v; want some 2^51 parameters", e)
		}
		spec.FFN = glu(1 << 17) // d_model·d_ff = 2^37
		if _, err := spec.Estimate(1, 1, 1, ""); err == nil || !strings.Contains(err.Error(), "ffn.d_ff: is 131072, which with d_model 1048576") {
			t.Errorf("Estimate: %v; want ffn.d_ff over the bound", err)
		}
	})
}

// The inference activations cover what a greedy generation and scoring candidates of
// as many tokens in all (three of a third each; and a batch mixing two candidate sets)
// use, and are at most 3 times the larger: what the tape hands out, and, for a generation, what the
// steps after the first allocate besides (their tapes and the decoder's caches, counted
// whole: the heap's growth over the call less the first tape's chunks). Before the
// step caches the estimate counted the decoder re-run over every position at every
// step, 3 to 4 times what these models use.
func TestEstimateInferenceCoversGenerate(t *testing.T) {
	tests := []struct {
		name string
		spec model.Spec
	}{
		{"t5 hypergrid", tinySpec(tinyGrid())},
		{"t5 glu tied", func() model.Spec {
			// A hidden layer of 128: the feed-forward layers keep it for every row in
			// the estimate, for a block of rows per thread in an inference pass (a
			// wide one makes the estimate's excess depend on the threads and caches).
			glu := layers.DefaultGLUConfig()
			glu.DFF = 128
			s := tinySpec(glu)
			s.TieEmbeddings = true
			return s
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Vocab, spec.DModel, spec.DKV = 512, 64, 32
			const b, l, tl = 16, 64, 24
			m, err := model.New(spec, 1)
			if err != nil {
				t.Fatal(err)
			}
			batch := specBatch(spec, b, l, tl)
			e, err := spec.Estimate(b, l, tl, "")
			if err != nil {
				t.Fatal(err)
			}
			var most int64
			var steps *autograd.Tape // the generation's tape for the steps after the first
			for _, run := range []struct {
				what    string
				scoring bool
				slack   float64
				fn      func(tape *autograd.Tape) error
			}{
				{"generate", false, 3, func(tape *autograd.Tape) error { _, err := m.GenerateOn(tape, steps, batch, tl, -1); return err }},
				{"score", true, 3, func(tape *autograd.Tape) error {
					// Three candidates of tl/3 tokens: tl tokens scored in all.
					cands := make([][]int32, 3)
					for i := range cands {
						cands[i] = batch.Targets[i*(tl/3) : (i+1)*(tl/3)]
					}
					_, err := m.ScoreCandidates(tape, batch, cands)
					return err
				}},
				{"score mixed", true, 3, func(tape *autograd.Tape) error {
					// One candidate of tl/3 tokens for three examples in four, three for
					// the others, which the later passes decode alone.
					third := tl / 3
					sets := [][][]int32{{batch.Targets[:third]}, {batch.Targets[third : 2*third], batch.Targets[2*third : 3*third], batch.Targets[:third]}}
					setOf := make([]int, b)
					for e := range setOf {
						if e%4 == 0 {
							setOf[e] = 1
						}
					}
					_, err := m.ScoreCandidateSets(tape, batch, sets, setOf)
					return err
				}},
			} {
				tape := autograd.NewTape()
				steps = autograd.NewTape()
				steps.SetRecording(false)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				if err := run.fn(tape); err != nil {
					t.Fatal(err)
				}
				runtime.ReadMemStats(&after)
				used := int64(tape.ArenaPeakBytes())
				if run.what == "generate" {
					// The last step's tape (it attends to the most positions), and what
					// the heap gave besides both tapes' chunks: the caches, counted with
					// every copy made as they grew.
					used += int64(steps.ArenaPeakBytes()) +
						int64(after.TotalAlloc-before.TotalAlloc) - int64(tape.ArenaBytes()+steps.ArenaBytes())
				}
				t.Logf("%s: estimate %d B, used %d B (×%.2f)", run.what, e.ActivationBytes, used, float64(e.ActivationBytes)/float64(used))
				if e.ActivationBytes < used {
					t.Errorf("%s: estimate %d B is below the %d B used", run.what, e.ActivationBytes, used)
				}
				most = max(most, used)
				// The way of answering on its own: above what it uses, and within the
				// slack of the bounds (scoring is counted for any cut of the candidates).
				part, slack := spec.InferenceActivationBytes(b, l, tl, run.scoring), run.slack
				if ratio := float64(part) / float64(used); ratio < 1 || ratio > slack {
					t.Errorf("%s alone: estimate %d B is ×%.2f the %d B used; want ×1 to ×%.1f", run.what, part, ratio, used, slack)
				}
			}
			if ratio := float64(e.ActivationBytes) / float64(most); ratio > 3 {
				t.Errorf("estimate %d B is ×%.2f the most used (%d B); want at most ×3", e.ActivationBytes, ratio, most)
			}
		})
	}
}
