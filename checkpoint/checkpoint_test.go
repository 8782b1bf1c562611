package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sample() *Checkpoint {
	return &Checkpoint{
		Step: 42,
		Model: []Tensor{
			{Name: "encoder.block.0.ffn.wo", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, 1e-8, -7}},
			{Name: "embed", Shape: []int{3}, Data: []float32{0.25, 0.5, 0.75}},
		},
		Optimizer: []Tensor{{Name: "embed.m", Shape: []int{3}, Data: []float32{1, 2, 3}}},
		State:     map[string]json.RawMessage{"sampler": json.RawMessage(`{"step":7}`)},
		Files:     map[string][]byte{"tokenizer.model": []byte("pieces")},
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt-000042")
	c := sample()
	if err := Save(dir, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var state bytes.Buffer
	json.Compact(&state, got.State["sampler"])
	if got.Step != 42 || !reflect.DeepEqual(got.Model, c.Model) || !reflect.DeepEqual(got.Optimizer, c.Optimizer) ||
		state.String() != `{"step":7}` || string(got.Files["tokenizer.model"]) != "pieces" {
		t.Fatalf("round trip changed the checkpoint: %+v", got)
	}
	// Saving again replaces it; no temporary directories are left behind.
	c.Step = 43
	if err := Save(dir, c); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("the parent holds %d entries after two saves, want 1", len(entries))
	}
}

func TestCorruptionIsDetected(t *testing.T) {
	for _, f := range []string{ModelFile, OptimizerFile, "tokenizer.model", ManifestFile} {
		for _, damage := range []string{"flip", "truncate", "delete"} {
			dir := filepath.Join(t.TempDir(), "ckpt")
			if err := Save(dir, sample()); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, f)
			b, _ := os.ReadFile(path)
			switch damage {
			case "flip":
				b[len(b)/2] ^= 0x10
				os.WriteFile(path, b, 0o644)
			case "truncate":
				os.WriteFile(path, b[:len(b)-3], 0o644)
			case "delete":
				os.Remove(path)
			}
			_, err := Load(dir)
			if err == nil {
				t.Errorf("%s %s: loaded without error", damage, f)
				continue
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), dir) {
				t.Errorf("%s %s: error %q does not name the checkpoint as corrupt", damage, f, err)
			}
			if f != ManifestFile && !strings.Contains(err.Error(), f) {
				t.Errorf("%s %s: error %q does not name the file", damage, f, err)
			}
		}
	}
}

func TestSafetensorsRejectsBadFiles(t *testing.T) {
	good, err := EncodeSafetensors(sample().Model, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"short":     good[:5],
		"truncated": good[:len(good)-4],
		"trailing":  append(append([]byte(nil), good...), 0, 0, 0, 0),
		"huge hdr":  append([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, good[8:]...),
	} {
		if _, _, err := DecodeSafetensors(name, b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSafetensorsReadableByIndependentReader reads our file with a few lines of Python
// written from the format's description (the Hugging Face library is not installable
// here): header length, JSON header, little-endian float32 data.
func TestSafetensorsReadableByIndependentReader(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	if exec.Command(py, "-c", "import numpy").Run() != nil {
		t.Skip("numpy not available")
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	b, err := EncodeSafetensors(sample().Model, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, b, 0o644)
	script := `
import json, struct, sys, numpy as np
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8+n])
assert n % 8 == 0
meta = h.pop("__metadata__")
data = b[8+n:]
for name in sorted(h):
    t = h[name]; s, e = t["data_offsets"]
    v = np.frombuffer(data[s:e], dtype="<f4").reshape(t["shape"])
    print(name, t["dtype"], list(v.shape), " ".join(repr(float(x)) for x in v.ravel()))
print("meta", meta["format"])
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python reader failed: %v\n%s", err, out)
	}
	want := "embed F32 [3] 0.25 0.5 0.75\n" +
		"encoder.block.0.ffn.wo F32 [2, 3] 1.0 -2.0 3.5 0.0 9.99999993922529e-09 -7.0\n" +
		"meta pt\n"
	if string(out) != want {
		t.Errorf("python read:\n%s\nwant:\n%s", out, want)
	}
}

func FuzzDecodeSafetensors(f *testing.F) {
	good, _ := EncodeSafetensors(sample().Model, map[string]string{"a": "b"})
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{}              "))
	f.Fuzz(func(t *testing.T, b []byte) {
		tensors, meta, err := DecodeSafetensors("fuzz", b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to a file that decodes to the same tensors.
		again, err := EncodeSafetensors(tensors, meta)
		if err != nil {
			t.Fatalf("re-encoding decoded tensors: %v", err)
		}
		t2, _, err := DecodeSafetensors("again", again)
		if err != nil || len(t2) != len(tensors) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
