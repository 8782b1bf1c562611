package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLogProbMatchesFloat64 checks the vector-kernel log-softmax of a vocabulary-sized
// row against the same formula in float64, for spreads of logits from narrow to wide.
func TestLogProbMatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, v := range []int{1, 7, 33, 8000, 32128} {
		p := make([]float32, v)
		for _, scale := range []float64{0.01, 1, 10, 40} {
			row := make([]float32, v)
			for i := range row {
				row[i] = float32(rng.NormFloat64() * scale)
			}
			tok := int32(rng.IntN(v))
			mx := math.Inf(-1)
			for _, x := range row {
				mx = math.Max(mx, float64(x))
			}
			var s float64
			for _, x := range row {
				s += math.Exp(float64(x) - mx)
			}
			want := float64(row[tok]) - mx - math.Log(s)
			if got := logProb(row, tok, p); !(math.Abs(got-want) <= 1e-5*math.Max(1, math.Abs(want))) {
				t.Errorf("v=%d scale=%v: logProb = %.8g, float64 %.8g", v, scale, got, want)
			}
		}
	}
}
