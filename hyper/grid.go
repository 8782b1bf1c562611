package hyper

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/layers"
)

// globalStd is the standard deviation of a global factor's initial values: small, so
// that training starts with r cᵀ ≈ 0 and every gate near its initial level.
const globalStd = 0.02

// Gate computes one per-example gr×gc grid of gates 2·level·σ(r cᵀ) for one gated
// weight. Each factor is local (from the example's conditioning vector or task) or
// global; exactly one of the Local*, Task* and Global* parameters of each factor is set.
type Gate struct {
	// Name is the gate's parameter prefix ("encoder.block.0.ffn.grid"), used to label
	// its values for layers.Context.Tap.
	Name       string
	Rows, Cols int
	// LocalRows and LocalCols project the conditioning vector (DModel×Rows, DModel×Cols).
	LocalRows, LocalCols *autograd.Param
	// TaskRows and TaskCols are per-task tables (Tasks×Rows, Tasks×Cols) used with
	// task_embedding conditioning.
	TaskRows, TaskCols *autograd.Param
	// GlobalRows and GlobalCols are free vectors shared by all examples.
	GlobalRows, GlobalCols *autograd.Param
	// Scale is 2·gate_init.
	Scale float32
}

// newGate creates the gate parameters named prefix.*.
func newGate(site layers.Site, prefix string, c GridConfig, rows, cols int) *Gate {
	g := &Gate{Name: prefix, Rows: rows, Cols: cols, Scale: float32(2 * c.GateInit)}
	mark := func(p *autograd.Param, perTask bool) *autograd.Param {
		p.Group, p.PerTask = ParamGroup, perTask
		return p
	}
	// The second local factor of LL starts small so that r cᵀ ≈ 0 at first.
	localStd := func(second bool) float64 {
		if second {
			return globalStd
		}
		return 1
	}
	factor := func(local bool, size int, name string, second bool) (loc, task, glob *autograd.Param) {
		switch {
		case !local:
			glob = mark(site.Init.Normal(autograd.NewParam(prefix+".global_"+name, size), globalStd), false)
		case c.Conditioning == TaskEmbedding:
			task = mark(site.Init.Normal(autograd.NewParam(prefix+".task_"+name, site.NumTasks, size), localStd(second)), true)
		default:
			loc = mark(site.Init.Normal(autograd.NewParam(prefix+".local_"+name, site.DModel, size), localStd(second)*layers.Fan(site.DModel)), false)
		}
		return
	}
	g.LocalRows, g.TaskRows, g.GlobalRows = factor(c.Composition.rowsLocal(), rows, "rows", false)
	g.LocalCols, g.TaskCols, g.GlobalCols = factor(c.Composition.colsLocal(), cols, "cols", c.Composition == LL)
	if c.ExactInit {
		// Drawn above all the same, so the other parameters are those of the model
		// without exact_init.
		for _, p := range []*autograd.Param{g.LocalCols, g.TaskCols, g.GlobalCols} {
			if p != nil {
				clear(p.Data)
			}
		}
	}
	return g
}

// Params lists the gate's parameters.
func (g *Gate) Params() []*autograd.Param {
	var ps []*autograd.Param
	for _, p := range []*autograd.Param{g.LocalRows, g.TaskRows, g.GlobalRows, g.LocalCols, g.TaskCols, g.GlobalCols} {
		if p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// factor returns one factor as a tensor of batch rows (local) or one row (global).
func factor(ctx *layers.Context, cond *autograd.Tensor, local, task, glob *autograd.Param) *autograd.Tensor {
	switch {
	case local != nil:
		return ctx.Tape.MatMul(cond, &local.Tensor, false)
	case task != nil:
		return ctx.Tape.GatherRows(&task.Tensor, ctx.Tasks)
	default:
		return &glob.Tensor
	}
}

// Forward returns the batch×(Rows·Cols) gates; cond is the batch×DModel conditioning
// (nil when no factor is projected).
func (g *Gate) Forward(ctx *layers.Context, cond *autograd.Tensor, batch int) *autograd.Tensor {
	t := ctx.Tape
	r := factor(ctx, cond, g.LocalRows, g.TaskRows, g.GlobalRows)
	c := factor(ctx, cond, g.LocalCols, g.TaskCols, g.GlobalCols)
	o := t.Outer(r, c)
	if o.Rows != batch { // GG: one grid for all examples
		zeros := t.Ints(batch)
		clear(zeros)
		o = t.GatherRows(o, zeros)
	}
	s := t.Sigmoid(o)
	if g.Scale != 1 {
		s = t.Scale(s, g.Scale)
	}
	if ctx.Tap != nil {
		ctx.Tap(g.Name, batch, g.Rows, g.Cols, s.Data)
	}
	return s
}

// GridFFN is the HyperGrid feed-forward layer: a GLU layer whose wo (and/or wi0 and
// wi1, which share one gate) is multiplied block-wise by per-example gates.
type GridFFN struct {
	Config layers.GLUConfig
	Grid   GridConfig
	GLU    *layers.GLU
	// Wo gates the output projection (named Prefix.grid.*); Wi gates both input
	// projections (Prefix.grid_wi.*). Either may be nil.
	Wo, Wi *Gate
}

func newGridFFN(site layers.Site, c GridConfig) *GridFFN {
	f := &GridFFN{Config: c.GLUConfig, Grid: c, GLU: layers.NewGLU(site, c.GLUConfig)}
	if c.gates(WeightWi) {
		f.Wi = newGate(site, site.Prefix+".grid_wi", c, c.Grid.Rows, c.Grid.Cols)
	}
	if c.gates(WeightWo) {
		f.Wo = newGate(site, site.Prefix+".grid", c, c.Grid.Rows, c.Grid.Cols)
	}
	return f
}

// conditioning returns the batch×DModel conditioning vectors, or nil when the
// composition projects none.
func (f *GridFFN) conditioning(ctx *layers.Context, x *autograd.Tensor, seq layers.Seq) *autograd.Tensor {
	if f.Grid.Composition == GG || f.Grid.Conditioning == TaskEmbedding {
		if f.Grid.Conditioning == TaskEmbedding && f.Grid.Composition != GG && len(ctx.Tasks) != seq.Batch {
			panic(fmt.Sprintf("hyper: task_embedding conditioning needs one task index per example (%d for a batch of %d)", len(ctx.Tasks), seq.Batch))
		}
		return nil
	}
	t := ctx.Tape
	if f.Grid.Conditioning == Mean {
		return t.MeanRows(x, seq.Batch, seq.Valid)
	}
	idx := t.Ints(seq.Batch)
	for e := range idx {
		idx[e] = int32(e * seq.Len)
	}
	return t.GatherRows(x, idx)
}

// Forward implements layers.FeedForward.
func (f *GridFFN) Forward(ctx *layers.Context, x *autograd.Tensor, seq layers.Seq) *autograd.Tensor {
	cond := f.conditioning(ctx, x, seq)
	gate := func(g *Gate) *autograd.Tensor { return g.Forward(ctx, cond, seq.Batch) }
	return f.gated(ctx, x, seq, gate)
}

// gated runs the layer over x with the gates that gate returns for Wi and Wo (asked
// for in that order). Training runs it over the whole batch; inference in blocks of
// examples (gatedInBlocks).
func (f *GridFFN) gated(ctx *layers.Context, x *autograd.Tensor, seq layers.Seq, gate func(*Gate) *autograd.Tensor) *autograd.Tensor {
	if !ctx.Tape.Recording() && seq.Batch > inferBlockExamples(seq.Len) {
		return f.gatedInBlocks(ctx, x, seq, gate)
	}
	return f.gatedAll(ctx, x, seq, gate)
}

// inferBlockRows is the least number of rows an inference block covers: enough that
// each block's products still split well over the threads and packing the plain input
// weights once per block costs little (bench score t5-mini-hypergrid, Intel Xeon model
// 167, 2 threads: blocks of 512 rows 7-14% slower than one pass, 1024 3-6%, 2048 as
// fast; every size cut the peak RSS alike, 546-603 to 355 MB).
const inferBlockRows = 2048

// inferBlockExamples is how many examples of len rows an inference block takes.
func inferBlockExamples(len int) int { return max(1, inferBlockRows/max(len, 1)) }

// gatedInBlocks is gatedAll over blocks of examples, rewinding the tape after each: the
// hidden layer (three values of d_ff per row) takes one block's memory, not the whole
// batch's. Each example's rows get the same values as in one pass over the batch.
func (f *GridFFN) gatedInBlocks(ctx *layers.Context, x *autograd.Tensor, seq layers.Seq, gate func(*Gate) *autograd.Tensor) *autograd.Tensor {
	t := ctx.Tape
	var gi, gw *autograd.Tensor
	if f.Wi != nil {
		gi = gate(f.Wi)
	}
	if f.Wo != nil {
		gw = gate(f.Wo)
	}
	out := t.New(x.Rows, f.GLU.Wo.Cols)
	per := inferBlockExamples(seq.Len)
	for e0 := 0; e0 < seq.Batch; e0 += per {
		e1 := min(e0+per, seq.Batch)
		mark := t.Mark()
		bseq := seq
		bseq.Batch = e1 - e0
		if seq.Valid != nil {
			bseq.Valid = seq.Valid[e0*seq.Len : e1*seq.Len]
		}
		blockGate := func(g *Gate) *autograd.Tensor {
			if g == f.Wi {
				return t.RowsOf(gi, e0, e1)
			}
			return t.RowsOf(gw, e0, e1)
		}
		y := f.gatedAll(ctx, t.RowsOf(x, e0*seq.Len, e1*seq.Len), bseq, blockGate)
		copy(out.Data[e0*seq.Len*out.Cols:], y.Data)
		t.Rewind(mark)
	}
	return out
}

// gatedAll runs the layer over all of x's rows with the gates that gate returns for Wi
// and Wo (asked for in that order, each just before its use).
func (f *GridFFN) gatedAll(ctx *layers.Context, x *autograd.Tensor, seq layers.Seq, gate func(*Gate) *autograd.Tensor) *autograd.Tensor {
	t := ctx.Tape
	g := f.GLU
	if f.Wi == nil && g.Wi1 != nil && f.Wo != nil && seq.Len > 1 {
		// The gated GLU with only Wo gated (the paper's setting) as one operation, block
		// by block (autograd.GridGatedFFN: the composition's bits). A decoding step (one
		// row per example) keeps GridGatedMatMul, whose one-row path runs each example's
		// row against the unpacked weight, split over the threads.
		gates := gate(f.Wo)
		return t.GridGatedFFN(f.Config.Activation.Act(), x, &g.Wi0.Tensor, &g.Wi1.Tensor, &g.Wo.Tensor, gates, seq.Batch, f.Wo.Rows, f.Wo.Cols)
	}
	var h *autograd.Tensor
	if f.Wi != nil {
		gi := gate(f.Wi)
		pre := t.GridGatedMatMul(x, &g.Wi0.Tensor, gi, seq.Batch, f.Wi.Rows, f.Wi.Cols)
		if g.Wi1 != nil {
			h = f.Config.Activation.Gated(t, pre, t.GridGatedMatMul(x, &g.Wi1.Tensor, gi, seq.Batch, f.Wi.Rows, f.Wi.Cols))
		} else {
			h = f.Config.Activation.Apply(t, pre)
		}
	} else {
		h = g.Hidden(ctx, x)
	}
	if f.Wo == nil {
		return t.MatMul(h, &g.Wo.Tensor, false)
	}
	gates := gate(f.Wo)
	return t.GridGatedMatMul(h, &g.Wo.Tensor, gates, seq.Batch, f.Wo.Rows, f.Wo.Cols)
}

// Params implements layers.FeedForward: the GLU weights, then the gates' parameters.
func (f *GridFFN) Params() []*autograd.Param {
	ps := f.GLU.Params()
	if f.Wi != nil {
		ps = append(ps, f.Wi.Params()...)
	}
	if f.Wo != nil {
		ps = append(ps, f.Wo.Params()...)
	}
	return ps
}
