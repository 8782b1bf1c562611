package checkpoint

import (
	"path/filepath"
	"testing"
)

// bigCheckpoint is a 50 MB checkpoint: 25 MB of weights and 25 MB of optimizer state
// in 16 tensors each.
func bigCheckpoint() (*Checkpoint, int64) {
	const tensors, values = 16, 25 << 20 / 4 / 16
	c := &Checkpoint{Step: 1000}
	for i := range tensors {
		w := make([]float32, values)
		m := make([]float32, values)
		for j := range w {
			w[j] = float32(i*values+j) * 1e-6
			m[j] = -w[j]
		}
		name := "layer." + string(rune('a'+i)) + ".w"
		c.Model = append(c.Model, Tensor{Name: name, Shape: []int{values / 256, 256}, Data: w})
		c.Optimizer = append(c.Optimizer, Tensor{Name: name + ".m", Shape: []int{values}, Data: m})
	}
	return c, 2 * tensors * values * 4
}

// BenchmarkSave reports the throughput (MB/s) of saving a 50 MB checkpoint, fsyncs
// included.
func BenchmarkSave(b *testing.B) {
	c, size := bigCheckpoint()
	dir := filepath.Join(b.TempDir(), "ckpt")
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if err := Save(dir, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad reports the throughput (MB/s) of loading (verifying and decoding) a
// 50 MB checkpoint.
func BenchmarkLoad(b *testing.B) {
	c, size := bigCheckpoint()
	dir := filepath.Join(b.TempDir(), "ckpt")
	if err := Save(dir, c); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}
