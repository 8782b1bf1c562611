package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Tensor is a named float32 tensor.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// maxHeader bounds the JSON header a reader accepts (the reference implementation uses
// 100 MB).
const maxHeader = 100 << 20

type tensorInfo struct {
	Dtype       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// EncodeSafetensors lays out tensors in the safetensors format: an 8-byte little-endian
// header length, a JSON header mapping each name to its dtype (F32), shape and byte
// offsets (plus an optional "__metadata__" string map), padded with spaces to a multiple
// of 8 bytes, then the tensors' little-endian bytes, in the given order, back to back.
func EncodeSafetensors(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	seen := map[string]bool{}
	for _, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" || seen[t.Name] {
			return nil, fmt.Errorf("safetensors: tensor name %q is empty, reserved or repeated", t.Name)
		}
		seen[t.Name] = true
		n := 1
		for _, d := range t.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors: tensor %s: negative dimension in %v", t.Name, t.Shape)
			}
			n *= d
		}
		if n != len(t.Data) {
			return nil, fmt.Errorf("safetensors: tensor %s: shape %v holds %d values, data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = tensorInfo{Dtype: "F32", Shape: shape, DataOffsets: [2]int64{off, off + 4*int64(n)}}
		off += 4 * int64(n)
	}
	h, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := make([]byte, 8, 8+len(h)+int(off))
	binary.LittleEndian.PutUint64(out, uint64(len(h)))
	out = append(out, h...)
	for _, t := range tensors {
		for _, v := range t.Data {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	return out, nil
}

// DecodeSafetensors reads a safetensors file (name is used in errors). It checks the
// header's size and JSON, that every tensor is F32 with a byte range matching its shape,
// and that the ranges tile the data exactly (no gap, no overlap, nothing after). It
// returns the tensors in file order and the metadata.
func DecodeSafetensors(name string, b []byte) ([]Tensor, map[string]string, error) {
	bad := func(format string, args ...any) ([]Tensor, map[string]string, error) {
		return nil, nil, fmt.Errorf("%s: not a valid safetensors file: %s", name, fmt.Sprintf(format, args...))
	}
	if len(b) < 8 {
		return bad("%d bytes, shorter than the 8-byte header length", len(b))
	}
	hl := binary.LittleEndian.Uint64(b)
	if hl > maxHeader || hl > uint64(len(b)-8) {
		return bad("header length %d exceeds the file (%d bytes) or the %d-byte limit", hl, len(b), maxHeader)
	}
	dec := json.NewDecoder(bytes.NewReader(b[8 : 8+hl]))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return bad("header is not a JSON object: %v", err)
	}
	var meta map[string]string
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &meta); err != nil {
			return bad("__metadata__ is not a map of strings: %v", err)
		}
		delete(raw, "__metadata__")
	}
	data := b[8+hl:]
	type entry struct {
		name string
		info tensorInfo
	}
	var entries []entry
	for n, r := range raw {
		var ti tensorInfo
		d := json.NewDecoder(bytes.NewReader(r))
		d.DisallowUnknownFields()
		if err := d.Decode(&ti); err != nil {
			return bad("tensor %q: %v", n, err)
		}
		if ti.Dtype != "F32" {
			return bad("tensor %q has dtype %q; this reader takes F32 only", n, ti.Dtype)
		}
		count := int64(1)
		for _, dim := range ti.Shape {
			if dim < 0 || (dim > 0 && count > math.MaxInt32/int64(dim)) {
				return bad("tensor %q: shape %v is out of range", n, ti.Shape)
			}
			count *= int64(dim)
		}
		if ti.DataOffsets[0] < 0 || ti.DataOffsets[1] < ti.DataOffsets[0] || ti.DataOffsets[1]-ti.DataOffsets[0] != 4*count {
			return bad("tensor %q: byte range %v does not hold shape %v of F32", n, ti.DataOffsets, ti.Shape)
		}
		entries = append(entries, entry{n, ti})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].info.DataOffsets[0] < entries[j].info.DataOffsets[0] })
	var end int64
	tensors := make([]Tensor, 0, len(entries))
	for _, e := range entries {
		if e.info.DataOffsets[0] != end {
			return bad("tensor %q starts at byte %d, want %d (gap or overlap)", e.name, e.info.DataOffsets[0], end)
		}
		end = e.info.DataOffsets[1]
		if end > int64(len(data)) {
			return bad("tensor %q ends at byte %d, after the data (%d bytes): truncated file", e.name, end, len(data))
		}
		vals := make([]float32, (e.info.DataOffsets[1]-e.info.DataOffsets[0])/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[e.info.DataOffsets[0]+4*int64(i):]))
		}
		tensors = append(tensors, Tensor{Name: e.name, Shape: e.info.Shape, Data: vals})
	}
	if end != int64(len(data)) {
		return bad("%d bytes after the last tensor", int64(len(data))-end)
	}
	if strings.TrimRight(string(b[8:8+hl]), " ") == "" {
		return bad("empty header")
	}
	return tensors, meta, nil
}
