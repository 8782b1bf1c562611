package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Tensor is a named float32 tensor, stored row-major (C order).
type Tensor struct {
	// Name identifies the tensor inside its file ("encoder.block.0.ffn.wo").
	Name string
	// Shape lists the dimensions, outermost first; empty for a scalar.
	Shape []int
	// Data holds the product of Shape values.
	Data []float32
}

// MaxHeaderSize is the largest JSON header, in bytes, that the reader accepts and the
// writer produces; the reference implementation uses the same limit (100 MB).
const MaxHeaderSize = 100_000_000

// metadataKey is the header key of the optional string map that is not a tensor.
const metadataKey = "__metadata__"

// dtype describes an element type the reader converts to float32.
type dtype struct {
	size int
	// get converts the element at b (size bytes); ok is false when the value has no
	// float32 equivalent (an integer float32 cannot hold exactly, a float64 beyond
	// float32's range, a BOOL byte other than 0 or 1).
	get func(b []byte) (v float32, ok bool)
}

// dtypes are the element types DecodeSafetensors reads (the writer writes F32 only).
var dtypes = map[string]dtype{
	"F32":  {4, getF32},
	"F16":  {2, getF16},
	"BF16": {2, getBF16},
	"F64":  {8, getF64},
	"I64":  {8, getI64},
	"I32":  {4, getI32},
	"I16":  {2, func(b []byte) (float32, bool) { return float32(int16(binary.LittleEndian.Uint16(b))), true }},
	"I8":   {1, func(b []byte) (float32, bool) { return float32(int8(b[0])), true }},
	"U8":   {1, func(b []byte) (float32, bool) { return float32(b[0]), true }},
	"BOOL": {1, func(b []byte) (float32, bool) { return float32(b[0]), b[0] <= 1 }},
}

func getF32(b []byte) (float32, bool) {
	return math.Float32frombits(binary.LittleEndian.Uint32(b)), true
}

func getF16(b []byte) (float32, bool) {
	return halfToFloat32(binary.LittleEndian.Uint16(b)), true
}

// getBF16 widens a bfloat16, the top half of a float32.
func getBF16(b []byte) (float32, bool) {
	return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16), true
}

// getF64 rounds a float64 to the nearest float32; a finite value beyond float32's
// range has no float32 equivalent.
func getF64(b []byte) (float32, bool) {
	x := math.Float64frombits(binary.LittleEndian.Uint64(b))
	f := float32(x)
	return f, !math.IsInf(float64(f), 0) || math.IsInf(x, 0)
}

func getI64(b []byte) (float32, bool) {
	return intToFloat32(int64(binary.LittleEndian.Uint64(b)))
}

func getI32(b []byte) (float32, bool) {
	return intToFloat32(int64(int32(binary.LittleEndian.Uint32(b))))
}

// halfToFloat32 converts an IEEE 754 binary16 value.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0: // zero or subnormal: mant × 2^-24, exact in float32
		v := float32(mant) / (1 << 24)
		return math.Float32frombits(math.Float32bits(v) | sign)
	case 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// intToFloat32 converts v when float32 holds it exactly.
func intToFloat32(v int64) (float32, bool) {
	f := float32(v)
	if math.Abs(float64(f)) >= 1<<62 {
		return f, false
	}
	return f, int64(f) == v
}

// knownDtypes lists the dtypes the reader takes, for error messages.
func knownDtypes() string {
	names := make([]string, 0, len(dtypes))
	for n := range dtypes {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// tensorHeader is the JSON header entry of one tensor.
type tensorHeader struct {
	Dtype       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// safetensorsHeader builds the padded JSON header for tensors stored as F32 in the
// given order, and returns it with the size of the data section.
func safetensorsHeader(tensors []Tensor, metadata map[string]string) ([]byte, int64, error) {
	var h bytes.Buffer
	enc := json.NewEncoder(&h)
	enc.SetEscapeHTML(false) // as serde_json writes strings: "<" stays "<"
	encode := func(v any) error {
		if err := enc.Encode(v); err != nil {
			return err
		}
		h.Truncate(h.Len() - 1) // Encode's newline
		return nil
	}
	h.WriteByte('{')
	if len(metadata) > 0 {
		for k, v := range metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, 0, fmt.Errorf("safetensors: metadata %q: keys and values must be valid UTF-8", k)
			}
		}
		h.WriteString(`"` + metadataKey + `":`)
		if err := encode(metadata); err != nil {
			return nil, 0, err
		}
	}
	var off int64
	seen := make(map[string]bool, len(tensors))
	for i, t := range tensors {
		switch {
		case t.Name == "" || t.Name == metadataKey:
			return nil, 0, fmt.Errorf("safetensors: tensor %d: name %q is empty or reserved", i, t.Name)
		case !utf8.ValidString(t.Name):
			return nil, 0, fmt.Errorf("safetensors: tensor %d: name %q is not valid UTF-8", i, t.Name)
		case seen[t.Name]:
			return nil, 0, fmt.Errorf("safetensors: tensor name %q appears twice", t.Name)
		}
		seen[t.Name] = true
		n, ok := elements(t.Shape)
		if !ok {
			return nil, 0, fmt.Errorf("safetensors: tensor %s: shape %v has a negative dimension or too many elements", t.Name, t.Shape)
		}
		if n != int64(len(t.Data)) {
			return nil, 0, fmt.Errorf("safetensors: tensor %s: shape %v holds %d values, the data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		if i > 0 || len(metadata) > 0 {
			h.WriteByte(',')
		}
		if err := encode(t.Name); err != nil {
			return nil, 0, err
		}
		h.WriteByte(':')
		if err := encode(tensorHeader{Dtype: "F32", Shape: shape, DataOffsets: [2]int64{off, off + 4*n}}); err != nil {
			return nil, 0, err
		}
		off += 4 * n
	}
	h.WriteByte('}')
	// Pad with spaces so that the data starts 8-byte aligned (8 + header length).
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len() > MaxHeaderSize {
		return nil, 0, fmt.Errorf("safetensors: the header of %d tensors takes %d bytes, over the %d-byte limit readers accept", len(tensors), h.Len(), MaxHeaderSize)
	}
	return h.Bytes(), off, nil
}

// elements returns the number of elements of shape; ok is false for a negative
// dimension or a count whose F32 bytes would overflow an int64.
func elements(shape []int) (n int64, ok bool) {
	n = 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(uint64(n), uint64(d))
		if hi != 0 || lo > math.MaxInt64/8 {
			return 0, false
		}
		n = int64(lo)
	}
	return n, true
}

// WriteSafetensors writes tensors to w in the safetensors format and returns the
// number of bytes written: an 8-byte little-endian header length, a JSON header
// mapping each tensor's name to {"dtype": "F32", "shape": [...], "data_offsets":
// [begin, end]} (after an optional "__metadata__" map of strings), padded with spaces
// to a multiple of 8 bytes, then the tensors' little-endian float32 values back to
// back. Tensors are stored, and listed in the header, in the order given (readers
// find them by name); names must be unique, non-empty UTF-8 and not "__metadata__".
func WriteSafetensors(w io.Writer, tensors []Tensor, metadata map[string]string) (int64, error) {
	h, _, err := safetensorsHeader(tensors, metadata)
	if err != nil {
		return 0, err
	}
	const chunk = 1 << 16
	buf := make([]byte, 8, chunk+8)
	binary.LittleEndian.PutUint64(buf, uint64(len(h)))
	var written int64
	flush := func() error {
		n, err := w.Write(buf)
		written += int64(n)
		buf = buf[:0]
		return err
	}
	if err := flush(); err != nil {
		return written, err
	}
	n, err := w.Write(h)
	written += int64(n)
	if err != nil {
		return written, err
	}
	for _, t := range tensors {
		for _, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) >= chunk {
				if err := flush(); err != nil {
					return written, err
				}
			}
		}
	}
	if len(buf) > 0 {
		if err := flush(); err != nil {
			return written, err
		}
	}
	return written, nil
}

// EncodeSafetensors returns the safetensors file WriteSafetensors writes.
func EncodeSafetensors(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	h, data, err := safetensorsHeader(tensors, metadata)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(8 + len(h) + int(data))
	if _, err := WriteSafetensors(&b, tensors, metadata); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteSafetensorsFile writes tensors to the file path atomically (a temporary file in
// the same directory, synced, then renamed over path).
func WriteSafetensorsFile(path string, tensors []Tensor, metadata map[string]string) error {
	if _, _, err := safetensorsHeader(tensors, metadata); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		_, err := WriteSafetensors(w, tensors, metadata)
		return err
	})
}

// ReadSafetensorsFile reads and checks the safetensors file path (see
// DecodeSafetensors). It reads regular files only (a symbolic link is followed): a
// named pipe, device or directory is refused before it is opened, and a file that
// grows while being read is refused too.
func ReadSafetensorsFile(path string) ([]Tensor, map[string]string, error) {
	b, err := readRegularFile(path, -1)
	if err != nil {
		return nil, nil, err
	}
	return DecodeSafetensors(path, b)
}

// SafetensorsError reports a file that is not a valid safetensors file.
type SafetensorsError struct {
	// File names the file (as given to DecodeSafetensors).
	File string
	// Problem says what is wrong.
	Problem string
}

// Error returns "FILE: not a valid safetensors file: PROBLEM".
func (e *SafetensorsError) Error() string {
	return e.File + ": not a valid safetensors file: " + e.Problem
}

// DecodeSafetensors parses the safetensors file b; name identifies it in errors. It
// checks everything before it allocates: the header length (at most MaxHeaderSize and
// inside the file), that the header is UTF-8 JSON starting with "{" with no key twice
// and nothing but spaces after it, that "__metadata__" (optional) maps strings to
// strings, that every tensor has exactly the keys dtype, shape and data_offsets with a
// byte range that holds its shape of its dtype, and that the ranges tile the data
// section exactly: no gap, no overlap, nothing after the last tensor.
//
// Elements are converted to float32: F32 as is, F16 and BF16 exactly, F64 rounded to
// nearest (a finite value beyond float32's range is an error), I8, I16, U8 and BOOL
// exactly, I32 and I64 when float32 holds the value exactly (else an error). Other
// dtypes are rejected with an error naming them. Tensors are returned in the order of
// their data in the file, with the metadata map (nil when the file has none).
func DecodeSafetensors(name string, b []byte) ([]Tensor, map[string]string, error) {
	bad := func(format string, args ...any) ([]Tensor, map[string]string, error) {
		return nil, nil, &SafetensorsError{File: name, Problem: fmt.Sprintf(format, args...)}
	}
	if len(b) < 8 {
		return bad("the file has %d bytes, fewer than the 8-byte header length", len(b))
	}
	hl := binary.LittleEndian.Uint64(b)
	switch {
	case hl > MaxHeaderSize:
		return bad("the header length is %d bytes, over the %d-byte limit", hl, MaxHeaderSize)
	case hl > uint64(len(b)-8):
		return bad("the header length is %d bytes but only %d bytes follow it (truncated file?)", hl, len(b)-8)
	}
	header := b[8 : 8+hl]
	data := b[8+hl:]
	entries, meta, err := parseSafetensorsHeader(name, header, int64(len(data)))
	if err != nil {
		return nil, nil, err
	}
	tensors := make([]Tensor, len(entries))
	for i, e := range entries {
		vals := make([]float32, (e.end-e.begin)/int64(e.dt.size))
		if err := e.convert(name, vals, data[e.begin:e.end]); err != nil {
			return nil, nil, err
		}
		tensors[i] = Tensor{Name: e.name, Shape: e.shape, Data: vals}
	}
	return tensors, meta, nil
}

// stEntry is one tensor of a safetensors header: its name, dtype, shape and byte
// range in the data section.
type stEntry struct {
	name       string
	dtypeName  string
	dt         dtype
	shape      []int
	begin, end int64
}

// convert converts the entry's bytes src to float32 values in dst (len(src)/size
// values); file names the file in errors.
func (e *stEntry) convert(file string, dst []float32, src []byte) error {
	if e.dtypeName == "F32" { // the common case, without a call per element
		for j := range dst {
			dst[j] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*j:]))
		}
		return nil
	}
	for j := range dst {
		v, ok := e.dt.get(src[j*e.dt.size:])
		if !ok {
			return &SafetensorsError{File: file, Problem: fmt.Sprintf("tensor %q: element %d of dtype %s has no float32 equivalent (an integer beyond 2^24 that float32 cannot hold exactly, a float64 beyond float32's range, or a BOOL byte other than 0 and 1)", e.name, j, e.dtypeName)}
		}
		dst[j] = v
	}
	return nil
}

// parseSafetensorsHeader checks a safetensors JSON header (see DecodeSafetensors) for
// a data section of dataLen bytes and returns its tensors in the order of their data,
// with the metadata map.
func parseSafetensorsHeader(name string, header []byte, dataLen int64) ([]stEntry, map[string]string, error) {
	bad := func(format string, args ...any) ([]stEntry, map[string]string, error) {
		return nil, nil, &SafetensorsError{File: name, Problem: fmt.Sprintf(format, args...)}
	}
	if !utf8.Valid(header) {
		return bad("the header is not valid UTF-8")
	}
	if len(header) == 0 || header[0] != '{' {
		return bad("the header does not start with '{'")
	}
	members, err := objectMembers(header, 0)
	if err != nil {
		off, _ := jsonPos(err)
		return bad("header byte %d: %v", off, err)
	}
	var meta map[string]string
	entries := make([]stEntry, 0, len(members))
	for _, m := range members {
		if m.name == metadataKey {
			if string(m.value) == "null" {
				continue
			}
			pairs, err := objectMembers(m.value, 0)
			if err != nil {
				return bad("%s is not a map of strings to strings: %v", metadataKey, err)
			}
			meta = make(map[string]string, len(pairs))
			for _, p := range pairs {
				var v string
				if err := decodeStrict(p.value, 0, &v); err != nil {
					return bad("%s is not a map of strings to strings: %s: %v", metadataKey, p.name, err)
				}
				meta[p.name] = v
			}
			continue
		}
		if m.name == "" {
			return bad("a tensor has an empty name (the format finds tensors by name; give it one)")
		}
		e := stEntry{name: m.name}
		fields, err := objectMembers(m.value, 0)
		if err != nil {
			return bad("tensor %q: %v", m.name, err)
		}
		var dtypeName string
		var shape []int64
		var offsets []int64
		has := map[string]bool{}
		for _, f := range fields {
			var target any
			switch f.name {
			case "dtype":
				target = &dtypeName
			case "shape":
				target = &shape
			case "data_offsets":
				target = &offsets
			default:
				return bad("tensor %q: unknown key %q (want dtype, shape, data_offsets)", m.name, f.name)
			}
			if err := decodeStrict(f.value, 0, target); err != nil {
				return bad("tensor %q: %s: %v", m.name, f.name, err)
			}
			has[f.name] = true
		}
		for _, k := range []string{"dtype", "shape", "data_offsets"} {
			if !has[k] {
				return bad("tensor %q has no %s", m.name, k)
			}
		}
		dt, ok := dtypes[dtypeName]
		if !ok {
			return bad("tensor %q has dtype %q; this reader converts %s to float32", m.name, dtypeName, knownDtypes())
		}
		e.dt, e.dtypeName = dt, dtypeName
		if shape == nil {
			return bad("tensor %q: shape is null, want a list of dimensions", m.name)
		}
		e.shape = make([]int, len(shape))
		n := uint64(1)
		for i, d := range shape {
			hi, lo := bits.Mul64(n, uint64(d))
			if d < 0 || int64(int(d)) != d || hi != 0 || lo > math.MaxInt64/8 {
				return bad("tensor %q: shape %v has a negative or too large dimension", m.name, shape)
			}
			n = lo
			e.shape[i] = int(d)
		}
		if len(offsets) != 2 {
			return bad("tensor %q: data_offsets %v must be [begin, end]", m.name, offsets)
		}
		e.begin, e.end = offsets[0], offsets[1]
		if e.begin < 0 || e.end < e.begin {
			return bad("tensor %q: data_offsets [%d, %d] is not a byte range", m.name, e.begin, e.end)
		}
		if want := int64(n) * int64(dt.size); e.end-e.begin != want {
			return bad("tensor %q: data_offsets [%d, %d] span %d bytes, but shape %v of %s takes %d", m.name, e.begin, e.end, e.end-e.begin, shape, dtypeName, want)
		}
		entries = append(entries, e)
	}
	// The ranges must tile the data section in order (ties: empty tensors).
	slices.SortStableFunc(entries, func(a, b stEntry) int {
		if a.begin != b.begin {
			if a.begin < b.begin {
				return -1
			}
			return 1
		}
		return int(a.end - a.begin - (b.end - b.begin))
	})
	var end int64
	for _, e := range entries {
		switch {
		case e.begin > end:
			return bad("tensor %q starts at data byte %d, but the previous tensor ends at %d (a gap)", e.name, e.begin, end)
		case e.begin < end:
			return bad("tensor %q starts at data byte %d, inside the previous tensor, which ends at %d (overlap)", e.name, e.begin, end)
		case e.end > dataLen:
			return bad("tensor %q ends at data byte %d, but the data section has %d bytes (truncated file?)", e.name, e.end, dataLen)
		}
		end = e.end
	}
	if end != dataLen {
		return bad("%d bytes follow the last tensor's data (which ends at data byte %d)", dataLen-end, end)
	}
	return entries, meta, nil
}
