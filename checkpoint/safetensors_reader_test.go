package checkpoint

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// readAllStreamed reads every tensor of the file at path with SafetensorsReader.
func readAllStreamed(path string) ([]Tensor, map[string]string, error) {
	r, err := OpenSafetensors(path)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var out []Tensor
	for _, info := range r.Tensors() {
		dst := make([]float32, info.Elements())
		if err := r.Read(info.Name, dst); err != nil {
			return nil, nil, err
		}
		out = append(out, Tensor{Name: info.Name, Shape: info.Shape, Data: dst})
	}
	return out, r.Metadata(), nil
}

// sameDecode fails t unless the streamed reader and DecodeSafetensors agree on b:
// both refuse it, or both return the same tensors, bit for bit.
func sameDecode(t *testing.T, dir string, b []byte) {
	t.Helper()
	path := filepath.Join(dir, "w.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	want, wantMeta, wantErr := DecodeSafetensors(path, b)
	got, gotMeta, err := readAllStreamed(path)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("streamed error %v, DecodeSafetensors error %v", err, wantErr)
	}
	if err != nil {
		var se *SafetensorsError
		if !errors.As(err, &se) {
			t.Fatalf("streamed error of type %T: %v", err, err)
		}
		if err.Error() != wantErr.Error() {
			t.Fatalf("streamed error %q, DecodeSafetensors %q", err, wantErr)
		}
		return
	}
	if len(got) != len(want) || !reflect.DeepEqual(gotMeta, wantMeta) {
		t.Fatalf("streamed %d tensors (metadata %v), want %d (%v)", len(got), gotMeta, len(want), wantMeta)
	}
	for i := range want {
		if got[i].Name != want[i].Name || !reflect.DeepEqual(got[i].Shape, want[i].Shape) || len(got[i].Data) != len(want[i].Data) {
			t.Fatalf("tensor %d: %s %v, want %s %v", i, got[i].Name, got[i].Shape, want[i].Name, want[i].Shape)
		}
		for j := range want[i].Data {
			if math.Float32bits(got[i].Data[j]) != math.Float32bits(want[i].Data[j]) {
				t.Fatalf("tensor %s[%d] = %v, want %v", want[i].Name, j, got[i].Data[j], want[i].Data[j])
			}
		}
	}
}

func TestSafetensorsStreamedReaderAgrees(t *testing.T) {
	good, _ := EncodeSafetensors([]Tensor{
		{Name: "a", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "b", Shape: []int{}, Data: []float32{5}},
	}, map[string]string{"format": "pt"})
	tests := []struct {
		name string
		file []byte
	}{
		{"f32 with metadata", good},
		{"bf16 and f16", stFile(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}`, []byte{0, 0x3c, 0, 0xbc, 0x80, 0x3f})},
		{"empty", stFile(`{}`, nil)},
		{"short", []byte{1, 2}},
		{"truncated data", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32bytes(1))},
		{"gap", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32bytes(1, 2))},
		{"bool not 0 or 1", stFile(`{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}`, []byte{2})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameDecode(t, t.TempDir(), tt.file) })
	}
}

func TestSafetensorsStreamedReaderErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	if err := WriteSafetensorsFile(path, []Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1, 2}}}, nil); err != nil {
		t.Fatal(err)
	}
	r, err := OpenSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Read("b", make([]float32, 2)); err == nil {
		t.Error("reading a tensor the file lacks: no error")
	}
	if err := r.Read("a", make([]float32, 3)); err == nil {
		t.Error("reading into a destination of the wrong size: no error")
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	if err := r.Read("a", make([]float32, 2)); err == nil {
		t.Error("reading a file that grew after it was opened: no error")
	}
	if _, err := OpenSafetensors(dir); err == nil {
		t.Error("opening a folder: no error")
	}
}

func FuzzOpenSafetensors(f *testing.F) {
	good, _ := EncodeSafetensors([]Tensor{{Name: "a", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}}, map[string]string{"a": "b"})
	f.Add(good)
	f.Add([]byte{})
	f.Add(stFile(`{"h":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}`, []byte{0, 0x3c}))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) { sameDecode(t, dir, b) })
}
