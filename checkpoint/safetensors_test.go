package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// stFile builds a safetensors file from a header text (padded with spaces to 8 bytes)
// and a data section.
func stFile(header string, data []byte) []byte {
	for len(header)%8 != 0 {
		header += " "
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func f32bytes(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// TestSafetensorsReferenceBytes checks the writer against byte sequences the
// reference implementation's own tests expect (huggingface/safetensors,
// safetensors/src/tensor.rs: test_empty and test_serialization_forced_alignement).
func TestSafetensorsReferenceBytes(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    []byte
	}{
		{"empty", nil, nil, []byte{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '}},
		{"metadata only", nil, map[string]string{"framework": "pt"},
			append([]byte{40, 0, 0, 0, 0, 0, 0, 0}, `{"__metadata__":{"framework":"pt"}}     `...)},
		{"forced alignment", []Tensor{{Name: "attn0", Shape: []int{1, 1, 2, 3}, Data: []float32{0, 1, 2, 3, 4, 5}}}, nil,
			append(append([]byte{72, 0, 0, 0, 0, 0, 0, 0}, `{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `...),
				0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeSafetensors(tt.tensors, tt.meta)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			ts, meta, err := DecodeSafetensors(tt.name, got)
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) != len(tt.tensors) || len(meta) != len(tt.meta) {
				t.Errorf("decoded %d tensors and %v, want %d and %v", len(ts), meta, len(tt.tensors), tt.meta)
			}
		})
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
	}{
		{"one matrix", []Tensor{{Name: "w", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, 1e-8, -7}}}, nil},
		{"order kept, not sorted", []Tensor{
			{Name: "z.last.name", Shape: []int{2}, Data: []float32{1, 2}},
			{Name: "a.first.name", Shape: []int{1}, Data: []float32{3}},
		}, map[string]string{"format": "pt", "note": "<html> & \"quotes\" ünïcode"}},
		{"scalar and empty", []Tensor{
			{Name: "scalar", Shape: []int{}, Data: []float32{42}},
			{Name: "empty", Shape: []int{0, 5}, Data: []float32{}},
			{Name: "after", Shape: []int{1}, Data: []float32{float32(math.Inf(-1))}},
		}, nil},
		{"special values", []Tensor{{Name: "s", Shape: []int{4}, Data: []float32{float32(math.Inf(1)), math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Copysign(0, -1))}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeSafetensors(tt.tensors, tt.meta)
			if err != nil {
				t.Fatal(err)
			}
			if hl := binary.LittleEndian.Uint64(b); (8+hl)%8 != 0 {
				t.Errorf("data starts at byte %d, not 8-byte aligned", 8+hl)
			}
			got, meta, err := DecodeSafetensors(tt.name, b)
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.meta) > 0 && !reflect.DeepEqual(meta, tt.meta) {
				t.Errorf("metadata %v, want %v", meta, tt.meta)
			}
			if len(got) != len(tt.tensors) {
				t.Fatalf("%d tensors, want %d", len(got), len(tt.tensors))
			}
			for i, want := range tt.tensors {
				g := got[i]
				if g.Name != want.Name || !reflect.DeepEqual(g.Shape, append([]int{}, want.Shape...)) || len(g.Data) != len(want.Data) {
					t.Fatalf("tensor %d: got %s %v (%d values), want %s %v (%d)", i, g.Name, g.Shape, len(g.Data), want.Name, want.Shape, len(want.Data))
				}
				for j := range want.Data {
					if math.Float32bits(g.Data[j]) != math.Float32bits(want.Data[j]) {
						t.Errorf("%s[%d] = %v, want %v", want.Name, j, g.Data[j], want.Data[j])
					}
				}
			}
			// The streaming writer and the file writer give the same bytes.
			var buf bytes.Buffer
			n, err := WriteSafetensors(&buf, tt.tensors, tt.meta)
			if err != nil || n != int64(len(b)) || !bytes.Equal(buf.Bytes(), b) {
				t.Errorf("WriteSafetensors: %d bytes, %v; differs from EncodeSafetensors", n, err)
			}
			path := filepath.Join(t.TempDir(), "x.safetensors")
			if err := WriteSafetensorsFile(path, tt.tensors, tt.meta); err != nil {
				t.Fatal(err)
			}
			if _, _, err := ReadSafetensorsFile(path); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSafetensorsWriterRejects(t *testing.T) {
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    string
	}{
		{"empty name", []Tensor{{Name: "", Shape: []int{1}, Data: []float32{1}}}, nil, "empty or reserved"},
		{"reserved name", []Tensor{{Name: "__metadata__", Shape: []int{1}, Data: []float32{1}}}, nil, "empty or reserved"},
		{"repeated name", []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}, {Name: "a", Shape: []int{1}, Data: []float32{1}}}, nil, `"a" appears twice`},
		{"shape mismatch", []Tensor{{Name: "a", Shape: []int{2, 2}, Data: []float32{1}}}, nil, "holds 4 values, the data has 1"},
		{"negative dim", []Tensor{{Name: "a", Shape: []int{-1}, Data: nil}}, nil, "negative dimension"},
		{"bad utf-8 name", []Tensor{{Name: "a\xff", Shape: []int{}, Data: []float32{1}}}, nil, "not valid UTF-8"},
		{"bad utf-8 metadata", nil, map[string]string{"k": "\xfe"}, "valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EncodeSafetensors(tt.tensors, tt.meta)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// failingWriter accepts n bytes, then fails.
type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteSafetensorsReportsWriteErrors(t *testing.T) {
	ts := []Tensor{{Name: "w", Shape: []int{100000}, Data: make([]float32, 100000)}}
	for _, n := range []int{0, 7, 20, 70000} {
		written, err := WriteSafetensors(&failingWriter{n: n}, ts, nil)
		if !errors.Is(err, errDiskFull) || written != int64(n) {
			t.Errorf("failing after %d bytes: wrote %d, %v", n, written, err)
		}
	}
}

func TestSafetensorsReaderRejects(t *testing.T) {
	one := f32bytes(1)
	huge := binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "fewer than the 8-byte header length"},
		{"header over the limit", append(huge, "{}"...), "over the 100000000-byte limit"},
		{"header past the end", append(binary.LittleEndian.AppendUint64(nil, 64), "{}"...), "only 2 bytes follow it"},
		{"not utf-8", stFile("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"not starting with {", stFile(` {}`, nil), "does not start with '{'"},
		{"not JSON", stFile(`{"a":`, nil), "header byte"},
		{"text after the object", stFile(`{} x`, nil), "text after the JSON object"},
		{"empty tensor name", stFile(`{"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, one), "a tensor has an empty name"},
		{"duplicate tensor", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, one), `key "a" appears twice`},
		{"metadata not strings", stFile(`{"__metadata__":{"a":1}}`, nil), "not a map of strings"},
		{"metadata not a map", stFile(`{"__metadata__":"pt"}`, nil), "not a map of strings"},
		{"metadata key twice", stFile(`{"__metadata__":{"a":"x","a":"y"}}`, nil), `key "a" appears twice`},
		{"unknown dtype", stFile(`{"a":{"dtype":"F8_E5M2","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), `dtype "F8_E5M2"; this reader converts BF16, BOOL, F16, F32, F64, I16, I32, I64, I8, U8`},
		{"missing shape", stFile(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, one), `tensor "a" has no shape`},
		{"unknown key", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, one), `unknown key "x"`},
		{"key in other case", stFile(`{"a":{"DTYPE":"F32","shape":[1],"data_offsets":[0,4]}}`, one), `unknown key "DTYPE"`},
		{"duplicate field", stFile(`{"a":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}}`, one), `key "dtype" appears twice`},
		{"three offsets", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, one), "must be [begin, end]"},
		{"negative dimension", stFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, one), "negative or too large dimension"},
		{"fractional dimension", stFile(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, one), "shape"},
		{"overflowing shape", stFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}`, nil), "too large dimension"},
		{"size mismatch", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, one), "span 4 bytes, but shape [2] of F32 takes 8"},
		{"reversed range", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, one), "not a byte range"},
		{"gap", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32bytes(1, 2)), "(a gap)"},
		{"overlap", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32bytes(1, 2)), "(overlap)"},
		{"bytes after the last tensor", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32bytes(1, 2)), "4 bytes follow the last tensor"},
		{"truncated data", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, one), "truncated file?"},
		{"bool not 0 or 1", stFile(`{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}`, []byte{2}), "element 0 of dtype BOOL has no float32 equivalent"},
		{"i64 not exact", stFile(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, binary.LittleEndian.AppendUint64(nil, 1<<24+1)), "dtype I64 has no float32 equivalent"},
		{"f64 out of range", stFile(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, binary.LittleEndian.AppendUint64(nil, math.Float64bits(1e300))), "dtype F64 has no float32 equivalent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := DecodeSafetensors("w.safetensors", tt.file)
			var se *SafetensorsError
			if !errors.As(err, &se) || se.File != "w.safetensors" {
				t.Fatalf("error %v, want a *SafetensorsError naming the file", err)
			}
			if !strings.HasPrefix(err.Error(), "w.safetensors: not a valid safetensors file: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSafetensorsReaderAccepts(t *testing.T) {
	half := func(vs ...uint16) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint16(b, v)
		}
		return b
	}
	i64 := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, uint64(1<<24)), math.MaxUint64) // 2^24, -1
	f64 := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1)), math.Float64bits(math.Inf(-1)))
	i32 := binary.LittleEndian.AppendUint32(nil, uint32(0xffffff85)) // -123
	tests := []struct {
		name  string
		file  []byte
		want  []Tensor
		wantM map[string]string
	}{
		{"empty header", stFile(`{}`, nil), []Tensor{}, nil},
		{"header whitespace and metadata null", stFile("{ \"__metadata__\" : null }\n", nil), []Tensor{}, nil},
		{"key order differs from data order", stFile(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32bytes(1, 2)),
			[]Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}, {Name: "b", Shape: []int{1}, Data: []float32{2}}}, nil},
		{"F16", stFile(`{"h":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]}}`, half(0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3800)),
			[]Tensor{{Name: "h", Shape: []int{2, 3}, Data: []float32{1, -2, 65504, 1.0 / (1 << 24), float32(math.Inf(1)), 0.5}}}, nil},
		{"BF16", stFile(`{"b":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]}}`, half(0x3f80, 0xc060, 0x0000)),
			[]Tensor{{Name: "b", Shape: []int{3}, Data: []float32{1, -3.5, 0}}}, nil},
		{"I64, F64, I32, I16, I8, U8, BOOL", stFile(`{"__metadata__":{"k":"v"},`+
			`"i64":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},`+
			`"f64":{"dtype":"F64","shape":[2],"data_offsets":[16,32]},`+
			`"i32":{"dtype":"I32","shape":[],"data_offsets":[32,36]},`+
			`"i16":{"dtype":"I16","shape":[1],"data_offsets":[36,38]},`+
			`"i8":{"dtype":"I8","shape":[1],"data_offsets":[38,39]},`+
			`"u8":{"dtype":"U8","shape":[1],"data_offsets":[39,40]},`+
			`"bool":{"dtype":"BOOL","shape":[2],"data_offsets":[40,42]}}`,
			bytes.Join([][]byte{i64, f64, i32, {0x00, 0x80}, {0xfe}, {0xfe}, {1, 0}}, nil)),
			[]Tensor{
				{Name: "i64", Shape: []int{2}, Data: []float32{1 << 24, -1}},
				{Name: "f64", Shape: []int{2}, Data: []float32{0.1, float32(math.Inf(-1))}},
				{Name: "i32", Shape: []int{}, Data: []float32{-123}},
				{Name: "i16", Shape: []int{1}, Data: []float32{-32768}},
				{Name: "i8", Shape: []int{1}, Data: []float32{-2}},
				{Name: "u8", Shape: []int{1}, Data: []float32{254}},
				{Name: "bool", Shape: []int{2}, Data: []float32{1, 0}},
			}, map[string]string{"k": "v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, meta, err := DecodeSafetensors(tt.name, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(meta, tt.wantM) {
				t.Errorf("metadata %v, want %v", meta, tt.wantM)
			}
		})
	}
}

// python returns /usr/bin/python3 (or python3 on the PATH) when it can import numpy.
func python(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Skip("python3 not found")
		}
	}
	if exec.Command(py, "-c", "import numpy").Run() != nil {
		t.Skip("numpy not available to python3")
	}
	return py
}

// TestSafetensorsReadByIndependentReader reads our file with a few lines of Python
// written from the format's description (the Hugging Face library is not installable
// here): struct for the header length, json for the header, numpy.frombuffer for the
// data. It also checks the layout rules a strict reader enforces.
func TestSafetensorsReadByIndependentReader(t *testing.T) {
	py := python(t)
	path := filepath.Join(t.TempDir(), "model.safetensors")
	tensors := []Tensor{
		{Name: "encoder.block.0.ffn.wo", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, 1e-8, -7}},
		{Name: "embed", Shape: []int{3}, Data: []float32{0.25, 0.5, 0.75}},
		{Name: "scalar", Shape: []int{}, Data: []float32{-1.5}},
	}
	if err := WriteSafetensorsFile(path, tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	script := `
import json, struct, sys, numpy as np
b = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", b[:8])
raw = b[8:8 + n]
assert (8 + n) % 8 == 0, "data not 8-byte aligned"
assert raw[:1] == b"{" and raw.rstrip(b" ").endswith(b"}"), "header framing"
h = json.loads(raw.decode("utf-8"))
meta = h.pop("__metadata__")
data = b[8 + n:]
end = 0
for name, t in sorted(h.items(), key=lambda kv: kv[1]["data_offsets"]):
    s, e = t["data_offsets"]
    assert s == end, "gap or overlap"
    end = e
assert end == len(data), "trailing bytes"
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
		"scalar F32 [] -1.5\n" +
		"meta pt\n"
	if string(out) != want {
		t.Errorf("python read:\n%s\nwant:\n%s", out, want)
	}
}

// TestSafetensorsWrittenByIndependentWriter reads a file that a few lines of Python
// write from the format's description, with the dtypes the reader converts.
func TestSafetensorsWrittenByIndependentWriter(t *testing.T) {
	py := python(t)
	path := filepath.Join(t.TempDir(), "py.safetensors")
	script := `
import json, struct, sys, numpy as np
f32 = np.array([[1.5, -2.0], [3.25, 1e-3]], dtype="<f4")
arrays = {
    "f32": ("F32", f32),
    "f16": ("F16", np.array([0.5, -65504.0, 6e-8], dtype="<f2")),
    "bf16": ("BF16", (np.array([1.0, -3.5, 2.0**-100], dtype="<f4").view("<u4") >> 16).astype("<u2")),
    "f64": ("F64", np.array([0.1], dtype="<f8")),
    "i64": ("I64", np.array([[-3], [16777216]], dtype="<i8")),
}
header, chunks, off = {"__metadata__": {"source": "python"}}, [], 0
for name, (dt, a) in arrays.items():
    raw = a.tobytes()
    header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
    chunks.append(raw); off += len(raw)
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + b"".join(chunks))
`
	if out, err := exec.Command(py, "-c", script, path).CombinedOutput(); err != nil {
		t.Fatalf("python writer failed: %v\n%s", err, out)
	}
	got, meta, err := ReadSafetensorsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Tensor{
		{Name: "f32", Shape: []int{2, 2}, Data: []float32{1.5, -2, 3.25, 1e-3}},
		{Name: "f16", Shape: []int{3}, Data: []float32{0.5, -65504, halfToFloat32(0x0001)}},
		{Name: "bf16", Shape: []int{3}, Data: []float32{1, -3.5, float32(math.Ldexp(1, -100))}},
		{Name: "f64", Shape: []int{1}, Data: []float32{0.1}},
		{Name: "i64", Shape: []int{2, 1}, Data: []float32{-3, 16777216}},
	}
	if !reflect.DeepEqual(got, want) || meta["source"] != "python" {
		t.Errorf("got %+v %v\nwant %+v", got, meta, want)
	}
}

func TestHalfToFloat32Exhaustive(t *testing.T) {
	// Every binary16 value converts exactly: back-conversion by rounding recovers the
	// bits (NaNs keep their payload in the top mantissa bits).
	for h := 0; h < 1<<16; h++ {
		f := halfToFloat32(uint16(h))
		bits := math.Float32bits(f)
		sign := uint16(bits>>16) & 0x8000
		exp := int(bits>>23&0xff) - 127 + 15
		mant := bits & 0x7fffff
		var back uint16
		switch {
		case bits&0x7fffffff == 0:
			back = sign
		case bits>>23&0xff == 0xff:
			back = sign | 0x7c00 | uint16(mant>>13)
		case exp <= 0: // subnormal half
			back = sign | uint16((mant|0x800000)>>(14-exp))
		default:
			back = sign | uint16(exp)<<10 | uint16(mant>>13)
		}
		if back != uint16(h) {
			t.Fatalf("half %#04x -> %v (%#08x) -> %#04x", h, f, bits, back)
		}
	}
}

func FuzzDecodeSafetensors(f *testing.F) {
	good, _ := EncodeSafetensors([]Tensor{
		{Name: "a", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "b", Shape: []int{}, Data: []float32{5}},
	}, map[string]string{"a": "b"})
	f.Add(good)
	f.Add([]byte{})
	f.Add(stFile(`{}`, nil))
	f.Add(stFile(`{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`, []byte{0, 0x3c}))
	f.Add(stFile(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"BOOL","shape":[0],"data_offsets":[8,8]}}`, make([]byte, 8)))
	f.Fuzz(func(t *testing.T, b []byte) {
		tensors, meta, err := DecodeSafetensors("fuzz", b)
		if err != nil {
			var se *SafetensorsError
			if !errors.As(err, &se) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		// Whatever decodes re-encodes (as F32) to a file that decodes to the same
		// tensors.
		again, err := EncodeSafetensors(tensors, meta)
		if err != nil {
			t.Fatalf("re-encoding decoded tensors: %v", err)
		}
		t2, m2, err := DecodeSafetensors("again", again)
		if err != nil {
			t.Fatalf("decoding the re-encoded file: %v", err)
		}
		if len(t2) != len(tensors) || len(m2) != len(meta) {
			t.Fatalf("round trip: %d tensors, %d metadata; want %d, %d", len(t2), len(m2), len(tensors), len(meta))
		}
		for i := range tensors {
			if t2[i].Name != tensors[i].Name || !reflect.DeepEqual(t2[i].Shape, tensors[i].Shape) {
				t.Fatalf("tensor %d: %s %v, want %s %v", i, t2[i].Name, t2[i].Shape, tensors[i].Name, tensors[i].Shape)
			}
			for j := range tensors[i].Data {
				if math.Float32bits(t2[i].Data[j]) != math.Float32bits(tensors[i].Data[j]) {
					t.Fatalf("tensor %s[%d] changed", tensors[i].Name, j)
				}
			}
		}
	})
}
