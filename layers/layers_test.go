package layers_test

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/autograd/gradcheck"
	"github.com/hypergrid-go/hypergrid/internal/golden"
	"github.com/hypergrid-go/hypergrid/layers"
)

func site(prefix string) layers.Site {
	return layers.Site{Stack: layers.Encoder, Prefix: prefix, DModel: 6, Heads: 2, DKV: 3,
		RelativeBuckets: 8, RelativeMaxDistance: 16, NumTasks: 1, Init: layers.NewInit(3)}
}

func ctx(t *autograd.Tape) *layers.Context { return &layers.Context{Tape: t} }

// check runs a finite-difference check of out = fwd(...) weighted randomly.
func check(t *testing.T, params []*autograd.Param, fwd func(c *layers.Context) *autograd.Tensor) {
	t.Helper()
	var w []float32
	loss := func(tape *autograd.Tape) *autograd.Tensor {
		out := fwd(ctx(tape))
		if out.Len() == 1 {
			return out
		}
		if w == nil {
			w = gradcheck.Weights(out.Len(), 17)
		}
		return tape.WeightedSum(out, w)
	}
	if err := gradcheck.Check(loss, params, gradcheck.Options{Step: 5e-3}); err != nil {
		t.Fatal(err)
	}
}

func TestLayerGradients(t *testing.T) {
	const b, l, m = 2, 4, 3
	x := gradcheck.Random("x", 1, 1, b*l, 6)
	mem := gradcheck.Random("mem", 2, 1, b*m, 6)
	xValid := []bool{true, true, true, true, true, true, false, false}
	memValid := []bool{true, true, false, true, true, true}
	seq := layers.Seq{Batch: b, Len: l, Valid: xValid}
	memSeq := layers.Seq{Batch: b, Len: m, Valid: memValid}
	t.Run("GLU-GEGLU", func(t *testing.T) {
		f, err := (&layers.GLUConfig{DFF: 8, Activation: layers.GELU, Gated: true}).BuildFFN(site("ffn"))
		if err != nil {
			t.Fatal(err)
		}
		check(t, append(f.Params(), x), func(c *layers.Context) *autograd.Tensor { return f.Forward(c, &x.Tensor, seq) })
	})
	t.Run("GLU-SwiGLU", func(t *testing.T) {
		f, _ := (&layers.GLUConfig{DFF: 8, Activation: layers.SiLU, Gated: true}).BuildFFN(site("ffn"))
		check(t, append(f.Params(), x), func(c *layers.Context) *autograd.Tensor { return f.Forward(c, &x.Tensor, seq) })
	})
	t.Run("FFN-ReLU-plain", func(t *testing.T) {
		f, _ := (&layers.GLUConfig{DFF: 8, Activation: layers.ReLU}).BuildFFN(site("ffn"))
		if len(f.Params()) != 2 {
			t.Fatalf("plain FFN has %d params, want 2 (wi0, wo)", len(f.Params()))
		}
		check(t, append(f.Params(), x), func(c *layers.Context) *autograd.Tensor { return f.Forward(c, &x.Tensor, seq) })
	})
	t.Run("SelfAttention-bias-shared", func(t *testing.T) {
		s0 := site("l0")
		s1 := site("l1")
		s1.Layer = 1
		a0, _ := layers.DefaultT5AttentionConfig().BuildAttention(s0)
		a1, _ := layers.DefaultT5AttentionConfig().BuildAttention(s1)
		if len(a0.Params()) != 5 || len(a1.Params()) != 4 {
			t.Fatalf("layer 0 has %d params (want q,k,v,o,relative_bias), layer 1 %d (want 4)", len(a0.Params()), len(a1.Params()))
		}
		params := append(append(a0.Params(), a1.Params()...), x)
		check(t, params, func(c *layers.Context) *autograd.Tensor {
			st := &layers.StackState{}
			h := a0.Forward(c, layers.AttentionInput{X: &x.Tensor, XSeq: seq, Shared: st})
			return a1.Forward(c, layers.AttentionInput{X: h, XSeq: seq, Shared: st})
		})
	})
	t.Run("CausalSelfAttention", func(t *testing.T) {
		s := site("dec")
		s.Stack, s.Causal = layers.Decoder, true
		a, _ := (&layers.T5AttentionConfig{ScaleScores: true}).BuildAttention(s)
		check(t, append(a.Params(), x), func(c *layers.Context) *autograd.Tensor {
			return a.Forward(c, layers.AttentionInput{X: &x.Tensor, XSeq: seq, Shared: &layers.StackState{}})
		})
	})
	t.Run("CrossAttention", func(t *testing.T) {
		s := site("cross")
		s.Stack, s.Cross = layers.Decoder, true
		a, _ := layers.DefaultT5AttentionConfig().BuildAttention(s)
		if len(a.Params()) != 4 {
			t.Fatalf("cross-attention has %d params, want 4 (no position bias)", len(a.Params()))
		}
		check(t, append(a.Params(), x, mem), func(c *layers.Context) *autograd.Tensor {
			return a.Forward(c, layers.AttentionInput{X: &x.Tensor, XSeq: seq, Memory: &mem.Tensor, MemorySeq: memSeq})
		})
	})
	t.Run("RMSNorm", func(t *testing.T) {
		n := layers.NewNorm("n", layers.RMSNormKind, 6, 1e-6)
		copy(n.Weight.Data, gradcheck.Random("w", 4, 1, 6).Data)
		check(t, append(n.Params(), x), func(c *layers.Context) *autograd.Tensor { return n.Forward(c, &x.Tensor) })
	})
	t.Run("LayerNorm", func(t *testing.T) {
		n := layers.NewNorm("n", layers.LayerNormKind, 6, 1e-5)
		copy(n.Bias.Data, gradcheck.Random("b", 4, 1, 6).Data)
		check(t, append(n.Params(), x), func(c *layers.Context) *autograd.Tensor { return n.Forward(c, &x.Tensor) })
	})
	t.Run("EmbeddingTiedLM", func(t *testing.T) {
		init := layers.NewInit(1)
		e := layers.NewEmbedding(init, "embedding", 7, 6)
		head := layers.NewLMHead(init, "lm_head", 6, 7, e, 0.1)
		ids := []int32{1, 2, 0, 6, 6, 3, 2, 1}
		targets := []int32{2, 0, -1, 6, 1, -1, 3, 5}
		check(t, []*autograd.Param{e.Table}, func(c *layers.Context) *autograd.Tensor {
			return head.Loss(c, e.Lookup(c, ids), targets)
		})
	})
	t.Run("UntiedLM", func(t *testing.T) {
		head := layers.NewLMHead(layers.NewInit(1), "lm_head", 6, 7, nil, 0)
		targets := []int32{2, 0, -1, 6, 1, -1, 3, 5}
		check(t, append(head.Params(), x), func(c *layers.Context) *autograd.Tensor {
			return head.Loss(c, &x.Tensor, targets)
		})
	})
	t.Run("ClassificationHead", func(t *testing.T) {
		h := layers.NewClassificationHead(layers.NewInit(1), "heads.sst2", 6, 3, 0)
		check(t, append(h.Params(), x), func(c *layers.Context) *autograd.Tensor {
			return h.Loss(c, h.Logits(c, &x.Tensor), []int32{0, 1, 2, 2, 1, 0, 1, 1})
		})
	})
	t.Run("RegressionHead", func(t *testing.T) {
		h := layers.NewRegressionHead(layers.NewInit(1), "heads.stsb", 6)
		check(t, append(h.Params(), x), func(c *layers.Context) *autograd.Tensor {
			return h.Loss(c, h.Predict(c, &x.Tensor), []float32{0, 1, 2, 3, 4, 5, 1, 2})
		})
	})
	t.Run("Dropout", func(t *testing.T) {
		c := &layers.Context{Train: true, Dropout: layers.NewDropoutSource(7)}
		check(t, []*autograd.Param{x}, func(cc *layers.Context) *autograd.Tensor {
			c.Tape = cc.Tape
			c.Dropout.SetStep(3)
			return layers.Dropout(c, &x.Tensor, 0.25)
		})
	})
}

// The language-model head's loss is the cross-entropy of its logits bit for bit, tied
// and untied: training's loss and evaluation's logits agree.
func TestLMHeadLossIsCrossEntropyOfLogits(t *testing.T) {
	init := layers.NewInit(1)
	x := gradcheck.Random("x", 1, 1, 8, 6)
	targets := []int32{2, 0, -1, 6, 1, -1, 3, 5}
	for _, tied := range []*layers.Embedding{nil, layers.NewEmbedding(init, "embedding", 7, 6)} {
		head := layers.NewLMHead(init, "lm_head", 6, 7, tied, 0.1)
		tape := autograd.NewTape()
		got := head.Loss(ctx(tape), &x.Tensor, targets).Data[0]
		want := tape.CrossEntropy(head.Logits(ctx(tape), &x.Tensor), targets, 0.1).Data[0]
		if got != want {
			t.Errorf("tied=%v: loss %v, cross-entropy of the logits %v", tied != nil, got, want)
		}
	}
}

// Padding keys get no attention: changing a padded memory row changes nothing.
func TestAttentionIgnoresPadding(t *testing.T) {
	s := site("cross")
	s.Cross = true
	a, _ := layers.DefaultT5AttentionConfig().BuildAttention(s)
	x := gradcheck.Random("x", 1, 1, 2, 6)
	mem := gradcheck.Random("mem", 2, 1, 3, 6)
	in := layers.AttentionInput{X: &x.Tensor, XSeq: layers.Seq{Batch: 1, Len: 2}, Memory: &mem.Tensor,
		MemorySeq: layers.Seq{Batch: 1, Len: 3, Valid: []bool{true, true, false}}}
	tape := autograd.NewTape()
	before := append([]float32(nil), a.Forward(ctx(tape), in).Data...)
	for i := 12; i < 18; i++ {
		mem.Data[i] += 5
	}
	after := a.Forward(ctx(tape), in).Data
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("output %d changed from %v to %v when a padding key changed", i, before[i], after[i])
		}
	}
}

// Causal attention: changing a later position leaves earlier outputs unchanged.
func TestCausalAttentionIgnoresFuture(t *testing.T) {
	s := site("dec")
	s.Causal = true
	a, _ := layers.DefaultT5AttentionConfig().BuildAttention(s)
	x := gradcheck.Random("x", 1, 1, 4, 6)
	in := layers.AttentionInput{X: &x.Tensor, XSeq: layers.Seq{Batch: 1, Len: 4}, Shared: &layers.StackState{}}
	tape := autograd.NewTape()
	before := append([]float32(nil), a.Forward(ctx(tape), in).Data...)
	x.Data[3*6] += 3
	in.Shared = &layers.StackState{}
	after := a.Forward(ctx(tape), in).Data
	for i := range 3 * 6 {
		if before[i] != after[i] {
			t.Fatalf("output %d changed when a later position changed", i)
		}
	}
}

func TestRelativeBucketValues(t *testing.T) {
	tests := []struct {
		rel           int
		bidirectional bool
		want          int32
	}{
		{0, true, 0}, {-1, true, 1}, {1, true, 17}, {-7, true, 7}, {-8, true, 8}, {8, true, 24},
		{-127, true, 15}, {-500, true, 15}, {500, true, 31},
		{0, false, 0}, {5, false, 0}, {-15, false, 15}, {-16, false, 16}, {-20, false, 17}, {-1000, false, 31},
	}
	for _, tc := range tests {
		if got := layers.RelativeBucket(tc.rel, tc.bidirectional, 32, 128); got != tc.want {
			t.Errorf("bucket(rel=%d, bidirectional=%v) = %d, want %d", tc.rel, tc.bidirectional, got, tc.want)
		}
	}
}

// The full bucket tables are pinned by a golden file (go test -update rewrites it).
func TestRelativeBucketsGolden(t *testing.T) {
	var buf bytes.Buffer
	for _, bi := range []bool{true, false} {
		fmt.Fprintf(&buf, "bidirectional=%v buckets=32 max_distance=128: queries 0, 100, 199 against keys 0..199\n", bi)
		b := layers.RelativeBuckets(200, 200, bi, 32, 128)
		for _, q := range []int{0, 100, 199} {
			fmt.Fprintf(&buf, "q=%d:", q)
			for k := range 200 {
				fmt.Fprintf(&buf, " %d", b[q*200+k])
			}
			buf.WriteByte('\n')
		}
	}
	golden.Check(t, filepath.Join("testdata", "relative_buckets.golden"), buf.Bytes())
}

// Dropout masks depend only on the seed, step and call order; they keep the
// expected rate and scale.
func TestDropoutDeterministic(t *testing.T) {
	x := gradcheck.Random("x", 1, 1, 64, 64)
	run := func(step uint64) []float32 {
		c := &layers.Context{Tape: autograd.NewTape(), Train: true, Dropout: layers.NewDropoutSource(11)}
		c.Dropout.SetStep(step)
		return layers.Dropout(c, &x.Tensor, 0.2).Data
	}
	a, b, other := run(5), run(5), run(6)
	zeros, same := 0, true
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("the same seed and step gave different masks")
		}
		if a[i] != other[i] {
			same = false
		}
		if a[i] == 0 {
			zeros++
		} else if math.Abs(float64(a[i]-x.Data[i]/0.8)) > 1e-5 {
			t.Fatalf("kept value %v, want %v", a[i], x.Data[i]/0.8)
		}
	}
	if same {
		t.Error("different steps gave the same mask")
	}
	if rate := float64(zeros) / float64(len(a)); math.Abs(rate-0.2) > 0.02 {
		t.Errorf("dropped %.3f of the values, want about 0.2", rate)
	}
	c := &layers.Context{Tape: autograd.NewTape()}
	if layers.Dropout(c, &x.Tensor, 0.2) != &x.Tensor {
		t.Error("dropout outside training changed its input")
	}
}

func TestGLUValidate(t *testing.T) {
	tests := []struct {
		cfg    layers.GLUConfig
		fields []string
	}{
		{*layers.DefaultGLUConfig(), nil},
		{layers.GLUConfig{DFF: 0, Activation: layers.GELU}, []string{"d_ff"}},
		{layers.GLUConfig{DFF: 4, Activation: "tanh"}, []string{"activation"}},
		{layers.GLUConfig{DFF: -1, Activation: ""}, []string{"d_ff", "activation"}},
	}
	for _, tc := range tests {
		errs := tc.cfg.Validate()
		var fields []string
		for _, e := range errs {
			fields = append(fields, e.(interface{ Field() string }).Field())
		}
		if fmt.Sprint(fields) != fmt.Sprint(tc.fields) {
			t.Errorf("%+v: fields %v, want %v", tc.cfg, fields, tc.fields)
		}
	}
}
