package optim

import (
	"errors"
	"fmt"
	"math"

	"github.com/hypergrid-go/hypergrid/ops"
)

// AdafactorConfig holds Adafactor's hyperparameters (Shazeer & Stern 2018), with T5's
// defaults from DefaultAdafactorConfig.
type AdafactorConfig struct {
	// RelativeStep uses the step size min(1e-2, 1/sqrt(t)) instead of the learning rate
	// passed to Step.
	RelativeStep bool `yaml:"relative_step"`
	// ScaleParameter multiplies the step size by max(Eps2, RMS(parameter)).
	ScaleParameter bool `yaml:"scale_parameter"`
	// DecayRate sets the second-moment decay β2(t) = 1 - t^DecayRate (T5: -0.8).
	DecayRate float64 `yaml:"decay_rate"`
	// ClipThreshold clips each update to an RMS of at most this (T5: 1).
	ClipThreshold float64 `yaml:"clip_threshold"`
	// Eps1 regularises the squared gradients; Eps2 floors the parameter scale.
	Eps1 float64 `yaml:"eps1"`
	Eps2 float64 `yaml:"eps2"`
	// WeightDecay is decoupled weight decay (0 in T5).
	WeightDecay float64 `yaml:"weight_decay"`
}

// DefaultAdafactorConfig returns T5's Adafactor: factored second moments, no first
// moment, update clipping at 1, parameter-scaled steps, decay rate -0.8.
func DefaultAdafactorConfig() AdafactorConfig {
	return AdafactorConfig{RelativeStep: false, ScaleParameter: true, DecayRate: -0.8, ClipThreshold: 1, Eps1: 1e-30, Eps2: 1e-3}
}

// Validate reports every out-of-range setting.
func (c AdafactorConfig) Validate() []error {
	var errs []error
	if !(c.DecayRate < 0) {
		errs = append(errs, fmt.Errorf("decay_rate is %v; want a negative exponent (T5: -0.8)", c.DecayRate))
	}
	if !(c.ClipThreshold > 0) || !(c.Eps1 > 0) || !(c.Eps2 > 0) {
		errs = append(errs, fmt.Errorf("clip_threshold, eps1 and eps2 must be positive"))
	}
	if c.WeightDecay < 0 {
		errs = append(errs, fmt.Errorf("weight_decay is %v; want 0 or more", c.WeightDecay))
	}
	return errs
}

// Adafactor is the Adafactor optimizer. A matrix parameter (Rows and Cols set, both
// above 1) keeps a row and a column average of its squared gradients instead of a full
// second moment; a vector keeps the full one.
type Adafactor struct {
	cfg    AdafactorConfig
	params []Param
	state  AdafactorState
	// segs and per are Step's plan: the segments of the parameters it runs side by
	// side, and the parameters' per-step scalars and factors.
	segs []afSegment
	per  []afParam
	// scratch holds a row for each part of Step's parallel passes; maxCols is the
	// widest matrix's row.
	scratch [][]float32
	maxCols int
}

// AdafactorState is everything Adafactor carries from one step to the next.
type AdafactorState struct {
	// Step is the number of updates done so far.
	Step int64
	// Factors holds one entry per parameter, in the optimizer's parameter order.
	Factors []Factors
}

// Factors is Adafactor's second-moment state for one parameter: Row (Rows values) and
// Col (Cols values) for a factored matrix, V (one per value) otherwise.
type Factors struct {
	Name        string
	Row, Col, V []float32
}

// NewAdafactor returns an Adafactor optimizer over params.
func NewAdafactor(cfg AdafactorConfig, params []Param) (*Adafactor, error) {
	errs := cfg.Validate()
	seen := map[string]bool{}
	for i, p := range params {
		switch {
		case p.Name == "":
			errs = append(errs, fmt.Errorf("parameter %d has no name", i))
		case seen[p.Name]:
			errs = append(errs, fmt.Errorf("parameter %q is listed twice", p.Name))
		case len(p.Grad) != len(p.Value):
			errs = append(errs, fmt.Errorf("parameter %q has %d values but %d gradients", p.Name, len(p.Value), len(p.Grad)))
		case p.Rows*p.Cols != 0 && p.Rows*p.Cols != len(p.Value):
			errs = append(errs, fmt.Errorf("parameter %q: shape %d×%d does not hold its %d values", p.Name, p.Rows, p.Cols, len(p.Value)))
		}
		seen[p.Name] = true
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("optim: Adafactor: %w", errors.Join(errs...))
	}
	o := &Adafactor{cfg: cfg, params: append([]Param(nil), params...)}
	o.state.Factors = make([]Factors, len(params))
	for i, p := range params {
		f := Factors{Name: p.Name}
		if factored(p) {
			f.Row, f.Col = make([]float32, p.Rows), make([]float32, p.Cols)
		} else {
			f.V = make([]float32, len(p.Value))
		}
		o.state.Factors[i] = f
	}
	return o, nil
}

func factored(p Param) bool { return p.Rows > 1 && p.Cols > 1 }

// Steps returns the number of updates done so far.
func (o *Adafactor) Steps() int64 { return o.state.Step }

// StepScaled is Step from the gradients multiplied by gradScale, the scale folded into
// the passes' arithmetic: a clipping scale costs no pass of its own, and the gradients
// are left as they are. (The update equals Step's after ops.Scale of the gradients up
// to the rounding of the products, not bit for bit.)
func (o *Adafactor) StepScaled(lr, gradScale float32) { o.step(lr, gradScale) }

// Step applies one update. lr is the step size unless the configuration uses relative
// steps; either way it is scaled by the parameter's RMS when ScaleParameter is set.
//
// For a matrix parameter the second moment of value (r, c) is row[r]·col[c]/mean(row),
// and the update g/√v is computed as g·(row[r]/mean(row))^−½·col[c]^−½, the row and
// column factors taken once per row and column (as Hugging Face's Adafactor does). The
// update's sum of squares, for its clipping, comes from the same pass as the factors:
// Σ u² = mean(row)·Σ_c (1/col[c])·Σ_r g²/row[r], the inner sums kept per column.
//
// The work is cut into segments, whole rows of one parameter at a time, that run side
// by side in two passes over the values: the statistics (squared gradients' row and
// column sums, the parameter's sum of squares), then the update. A matrix's rows go
// through the vector kernels (float32, as in Hugging Face's Adafactor; sums of whole
// rows and of segments are taken on in float64). The segments' sums are added in
// segment order, and the segments do not depend on the thread count: every run on a
// machine gives the same bits whatever it is.
func (o *Adafactor) Step(lr float32) { o.step(lr, 1) }

func (o *Adafactor) step(lr, gradScale float32) {
	o.plan()
	o.state.Step++
	t := float64(o.state.Step)
	rho := float64(lr)
	if o.cfg.RelativeStep {
		rho = math.Min(1e-2, 1/math.Sqrt(t))
	}
	beta2 := 1 - math.Pow(t, o.cfg.DecayRate)
	parts := ops.Parts(len(o.segs), adafactorSegmentCost)
	for len(o.scratch) < parts {
		o.scratch = append(o.scratch, make([]float32, min(o.maxCols, adafactorPiece)))
	}
	ops.ParallelFor(len(o.segs), adafactorSegmentCost, func(part, lo, hi int) {
		for i := lo; i < hi; i++ {
			o.statistics(&o.segs[i], beta2, gradScale, o.scratch[part])
		}
	})
	for i := range o.params {
		o.factors(i, rho, beta2)
	}
	ops.ParallelFor(len(o.segs), adafactorSegmentCost, func(part, lo, hi int) {
		for i := lo; i < hi; i++ {
			o.update(&o.segs[i], gradScale, o.scratch[part])
		}
	})
}

// adafactorSegmentValues is about how many values one segment of Step covers, and
// adafactorMaxSegments the most segments of one parameter (each factored segment keeps
// column sums of its own); adafactorSegmentCost is a segment's work for ops.ParallelFor.
const (
	adafactorSegmentValues = 1 << 15
	adafactorMaxSegments   = 16
	adafactorSegmentCost   = 8 * adafactorSegmentValues
)

// afSegment is values [lo, hi) of parameter param (a matrix's rows [r0, r1)), with the
// sums its first pass leaves for the parameter to add up.
type afSegment struct {
	param, lo, hi, r0, r1 int
	// colSum and colW are its column sums of g² and of g²/row[r] (factored).
	colSum, colW []float32
	// sumW2 is the sum of squares of its values; sumU2 that of its updates (vector).
	sumW2, sumU2 float64
}

// afParam is one parameter's per-step scalars and factors.
type afParam struct {
	rows, cols int
	segs       []int // its segments, in order
	// rowScale is the update's factor of row r, scale·(row[r]/mean(row))^−½, and
	// colInv col[c]^−½ (factored).
	rowScale, colInv []float32
	// scale multiplies the update, decay the value.
	scale, decay float64
}

// plan cuts the parameters into segments (once).
func (o *Adafactor) plan() {
	if o.segs != nil {
		return
	}
	o.per = make([]afParam, len(o.params))
	for i, p := range o.params {
		pp := &o.per[i]
		if !factored(p) {
			pp.rows, pp.cols = 1, len(p.Value)
			for lo := 0; lo < len(p.Value); lo += adafactorSegmentValues {
				pp.segs = append(pp.segs, len(o.segs))
				o.segs = append(o.segs, afSegment{param: i, lo: lo, hi: min(lo+adafactorSegmentValues, len(p.Value))})
			}
			continue
		}
		pp.rows, pp.cols = p.Rows, p.Cols
		pp.rowScale, pp.colInv = make([]float32, p.Rows), make([]float32, p.Cols)
		o.maxCols = max(o.maxCols, p.Cols)
		step := adafactorSegmentRows(p.Rows, p.Cols)
		for r0 := 0; r0 < p.Rows; r0 += step {
			r1 := min(r0+step, p.Rows)
			pp.segs = append(pp.segs, len(o.segs))
			o.segs = append(o.segs, afSegment{param: i, lo: r0 * p.Cols, hi: r1 * p.Cols, r0: r0, r1: r1,
				colSum: make([]float32, p.Cols), colW: make([]float32, p.Cols)})
		}
	}
}

// statistics is the first pass on one segment: the sum of squares of its values (when
// the step is scaled by the parameter's RMS); for a matrix the new row factors of its
// rows and its column sums; for a vector the new second moments and the sum of squares
// of its updates, all from the gradients times gradScale. tmp is scratch of at least a
// row (or of adafactorPiece values).
func (o *Adafactor) statistics(sg *afSegment, beta2 float64, gradScale float32, tmp []float32) {
	p, f, pp := o.params[sg.param], &o.state.Factors[sg.param], &o.per[sg.param]
	cols, lo, hi := pp.cols, sg.lo, sg.hi
	eps1 := o.cfg.Eps1
	sg.sumW2 = 0
	if o.cfg.ScaleParameter {
		for i := lo; i < hi; i += adafactorPiece {
			w := p.Value[i:min(i+adafactorPiece, hi)]
			sg.sumW2 += float64(ops.Dot(w, w))
		}
	}
	if sg.colSum == nil {
		var ss float64
		g, v := p.Grad[lo:hi], f.V[lo:hi]
		v = v[:len(g)]
		for j, gj := range g {
			gs := float64(gradScale * gj)
			v[j] = float32(beta2*float64(v[j]) + (1-beta2)*(gs*gs+eps1))
			u := gs / math.Sqrt(float64(v[j]))
			ss += u * u
		}
		sg.sumU2 = ss
		return
	}
	clear(sg.colSum)
	clear(sg.colW)
	gs2 := float64(gradScale) * float64(gradScale)
	for r := sg.r0; r < sg.r1; r++ {
		g := p.Grad[r*cols : (r+1)*cols]
		// The row's g² piece by piece into tmp, summed; then the column sums take each
		// piece, once the row's new factor is known (a row of at most one piece stays
		// in tmp; a longer one is squared again).
		var rs float64
		for c := 0; c < cols; c += adafactorPiece {
			gc := g[c:min(c+adafactorPiece, cols)]
			t := tmp[:len(gc)]
			ops.Mul(t, gc, gc)
			rs += float64(ops.Sum(t))
		}
		rs *= gs2
		f.Row[r] = float32(beta2*float64(f.Row[r]) + (1-beta2)*(rs/float64(cols)+eps1))
		inv := float32(gs2 / float64(f.Row[r]))
		for c := 0; c < cols; c += adafactorPiece {
			gc := g[c:min(c+adafactorPiece, cols)]
			t := tmp[:len(gc)]
			if cols > adafactorPiece {
				ops.Mul(t, gc, gc)
			}
			cs, cw := sg.colSum[c:c+len(gc)], sg.colW[c:c+len(gc)]
			if gradScale == 1 {
				ops.Add(cs, cs, t)
			} else {
				ops.Axpy(float32(gs2), t, cs)
			}
			ops.Axpy(inv, t, cw)
		}
	}
}

// adafactorSegmentRows is how many rows of a rows×cols matrix one segment of Step
// covers: about adafactorSegmentValues values, at most adafactorMaxSegments segments.
func adafactorSegmentRows(rows, cols int) int {
	n := min(max(1, rows*cols/adafactorSegmentValues), adafactorMaxSegments, rows)
	return (rows + n - 1) / n
}

// AdafactorValues is how many float32 values Adafactor keeps for a parameter of rows ×
// cols values (as Param's Rows and Cols): its second-moment state (a row and a column
// average for a matrix, one value per value otherwise) and, for a matrix, the factors
// and per-segment column sums of its steps. Besides, a step takes a row of scratch
// (at most adafactorPiece values) per thread.
func AdafactorValues(rows, cols int) int64 {
	if rows <= 1 || cols <= 1 {
		return int64(rows) * int64(cols)
	}
	step := adafactorSegmentRows(rows, cols)
	segs := (rows + step - 1) / step
	return 2*int64(rows+cols) + 2*int64(segs)*int64(cols)
}

// adafactorPiece is the longest piece of a row one vector kernel call takes: short
// enough that the kernel stays on the goroutine running the segment.
const adafactorPiece = 1 << 14

// factors completes parameter i's statistics from its segments' sums, in segment
// order: its step size and decay, and (a matrix) its new column factors, the row and
// column factors of its updates and the scale that clips them.
func (o *Adafactor) factors(i int, rho, beta2 float64) {
	p, f, pp := o.params[i], &o.state.Factors[i], &o.per[i]
	n := float64(len(p.Value))
	alpha := rho
	if o.cfg.ScaleParameter {
		var s float64
		for _, j := range pp.segs {
			s += o.segs[j].sumW2
		}
		rmsW := 0.0
		if n > 0 {
			rmsW = math.Sqrt(s / n)
		}
		alpha *= math.Max(o.cfg.Eps2, rmsW)
	}
	pp.decay = 1
	if o.cfg.WeightDecay != 0 && !p.NoDecay {
		pp.decay = 1 - alpha*o.cfg.WeightDecay
	}
	if !factored(p) {
		var ss float64
		for _, j := range pp.segs {
			ss += o.segs[j].sumU2
		}
		pp.scale = clipScale(alpha, ss, n, o.cfg.ClipThreshold)
		return
	}
	rows := float64(pp.rows)
	var sw float64
	for c := range pp.colInv {
		var s, w float64
		for _, j := range pp.segs {
			s += float64(o.segs[j].colSum[c])
			w += float64(o.segs[j].colW[c])
		}
		f.Col[c] = float32(beta2*float64(f.Col[c]) + (1-beta2)*(s/rows+o.cfg.Eps1))
		pp.colInv[c] = float32(1 / math.Sqrt(float64(f.Col[c])))
		sw += w / float64(f.Col[c])
	}
	var rowMean float64
	for _, v := range f.Row {
		rowMean += float64(v)
	}
	rowMean /= rows
	pp.scale = clipScale(alpha, rowMean*sw, n, o.cfg.ClipThreshold)
	for r, v := range f.Row {
		pp.rowScale[r] = float32(pp.scale / math.Sqrt(float64(v)/rowMean))
	}
}

// clipScale is the step size alpha divided by max(1, RMS(u)/threshold), for an update
// u of n values whose sum of squares is ss.
func clipScale(alpha, ss, n, threshold float64) float64 {
	if n == 0 {
		return alpha
	}
	return alpha / math.Max(1, math.Sqrt(ss/n)/threshold)
}

// update is the second pass on one segment: w = w·decay − scale·u, u from the
// gradients times gradScale. tmp is scratch of at least a row (or of adafactorPiece
// values).
func (o *Adafactor) update(sg *afSegment, gradScale float32, tmp []float32) {
	p, f, pp := o.params[sg.param], &o.state.Factors[sg.param], &o.per[sg.param]
	cols := pp.cols
	if sg.colSum == nil {
		w, g, v := p.Value[sg.lo:sg.hi], p.Grad[sg.lo:sg.hi], f.V[sg.lo:sg.hi]
		g, v = g[:len(w)], v[:len(w)]
		for j, wj := range w {
			u := float64(gradScale*g[j]) / math.Sqrt(float64(v[j]))
			w[j] = float32(float64(wj)*pp.decay - pp.scale*u)
		}
		return
	}
	for r := sg.r0; r < sg.r1; r++ {
		for c := 0; c < cols; c += adafactorPiece {
			end := min(c+adafactorPiece, cols)
			w, g, t := p.Value[r*cols+c:r*cols+end], p.Grad[r*cols+c:r*cols+end], tmp[:end-c]
			ops.Mul(t, g, pp.colInv[c:end])
			if pp.decay != 1 {
				ops.Scale(float32(pp.decay), w)
			}
			ops.Axpy(-gradScale*pp.rowScale[r], t, w)
		}
	}
}

// State returns a deep copy of the optimizer's state, for a checkpoint.
func (o *Adafactor) State() AdafactorState {
	s := AdafactorState{Step: o.state.Step, Factors: make([]Factors, len(o.state.Factors))}
	for i, f := range o.state.Factors {
		s.Factors[i] = Factors{Name: f.Name, Row: append([]float32(nil), f.Row...), Col: append([]float32(nil), f.Col...), V: append([]float32(nil), f.V...)}
	}
	return s
}

// SetState restores a state saved by State, matching parameters by name; it changes
// nothing and fails when a parameter is missing or a length differs.
func (o *Adafactor) SetState(s AdafactorState) error {
	if s.Step < 0 {
		return fmt.Errorf("optim: Adafactor state: step count %d is negative", s.Step)
	}
	byName := map[string]Factors{}
	for _, f := range s.Factors {
		byName[f.Name] = f
	}
	next := make([]Factors, len(o.params))
	for i, p := range o.params {
		f, ok := byName[p.Name]
		cur := o.state.Factors[i]
		if !ok || len(f.Row) != len(cur.Row) || len(f.Col) != len(cur.Col) || len(f.V) != len(cur.V) {
			return fmt.Errorf("optim: Adafactor state: parameter %q is missing or has another shape", p.Name)
		}
		next[i] = Factors{Name: p.Name, Row: append([]float32(nil), f.Row...), Col: append([]float32(nil), f.Col...), V: append([]float32(nil), f.V...)}
	}
	o.state = AdafactorState{Step: s.Step, Factors: next}
	return nil
}
