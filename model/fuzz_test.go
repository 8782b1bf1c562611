package model_test

import (
	"math"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/model"
)

// FuzzBatch feeds arbitrary batches (shapes, token ids, tasks) to a tiny HyperGrid T5:
// Loss must either reject the batch with an error or return a finite loss, and never
// panic.
func FuzzBatch(f *testing.F) {
	f.Add(uint8(2), uint8(3), uint8(2), []byte{6, 11, 12, 7, 13, 4}, []byte{9, 5, 10, 4}, []byte{4, 5}) // valid
	f.Add(uint8(1), uint8(1), uint8(1), []byte{0}, []byte{0}, []byte{1})
	f.Add(uint8(2), uint8(2), uint8(1), []byte{200, 1, 1, 1}, []byte{1, 1}, []byte{0, 9})
	f.Add(uint8(0), uint8(0), uint8(0), []byte{}, []byte{}, []byte{})
	m, err := model.New(tinySpec(tinyGrid()), 1)
	if err != nil {
		f.Fatal(err)
	}
	tape := autograd.NewTape()
	f.Fuzz(func(t *testing.T, size, inLen, tgtLen uint8, in, tgt, tasks []byte) {
		b := &model.Batch{Size: int(size % 5), InputLen: int(inLen % 9), TargetLen: int(tgtLen % 5)}
		// Shapes usually fit (so that the ids and tasks are what gets explored); a
		// size byte with the top bit set makes them not fit.
		cycle := func(src []byte, n int) []int32 {
			if size&0x80 != 0 {
				n = len(src)
			}
			out := make([]int32, n)
			for i := range out {
				if len(src) > 0 {
					out[i] = int32(src[i%len(src)]) - 4
				}
			}
			return out
		}
		b.Inputs = cycle(in, b.Size*b.InputLen)
		b.Targets = cycle(tgt, b.Size*b.TargetLen)
		if len(tasks) > 0 {
			b.Tasks = cycle(tasks, b.Size)
		}
		tape.Reset()
		loss, err := m.Loss(tape, b, model.Options{})
		if err != nil {
			return
		}
		if v := float64(loss.Data[0]); math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Fatalf("loss %v for batch %+v", v, b)
		}
	})
}
