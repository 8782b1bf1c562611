package autograd

// opKind identifies a recorded operation.
type opKind uint8

const (
	opMatMul opKind = iota + 1
	opAdd
	opAddRow
	opMul
	opScale
	opView
	opGELU
	opReLU
	opSiLU
	opSigmoid
	opRMSNorm
	opLayerNorm
	opGather
	opRelBias
	opAttention
	opDropout
	opCrossEntropy
	opMSE
	opOuter
	opGridGated
	opMeanRows
	opWeightedSum
	opGatedAct
	opAddDropout
	opGatedFFN
	opMatMulEach
	opLinearCrossEntropy
)

// record is one recorded operation: its output, inputs, saved buffers and arguments.
// Records are plain values kept in a reusable slice, so recording allocates nothing.
type record struct {
	op         opKind
	out        *Tensor
	a, b, c, d *Tensor
	e          *Tensor // a fifth input (GridGatedFFN's gates)
	s0, s1     []float32
	idx        []int32
	n          [6]int
	f          float32
	flag       bool
}

// backward propagates r.out.Grad into the gradients of r's inputs.
func (t *Tape) backward(r *record) {
	switch r.op {
	case opMatMul:
		t.matMulBackward(r)
	case opMatMulEach:
		t.matMulEachBackward(r)
	case opAdd:
		t.addBackward(r)
	case opAddRow:
		t.addRowBackward(r)
	case opMul:
		t.mulBackward(r)
	case opGatedAct:
		t.gatedActBackward(r)
	case opScale:
		t.scaleBackward(r)
	case opView:
		t.passGrad(r.a, r.out.Grad)
	case opGELU, opReLU, opSiLU, opSigmoid:
		t.activationBackward(r)
	case opRMSNorm:
		t.rmsNormBackward(r)
	case opLayerNorm:
		t.layerNormBackward(r)
	case opGather:
		t.gatherBackward(r)
	case opRelBias:
		t.relBiasBackward(r)
	case opAttention:
		t.attentionBackward(r)
	case opGatedFFN:
		t.gatedFFNBackward(r)
	case opAddDropout:
		t.addDropoutBackward(r)
	case opDropout:
		t.dropoutBackward(r)
	case opCrossEntropy:
		t.crossEntropyBackward(r)
	case opLinearCrossEntropy:
		t.linearCrossEntropyBackward(r)
	case opMSE:
		t.mseBackward(r)
	case opOuter:
		t.outerBackward(r)
	case opGridGated:
		t.gridGatedBackward(r)
	case opMeanRows:
		t.meanRowsBackward(r)
	case opWeightedSum:
		t.weightedSumBackward(r)
	default:
		panic("autograd: unknown recorded operation")
	}
}
