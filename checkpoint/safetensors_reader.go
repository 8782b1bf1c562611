package checkpoint

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"unsafe"
)

// littleEndian reports whether float32 values are stored little-endian in memory, as
// safetensors stores them (amd64, arm64, ...).
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// SafetensorsInfo describes one tensor of a safetensors file without its values.
type SafetensorsInfo struct {
	// Name is the tensor's name in the file.
	Name string
	// Dtype is its element type as stored ("F32", "BF16", ...).
	Dtype string
	// Shape lists its dimensions, outermost first.
	Shape []int
}

// Elements is the number of values of the tensor.
func (i SafetensorsInfo) Elements() int {
	n := 1
	for _, d := range i.Shape {
		n *= d
	}
	return n
}

// SafetensorsReader reads the tensors of a safetensors file one at a time, so that a
// large file is converted to float32 without holding its bytes and its values at once
// (ReadSafetensorsFile holds both). The header is checked as DecodeSafetensors checks
// it when the file is opened; each Read reads only its tensor's bytes. A reader is not
// safe for concurrent use; Close releases the file.
type SafetensorsReader struct {
	path     string
	f        *os.File
	dataOff  int64
	entries  []stEntry
	byName   map[string]int
	meta     map[string]string
	scratch  []byte
	fileSize int64
}

// OpenSafetensors opens the safetensors file path (a regular file; see
// ReadSafetensorsFile) and checks its header: the header length, the JSON, every
// tensor's dtype, shape and byte range, and that the ranges tile the rest of the file
// exactly. Values are converted by Read.
func OpenSafetensors(path string) (*SafetensorsReader, error) {
	f, size, err := openRegularFile(path)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) (*SafetensorsReader, error) {
		f.Close()
		return nil, &SafetensorsError{File: path, Problem: fmt.Sprintf(format, args...)}
	}
	if size < 8 {
		return bad("the file has %d bytes, fewer than the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(f, lenBuf[:]); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	hl := binary.LittleEndian.Uint64(lenBuf[:])
	switch {
	case hl > MaxHeaderSize:
		return bad("the header length is %d bytes, over the %d-byte limit", hl, MaxHeaderSize)
	case hl > uint64(size-8):
		return bad("the header length is %d bytes but only %d bytes follow it (truncated file?)", hl, size-8)
	}
	header := make([]byte, hl)
	if _, err := io.ReadFull(f, header); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	entries, meta, err := parseSafetensorsHeader(path, header, size-8-int64(hl))
	if err != nil {
		f.Close()
		return nil, err
	}
	r := &SafetensorsReader{path: path, f: f, dataOff: 8 + int64(hl), entries: entries, meta: meta,
		byName: make(map[string]int, len(entries)), fileSize: size}
	for i, e := range entries {
		r.byName[e.name] = i
	}
	return r, nil
}

// Tensors lists the file's tensors in the order of their data.
func (r *SafetensorsReader) Tensors() []SafetensorsInfo {
	out := make([]SafetensorsInfo, len(r.entries))
	for i, e := range r.entries {
		out[i] = SafetensorsInfo{Name: e.name, Dtype: e.dtypeName, Shape: slices.Clone(e.shape)}
	}
	return out
}

// Metadata returns the file's "__metadata__" map (nil when it has none).
func (r *SafetensorsReader) Metadata() map[string]string { return r.meta }

// Read converts the tensor name to float32 into dst, which must hold exactly its
// number of values (see DecodeSafetensors for the conversions). It reads the tensor's
// bytes through one buffer that the reader reuses, and checks that the file has not
// changed size since it was opened.
func (r *SafetensorsReader) Read(name string, dst []float32) error {
	i, ok := r.byName[name]
	if !ok {
		return fmt.Errorf("%s: no tensor %q", r.path, name)
	}
	e := &r.entries[i]
	n := (e.end - e.begin) / int64(e.dt.size)
	if int64(len(dst)) != n {
		return fmt.Errorf("%s: tensor %q has %d values, the destination %d", r.path, name, n, len(dst))
	}
	if st, err := r.f.Stat(); err != nil {
		return fmt.Errorf("%s: %w", r.path, err)
	} else if st.Size() != r.fileSize {
		return fmt.Errorf("%s changed size while being read (%d bytes, was %d)", r.path, st.Size(), r.fileSize)
	}
	nb := int(e.end - e.begin)
	if e.dtypeName == "F32" && littleEndian && nb > 0 {
		// The bytes are the values: read them in place, with no copy or conversion.
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), nb)
		if _, err := r.f.ReadAt(raw, r.dataOff+e.begin); err != nil {
			return fmt.Errorf("%s: tensor %q: %w", r.path, name, err)
		}
		return nil
	}
	if cap(r.scratch) < nb {
		r.scratch = make([]byte, nb)
	}
	buf := r.scratch[:nb]
	if _, err := r.f.ReadAt(buf, r.dataOff+e.begin); err != nil {
		return fmt.Errorf("%s: tensor %q: %w", r.path, name, err)
	}
	return e.convert(r.path, dst, buf)
}

// Close closes the file and drops the read buffer.
func (r *SafetensorsReader) Close() error {
	r.scratch = nil
	return r.f.Close()
}

// WriteFileAtomic writes data to the file path atomically: a temporary file in the
// same folder, synced, then renamed over path (as WriteSafetensorsFile does).
func WriteFileAtomic(path string, data []byte) error {
	err := writeFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
