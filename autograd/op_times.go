package autograd

import (
	"sort"
	"time"

	"github.com/hypergrid-go/hypergrid/internal/sysmem"
)

// opNames names the recorded operations as their Tape methods are named; a GatedFFN
// record with gates is a GridGatedFFN (kindGridGatedFFN).
var opNames = [...]string{
	opMatMul: "MatMul", opAdd: "Add", opAddRow: "AddRow", opMul: "Mul", opScale: "Scale",
	opView: "View", opGELU: "GELU", opReLU: "ReLU", opSiLU: "SiLU", opSigmoid: "Sigmoid",
	opRMSNorm: "RMSNorm", opLayerNorm: "LayerNorm", opGather: "Gather", opRelBias: "RelPosBias",
	opAttention: "Attention", opDropout: "Dropout", opCrossEntropy: "CrossEntropy", opMSE: "MSE",
	opOuter: "Outer", opGridGated: "GridGatedMatMul", opMeanRows: "MeanRows",
	opWeightedSum: "WeightedSum", opGatedAct: "GatedAct", opAddDropout: "AddDropout",
	opGatedFFN: "GatedFFN", opMatMulEach: "MatMulEach", opLinearCrossEntropy: "LinearCrossEntropy",
	kindGridGatedFFN: "GridGatedFFN",
}

// kindGridGatedFFN is the timing slot of GatedFFN records with gates.
const kindGridGatedFFN = opLinearCrossEntropy + 1

// OpClock is what a tape's clock counted of one kind of operation in one direction:
// calls, wall-clock time and the process's CPU time over that wall time (all threads:
// CPU / Wall is the cores the operation kept busy, where nothing else runs meanwhile).
// Linux brings the CPU time of threads running on other cores up to date at its
// scheduler's ticks (a few milliseconds), not at each reading: for operations whose
// calls are that short, the ratio is rough even summed over many calls.
type OpClock struct {
	Calls     int
	Wall, CPU time.Duration
}

// OpTime is one kind of operation's clocks, forward and backward.
type OpTime struct {
	Name              string
	Forward, Backward OpClock
}

// OpTimes accumulates, per kind of recorded operation, the calls and time of the
// forward and backward passes of a tape (Tape.TimeOps). A forward call is timed from
// the previous record (or Reset) to its own record, so it includes the work of any
// operation in between that records nothing, and of the caller's code; a backward call
// from the end of the previous one to the end of its own (its backward pass, and the
// step over records that take no gradient).
type OpTimes struct {
	fwd, bwd [kindGridGatedFFN + 1]OpClock
}

// Rows returns the kinds of operation timed, the longest (forward and backward
// together) first.
func (p *OpTimes) Rows() []OpTime {
	var rows []OpTime
	for k := range p.fwd {
		if p.fwd[k].Calls+p.bwd[k].Calls > 0 {
			rows = append(rows, OpTime{Name: opNames[k], Forward: p.fwd[k], Backward: p.bwd[k]})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		return rows[i].Forward.Wall+rows[i].Backward.Wall > rows[j].Forward.Wall+rows[j].Backward.Wall
	})
	return rows
}

// opClock is the tape's side of TimeOps: where it adds, and the clocks' last readings.
type opClock struct {
	times *OpTimes
	wall  time.Time
	cpu   time.Duration
}

// TimeOps makes the tape add each recorded operation's time to p (nil: stop), from
// now on; a profile's aid, not free (two clock readings and a system call a record).
func (t *Tape) TimeOps(p *OpTimes) {
	t.clock = opClock{times: p}
	if p != nil {
		t.clock.read()
	}
}

// read takes the clocks' readings.
func (c *opClock) read() {
	c.wall = time.Now()
	c.cpu, _ = sysmem.CPUTime()
}

// since adds the time since the last readings to slot, and reads the clocks again.
func (c *opClock) since(slot *OpClock) {
	wall, cpu := c.wall, c.cpu
	c.read()
	slot.Calls++
	slot.Wall += c.wall.Sub(wall)
	slot.CPU += c.cpu - cpu
}

// kind is r's timing slot.
func (r *record) kind() opKind {
	if r.op == opGatedFFN && r.e != nil {
		return kindGridGatedFFN
	}
	return r.op
}
