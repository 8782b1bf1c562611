package hf

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/internal/sysmem"
)

// importChildEnv makes the test binary import one folder and exit (see TestMain):
// "SRC_DIR OUT_CKPT". The benchmark measures the import in a process of its own, so
// that its peak RSS is the import's, not the test's that made the folder.
const importChildEnv = "HYPERGRID_HF_IMPORT_CHILD"

func TestMain(m *testing.M) {
	if v := os.Getenv(importChildEnv); v != "" {
		var src, out string
		fmt.Sscan(v, &src, &out)
		start := time.Now()
		err := importFolder(src, out)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		peak, _ := sysmem.PeakRSS()
		json.NewEncoder(os.Stdout).Encode(map[string]any{"seconds": time.Since(start).Seconds(), "peak_rss": peak})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// importFolder is what "hypergrid import hf SRC --out OUT" does.
func importFolder(src, out string) error {
	m, err := Read(src)
	if err != nil {
		return err
	}
	c, err := m.Checkpoint(src, m.Tokenizer)
	if err != nil {
		return err
	}
	return checkpoint.Save(out, c)
}

// t5SmallConfig is t5-small's config.json: 60.5 M parameters, 242 MB in F32.
func t5SmallConfig() map[string]any {
	return map[string]any{"model_type": "t5", "vocab_size": 32128, "d_model": 512, "d_kv": 64, "d_ff": 2048, "num_layers": 6,
		"num_heads": 8, "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128,
		"feed_forward_proj": "relu", "tie_word_embeddings": true, "layer_norm_epsilon": 1e-6}
}

// writeT5Small writes a t5-small-sized folder with random weights (F32) and a small
// spiece.model, and returns the size of its model.safetensors.
func writeT5Small(b *testing.B, dir string) int64 {
	cfg := t5SmallConfig()
	c, _ := ParseConfig("config.json", mustJSON(cfg))
	s, err := c.Spec()
	if err != nil {
		b.Fatal(err)
	}
	var ts []checkpoint.Tensor
	x := uint32(1)
	for _, l := range Layout(s, 2048, false) {
		n := 1
		for _, d := range l.HFShape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			x = x*1664525 + 1013904223
			data[i] = float32(int32(x)>>8) / (1 << 23)
		}
		ts = append(ts, checkpoint.Tensor{Name: l.HF, Shape: l.HFShape, Data: data})
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, ConfigFile), mustJSON(cfg), 0o644)
	if err := checkpoint.WriteSafetensorsFile(filepath.Join(dir, WeightsFile), ts, map[string]string{"format": "pt"}); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, TokenizerFile), tinyTokenizer(b), 0o644)
	st, err := os.Stat(filepath.Join(dir, WeightsFile))
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkImport imports a t5-small-sized folder (242 MB of F32 weights) in a child
// process and reports its time and peak RSS, also as a multiple of the file's size
// (the targets: under 3 s, under 2.5×).
func BenchmarkImport(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "t5-small")
	size := writeT5Small(b, src)
	b.ResetTimer()
	var secs, peak float64
	for i := range b.N {
		out := filepath.Join(dir, fmt.Sprintf("ck%d", i))
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), importChildEnv+"="+src+" "+out)
		o, err := cmd.Output()
		if err != nil {
			b.Fatalf("import: %v %s", err, o)
		}
		var r struct {
			Seconds float64 `json:"seconds"`
			PeakRSS float64 `json:"peak_rss"`
		}
		if err := json.Unmarshal(o, &r); err != nil {
			b.Fatalf("child printed %q", o)
		}
		secs += r.Seconds
		peak = max(peak, r.PeakRSS)
		os.RemoveAll(out)
	}
	b.ReportMetric(secs/float64(b.N), "import_s")
	b.ReportMetric(peak/(1<<20), "peak_rss_MB")
	b.ReportMetric(peak/float64(size), "rss/file")
	b.ReportMetric(float64(size)/(1<<20), "file_MB")
}
