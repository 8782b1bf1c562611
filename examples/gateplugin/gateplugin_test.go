package gateplugin_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/examples/gateplugin/smoke"
	"github.com/hypergrid-go/hypergrid/recipe"

	"github.com/hypergrid-go/hypergrid/hyper"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/examples/gateplugin"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/registry"
)

func TestRegistered(t *testing.T) {
	b, err := registry.NewAs[layers.FFNBuilder](gateplugin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.(*gateplugin.Config); !ok {
		t.Errorf("%s builds %T", gateplugin.ID, b)
	}
}

func TestRecipeBuildsAndTrains(t *testing.T) {
	r, err := recipe.Load("recipe.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Source.Components["model.ffn"]; got != gateplugin.ID {
		t.Fatalf("model.ffn is %q", got)
	}
	m, err := r.Build(1)
	if err != nil {
		t.Fatal(err)
	}
	// Every FFN adds d_model·rows + cols gate parameters to the plain GLU layer.
	var gate int
	for _, p := range m.Params() {
		if p.Group == hyper.ParamGroup {
			gate += p.Size()
		}
	}
	if want := 4 * (64*8 + 8); gate != want {
		t.Errorf("%d gate parameters, want %d", gate, want)
	}
	losses, err := smoke.Train(m, r.Train, smoke.TinyBatch(r.Model.Vocab), 40, 1e-3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first, last := losses[0], losses[len(losses)-1]; !(last < first/4) {
		t.Errorf("loss %.4f -> %.4f after %d steps; want it to fall below a quarter", first, last, len(losses))
	}
}

func TestRecipeErrors(t *testing.T) {
	bad := strings.NewReplacer("gate: relu", "gate: tanh", "rows: 8, cols: 8", "rows: 7, cols: 8").Replace(string(gateplugin.Recipe))
	_, err := recipe.Loader{}.Parse("bad.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`bad.yaml:21:18: model.ffn.grid.rows: is 7, which does not divide d_ff (256)`,
		`bad.yaml:22:11: model.ffn.gate: is "tanh"; want relu, gelu or silu`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// A grid that does not tile d_model is found when the model is built.
	r, err := recipe.Loader{Sets: []string{"model.ffn.grid.cols=6"}}.Parse("r.yaml", gateplugin.Recipe)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Build(1)
	if err == nil || !strings.Contains(err.Error(), "--set model.ffn.grid.cols=6: model.ffn.grid.cols: is 6, which does not divide d_model (64)") {
		t.Errorf("build error = %v", err)
	}
}

// build builds the layer for a small site.
func build(t *testing.T, c *gateplugin.Config) *gateplugin.FFN {
	t.Helper()
	site := layers.Site{Stack: layers.Encoder, Prefix: "enc.ffn", DModel: 8, Heads: 2, DKV: 4, NumTasks: 1, Init: layers.NewInit(3)}
	f, err := c.BuildFFN(site)
	if err != nil {
		t.Fatal(err)
	}
	return f.(*gateplugin.FFN)
}

func TestGatesStartAtOffset(t *testing.T) {
	for _, gate := range []layers.Activation{layers.ReLU, layers.GELU, layers.SiLU} {
		c := &gateplugin.Config{GLUConfig: layers.GLUConfig{DFF: 16, Activation: layers.GELU, Gated: true}, Grid: gateplugin.Grid{Rows: 4, Cols: 2}, Gate: gate, Offset: 1}
		f := build(t, c)
		clear(f.GlobalCols.Data) // r cᵀ = 0
		tape := autograd.NewTape()
		cond := tape.From([]float32{1, -2, 3, 0.5, 0, 1, 2, -1, 4, 4, 4, 4, -4, -4, -4, -4}, 2, 8)
		g := f.Gates(&layers.Context{Tape: tape}, cond)
		want := map[layers.Activation]float64{layers.ReLU: 1, layers.GELU: 0.8412, layers.SiLU: 0.7311}[gate]
		for i, v := range g.Data {
			if math.Abs(float64(v)-want) > 1e-3 {
				t.Fatalf("%s: gate %d = %v, want φ(1) = %v", gate, i, v, want)
			}
		}
	}
}

// TestGradients compares the tape's parameter gradients of the whole layer with
// central finite differences.
func TestGradients(t *testing.T) {
	for _, gate := range []layers.Activation{layers.ReLU, layers.GELU, layers.SiLU} {
		t.Run(string(gate), func(t *testing.T) {
			c := &gateplugin.Config{GLUConfig: layers.GLUConfig{DFF: 16, Activation: layers.SiLU, Gated: true}, Grid: gateplugin.Grid{Rows: 4, Cols: 2}, Gate: gate, Offset: 1}
			f := build(t, c)
			for i := range f.GlobalCols.Data {
				f.GlobalCols.Data[i] = 0.3 * float32(i%3-1) // non-trivial gates
			}
			rng := rand.New(rand.NewPCG(1, 2))
			seq := layers.Seq{Batch: 2, Len: 3}
			x := make([]float32, seq.Rows()*8)
			w := make([]float32, seq.Rows()*8)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
				w[i] = float32(rng.NormFloat64())
			}
			tape := autograd.NewTape()
			loss := func() float64 {
				tape.Reset()
				y := f.Forward(&layers.Context{Tape: tape}, tape.From(x, seq.Rows(), 8), seq)
				return float64(tape.WeightedSum(y, w).Data[0])
			}
			for _, p := range f.Params() {
				p.ZeroGrad()
			}
			tape.Reset()
			y := f.Forward(&layers.Context{Tape: tape}, tape.From(x, seq.Rows(), 8), seq)
			tape.Backward(tape.WeightedSum(y, w))
			for _, p := range f.Params() {
				grad := append([]float32(nil), p.Grad...)
				for _, i := range []int{0, len(p.Data) / 2, len(p.Data) - 1} {
					const h = 1e-2
					old := p.Data[i]
					p.Data[i] = old + h
					up := loss()
					p.Data[i] = old - h
					down := loss()
					p.Data[i] = old
					num := (up - down) / (2 * h)
					if d := math.Abs(num - float64(grad[i])); d > 2e-2*(1+math.Abs(num)) {
						t.Errorf("%s[%d]: gradient %v, finite difference %v", p.Name, i, grad[i], num)
					}
				}
			}
		})
	}
}
