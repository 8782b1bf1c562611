package hyper_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/registry"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/autograd/gradcheck"
	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/layers"
)

const (
	dModel = 8
	dFF    = 12
	batch  = 3
	seqLen = 4
	tasks  = 2
)

func site(stack layers.Stack) layers.Site {
	return layers.Site{Stack: stack, Prefix: string(stack) + ".block.0.ffn", DModel: dModel, Heads: 2, DKV: 4, NumTasks: tasks, Init: layers.NewInit(5)}
}

type variant struct {
	name string
	edit func(c *hyper.GridConfig)
}

func variants() []variant {
	return []variant{
		{"LG-first-wo", func(c *hyper.GridConfig) {}},
		{"GL-first-wo", func(c *hyper.GridConfig) { c.Composition = hyper.GL }},
		{"LL-mean-wo", func(c *hyper.GridConfig) { c.Composition = hyper.LL; c.Conditioning = hyper.Mean }},
		{"GG-wo", func(c *hyper.GridConfig) { c.Composition = hyper.GG }},
		{"LG-task-both", func(c *hyper.GridConfig) {
			c.Conditioning = hyper.TaskEmbedding
			c.Weights = []string{hyper.WeightBoth}
		}},
		{"LL-task-wi-relu-plain", func(c *hyper.GridConfig) {
			c.Composition, c.Conditioning, c.Weights = hyper.LL, hyper.TaskEmbedding, []string{hyper.WeightWi}
			c.Activation, c.Gated = layers.ReLU, false
		}},
		{"LG-rows-only-silu", func(c *hyper.GridConfig) { c.Grid = hyper.Grid{Rows: 4, Cols: 1}; c.Activation = layers.SiLU }},
		{"GL-cols-only-wi", func(c *hyper.GridConfig) {
			c.Composition, c.Grid, c.Weights = hyper.GL, hyper.Grid{Rows: 1, Cols: 3}, []string{hyper.WeightWi}
		}},
		{"LG-gate1-wi+wo", func(c *hyper.GridConfig) { c.GateInit = 1; c.Weights = []string{hyper.WeightWi, hyper.WeightWo} }},
	}
}

func config(v variant) *hyper.GridConfig {
	c := hyper.DefaultGridConfig()
	c.DFF = dFF
	c.Grid = hyper.Grid{Rows: 4, Cols: 2}
	v.edit(c)
	return c
}

func build(t *testing.T, c *hyper.GridConfig) *hyper.GridFFN {
	t.Helper()
	f, err := c.BuildFFN(site(layers.Encoder))
	if err != nil {
		t.Fatal(err)
	}
	g, ok := f.(*hyper.GridFFN)
	if !ok {
		t.Fatalf("BuildFFN returned %T, want *hyper.GridFFN", f)
	}
	// Move the gates away from their initial level so that the test sees them.
	for i, p := range g.Params() {
		if p.Group == hyper.ParamGroup {
			rnd := gradcheck.Random(p.Name, uint64(i), 1, p.Shape...)
			copy(p.Data, rnd.Data)
		}
	}
	return g
}

var (
	taskIdx = []int32{1, 0, 1}
	valid   = []bool{true, true, true, false, true, true, false, false, true, true, true, true}
)

func input() *autograd.Param { return gradcheck.Random("x", 99, 1, batch*seqLen, dModel) }

func ctx(t *autograd.Tape) *layers.Context {
	return &layers.Context{Tape: t, Tasks: taskIdx}
}

var seq = layers.Seq{Batch: batch, Len: seqLen, Valid: valid}

// reference computes the layer explicitly in float64: per example, the gated weights
// W ⊙ φ(G_e) are materialised and multiplied.
func reference(f *hyper.GridFFN, x []float32) []float64 {
	cfg := f.Grid
	out := make([]float64, batch*seqLen*dModel)
	get := func(p *autograd.Param, r, c int) float64 { return float64(p.Data[r*p.Cols+c]) }
	for e := range batch {
		cond := make([]float64, dModel)
		n := 0
		for l := range seqLen {
			if cfg.Conditioning == hyper.FirstToken && l > 0 || cfg.Conditioning == hyper.Mean && !valid[e*seqLen+l] {
				continue
			}
			n++
			for d := range dModel {
				cond[d] += float64(x[(e*seqLen+l)*dModel+d])
			}
		}
		for d := range cond {
			cond[d] /= float64(n)
		}
		factor := func(local, task, glob *autograd.Param, size int) []float64 {
			v := make([]float64, size)
			for i := range size {
				switch {
				case local != nil:
					for d := range dModel {
						v[i] += cond[d] * get(local, d, i)
					}
				case task != nil:
					v[i] = get(task, int(taskIdx[e]), i)
				default:
					v[i] = float64(glob.Data[i])
				}
			}
			return v
		}
		gated := func(g *hyper.Gate, w *autograd.Param) [][]float64 {
			m := make([][]float64, w.Rows)
			var r, c []float64
			if g != nil {
				r = factor(g.LocalRows, g.TaskRows, g.GlobalRows, g.Rows)
				c = factor(g.LocalCols, g.TaskCols, g.GlobalCols, g.Cols)
			}
			for p := range w.Rows {
				m[p] = make([]float64, w.Cols)
				for q := range w.Cols {
					gate := 1.0
					if g != nil {
						i, j := p/(w.Rows/g.Rows), q/(w.Cols/g.Cols)
						gate = float64(g.Scale) / (1 + math.Exp(-r[i]*c[j]))
					}
					m[p][q] = get(w, p, q) * gate
				}
			}
			return m
		}
		wi0 := gated(f.Wi, f.GLU.Wi0)
		var wi1 [][]float64
		if f.GLU.Wi1 != nil {
			wi1 = gated(f.Wi, f.GLU.Wi1)
		}
		wo := gated(f.Wo, f.GLU.Wo)
		for l := range seqLen {
			row := x[(e*seqLen+l)*dModel:]
			h := make([]float64, dFF)
			for j := range dFF {
				var a, b float64
				for d := range dModel {
					a += float64(row[d]) * wi0[d][j]
					if wi1 != nil {
						b += float64(row[d]) * wi1[d][j]
					}
				}
				h[j] = act(f.Config.Activation, a)
				if wi1 != nil {
					h[j] *= b
				}
			}
			for d := range dModel {
				var s float64
				for j := range dFF {
					s += h[j] * wo[j][d]
				}
				out[(e*seqLen+l)*dModel+d] = s
			}
		}
	}
	return out
}

func act(a layers.Activation, x float64) float64 {
	switch a {
	case layers.GELU:
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	case layers.ReLU:
		return math.Max(x, 0)
	default:
		return x / (1 + math.Exp(-x))
	}
}

// The layer equals the explicit per-example W ⊙ φ(G) computation in every variant.
func TestGridFFNMatchesExplicitGating(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			f := build(t, config(v))
			x := input()
			tape := autograd.NewTape()
			y := f.Forward(ctx(tape), &x.Tensor, seq)
			want := reference(f, x.Data)
			for i := range want {
				if math.Abs(float64(y.Data[i])-want[i]) > 1e-4*(1+math.Abs(want[i])) {
					t.Fatalf("output[%d] = %v, want %v", i, y.Data[i], want[i])
				}
			}
		})
	}
}

// The layer's gradients (input, weights and gate parameters) pass finite differences.
func TestGridFFNGradients(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			f := build(t, config(v))
			x := input()
			params := append([]*autograd.Param{x}, f.Params()...)
			w := gradcheck.Weights(batch*seqLen*dModel, 3)
			loss := func(tape *autograd.Tape) *autograd.Tensor {
				return tape.WeightedSum(f.Forward(ctx(tape), &x.Tensor, seq), w)
			}
			if err := gradcheck.Check(loss, params, gradcheck.Options{Step: 5e-3}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// With gate_init 1 and zero global factors every gate is 1: the layer equals the
// plain GLU layer with the same weights.
func TestGateInitOneStartsAsPlainLayer(t *testing.T) {
	c := config(variants()[0])
	c.GateInit = 1
	g, err := c.BuildFFN(site(layers.Encoder))
	if err != nil {
		t.Fatal(err)
	}
	f := g.(*hyper.GridFFN)
	clear(f.Wo.GlobalCols.Data)
	x := input()
	tape := autograd.NewTape()
	got := f.Forward(ctx(tape), &x.Tensor, seq)
	want := f.GLU.Forward(ctx(tape), &x.Tensor, seq)
	for i := range want.Data {
		if math.Abs(float64(got.Data[i]-want.Data[i])) > 1e-5 {
			t.Fatalf("output[%d] = %v, plain layer gives %v", i, got.Data[i], want.Data[i])
		}
	}
}

// A stack left out of Stacks gets the plain GLU layer.
func TestUngatedStackGetsPlainGLU(t *testing.T) {
	c := hyper.DefaultGridConfig()
	c.Stacks = []layers.Stack{layers.Encoder}
	f, err := c.BuildFFN(site(layers.Decoder))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.(*layers.GLU); !ok {
		t.Fatalf("decoder FFN is %T, want *layers.GLU", f)
	}
}

// The parameters carry their HyperGrid and per-task marks and their names.
func TestParamNames(t *testing.T) {
	c := config(variants()[4]) // LG, task embedding, both
	f := build(t, c)
	var names []string
	for _, p := range f.Params() {
		tag := ""
		if p.Group == hyper.ParamGroup {
			tag += " hypergrid"
		}
		if p.PerTask {
			tag += " per-task"
		}
		names = append(names, p.Name+tag)
	}
	want := []string{
		"encoder.block.0.ffn.wi0", "encoder.block.0.ffn.wi1", "encoder.block.0.ffn.wo",
		"encoder.block.0.ffn.grid_wi.task_rows hypergrid per-task", "encoder.block.0.ffn.grid_wi.global_cols hypergrid",
		"encoder.block.0.ffn.grid.task_rows hypergrid per-task", "encoder.block.0.ffn.grid.global_cols hypergrid",
	}
	if !slices.Equal(names, want) {
		t.Errorf("params:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(c *hyper.GridConfig)
		stack  layers.Stack
		fields []string
	}{
		{"default", func(c *hyper.GridConfig) {}, layers.Encoder, nil},
		{"bad composition", func(c *hyper.GridConfig) { c.Composition = "XY" }, layers.Encoder, []string{"composition"}},
		{"rows not dividing d_ff", func(c *hyper.GridConfig) { c.Grid.Rows = 5 }, layers.Encoder, []string{"grid.rows"}},
		{"cols not dividing d_model", func(c *hyper.GridConfig) { c.Grid.Cols = 3 }, layers.Encoder, []string{"grid.cols"}},
		{"wi rows not dividing d_model", func(c *hyper.GridConfig) { c.Grid = hyper.Grid{Rows: 3, Cols: 4}; c.Weights = []string{"wi"} }, layers.Encoder, []string{"grid.rows"}},
		{"zero grid", func(c *hyper.GridConfig) { c.Grid = hyper.Grid{} }, layers.Encoder, []string{"grid.rows", "grid.cols"}},
		{"bad conditioning", func(c *hyper.GridConfig) { c.Conditioning = "last" }, layers.Encoder, []string{"conditioning"}},
		{"mean in decoder", func(c *hyper.GridConfig) { c.Conditioning = hyper.Mean }, layers.Decoder, []string{"conditioning"}},
		{"bad weight", func(c *hyper.GridConfig) { c.Weights = []string{"wo", "wq"} }, layers.Encoder, []string{"weights[1]"}},
		{"no weights", func(c *hyper.GridConfig) { c.Weights = nil }, layers.Encoder, []string{"weights"}},
		{"bad stack", func(c *hyper.GridConfig) { c.Stacks = []layers.Stack{"encoder", "middle", "encoder"} }, layers.Encoder, []string{"stacks[1]", "stacks[2]"}},
		{"gate init", func(c *hyper.GridConfig) { c.GateInit = 0 }, layers.Encoder, []string{"gate_init"}},
		{"glu fields", func(c *hyper.GridConfig) { c.DFF = 0; c.Activation = "tanh" }, layers.Encoder, []string{"d_ff", "activation"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := hyper.DefaultGridConfig()
			c.DFF = 64
			c.Grid = hyper.Grid{Rows: 4, Cols: 4}
			tc.edit(c)
			s := site(tc.stack)
			s.DModel = 16
			_, err := c.BuildFFN(s)
			var fields []string
			if err != nil {
				var list []error
				if j, ok := err.(interface{ Unwrap() []error }); ok {
					list = j.Unwrap()
				} else {
					list = []error{err}
				}
				for _, e := range list {
					var fe *registry.FieldError
					if !errors.As(e, &fe) {
						t.Fatalf("error %q is not a *registry.FieldError", e)
					}
					if fe.Msg == "" {
						t.Errorf("field %s: empty message", fe.Path)
					}
					fields = append(fields, fe.Field())
				}
			}
			if !slices.Equal(fields, tc.fields) {
				t.Errorf("error fields %v, want %v (error: %v)", fields, tc.fields, err)
			}
		})
	}
}

// Inference runs the layer in blocks of examples (rewinding the tape after each): the
// output equals the recording tape's one pass over the batch bit for bit, in every
// variant, with a last block shorter than the others.
func TestInferenceInBlocksMatchesOnePass(t *testing.T) {
	const long = 1500 // inferBlockRows 2048: one example a block, three blocks
	lseq := layers.Seq{Batch: batch, Len: long, Valid: make([]bool, batch*long)}
	for i := range lseq.Valid {
		lseq.Valid[i] = i%long < long-7*(i/long) // example e has 7e padding positions
	}
	x := gradcheck.Random("x", 98, 1, batch*long, dModel)
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			f := build(t, config(v))
			tape := autograd.NewTape()
			want := slices.Clone(f.Forward(ctx(tape), &x.Tensor, lseq).Data)
			inf := autograd.NewTape()
			inf.SetRecording(false)
			got := f.Forward(ctx(inf), &x.Tensor, lseq).Data
			if !slices.Equal(got, want) {
				t.Fatal("inference in blocks differs from the one-pass forward")
			}
		})
	}
}
