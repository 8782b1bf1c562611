// Package protowire reads and writes the protocol buffers wire format at the level the
// tokenizer needs: a message is a list of raw fields kept in their original order, so a
// message can be rewritten without losing fields its reader does not interpret.
//
// It knows nothing about schemas. Callers pick fields by number and decode the payload
// with the typed helpers (Varint, Fixed32, Bytes).
package protowire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Type is a wire type: how a field's payload is encoded.
type Type uint8

// The wire types of the protocol buffers encoding. Groups (3 and 4) are deprecated and
// rejected by Parse.
const (
	VarintType  Type = 0
	Fixed64Type Type = 1
	BytesType   Type = 2
	Fixed32Type Type = 5
)

// Field is one field of a message as it appears on the wire.
type Field struct {
	// Num is the field number (1 to 2^29-1).
	Num int32
	// Type is the wire type.
	Type Type
	// Value holds the decoded payload for VarintType, Fixed64Type and Fixed32Type.
	Value uint64
	// Data holds the payload of a BytesType field (a sub-slice of the parsed buffer).
	Data []byte
}

// MaxFieldNum is the largest legal field number.
const MaxFieldNum = 1<<29 - 1

// Error describes malformed wire data and the byte offset where it was found.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("byte %d: %s", e.Offset, e.Msg) }

// ErrTruncated is wrapped by errors for data that ends in the middle of a field.
var ErrTruncated = errors.New("unexpected end of data")

// Parse splits a serialized message into its fields. The Data of BytesType fields
// aliases b. It returns an *Error for malformed input.
//
// Parse allocates a Field (about 48 bytes) per field, so a message of many small fields
// takes many times its own size; Walk visits the fields without keeping them.
func Parse(b []byte) ([]Field, error) {
	var fields []Field
	err := Walk(b, func(f Field, _ []byte) error {
		fields = append(fields, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fields, nil
}

// Walk calls fn for every field of the serialized message b, in order, with the field
// and its encoded bytes (tag included); both alias b. It allocates nothing itself. It
// stops at the first error fn returns, which it returns as is, and at malformed data,
// which it reports as an *Error with the offset in b.
func Walk(b []byte, fn func(f Field, raw []byte) error) error {
	off := 0
	for off < len(b) {
		f, n, err := consumeField(b, off)
		if err != nil {
			return err
		}
		if err := fn(f, b[off:off+n]); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// Validate reports whether b is a well-formed message at the wire level (tags, varints
// and lengths), without decoding the fields' payloads. It allocates nothing.
func Validate(b []byte) error {
	return Walk(b, func(Field, []byte) error { return nil })
}

// consumeField decodes the field starting at b[off:] and returns it with its encoded
// length. Errors carry offsets into b.
func consumeField(b []byte, off int) (Field, int, error) {
	start := off
	tag, n := ConsumeVarint(b[off:])
	if n <= 0 {
		return Field{}, 0, &Error{start, "bad field tag: " + varintErr(n)}
	}
	off += n
	num := tag >> 3
	if num == 0 || num > MaxFieldNum {
		return Field{}, 0, &Error{start, fmt.Sprintf("invalid field number %d", num)}
	}
	f := Field{Num: int32(num), Type: Type(tag & 7)}
	switch f.Type {
	case VarintType:
		v, n := ConsumeVarint(b[off:])
		if n <= 0 {
			return Field{}, 0, &Error{off, fmt.Sprintf("field %d: bad varint: %s", num, varintErr(n))}
		}
		f.Value = v
		off += n
	case Fixed64Type:
		if len(b)-off < 8 {
			return Field{}, 0, &Error{off, fmt.Sprintf("field %d: %v", num, ErrTruncated)}
		}
		f.Value = binary.LittleEndian.Uint64(b[off:])
		off += 8
	case Fixed32Type:
		if len(b)-off < 4 {
			return Field{}, 0, &Error{off, fmt.Sprintf("field %d: %v", num, ErrTruncated)}
		}
		f.Value = uint64(binary.LittleEndian.Uint32(b[off:]))
		off += 4
	case BytesType:
		l, n := ConsumeVarint(b[off:])
		if n <= 0 {
			return Field{}, 0, &Error{off, fmt.Sprintf("field %d: bad length: %s", num, varintErr(n))}
		}
		off += n
		if l > uint64(len(b)-off) {
			return Field{}, 0, &Error{off, fmt.Sprintf("field %d: length %d exceeds the %d bytes left: %v", num, l, len(b)-off, ErrTruncated)}
		}
		f.Data = b[off : off+int(l)]
		off += int(l)
	default:
		return Field{}, 0, &Error{start, fmt.Sprintf("field %d: unsupported wire type %d", num, f.Type)}
	}
	return f, off - start, nil
}

func varintErr(n int) string {
	if n == 0 {
		return ErrTruncated.Error()
	}
	return "varint longer than 10 bytes"
}

// ConsumeVarint decodes a base-128 varint from the start of b. It returns the value and
// the number of bytes read: 0 when b ends inside the varint, -1 when it is too long.
func ConsumeVarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b); i++ {
		if i == 10 {
			return 0, -1
		}
		c := b[i]
		v |= uint64(c&0x7f) << (7 * uint(i))
		if c < 0x80 {
			return v, i + 1
		}
	}
	if len(b) >= 10 {
		return 0, -1
	}
	return 0, 0
}

// AppendVarint appends v as a base-128 varint.
func AppendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendTag appends the key of a field.
func AppendTag(b []byte, num int32, t Type) []byte {
	return AppendVarint(b, uint64(num)<<3|uint64(t))
}

// AppendField appends one field in wire format.
func AppendField(b []byte, f Field) []byte {
	b = AppendTag(b, f.Num, f.Type)
	switch f.Type {
	case VarintType:
		b = AppendVarint(b, f.Value)
	case Fixed64Type:
		b = binary.LittleEndian.AppendUint64(b, f.Value)
	case Fixed32Type:
		b = binary.LittleEndian.AppendUint32(b, uint32(f.Value))
	case BytesType:
		b = AppendVarint(b, uint64(len(f.Data)))
		b = append(b, f.Data...)
	default:
		panic(fmt.Sprintf("protowire: cannot append wire type %d", f.Type))
	}
	return b
}

// Append appends all fields in order.
func Append(b []byte, fields []Field) []byte {
	for _, f := range fields {
		b = AppendField(b, f)
	}
	return b
}

// Varint returns a varint field holding v.
func Varint(num int32, v uint64) Field { return Field{Num: num, Type: VarintType, Value: v} }

// Int32 returns a varint field holding v the way protobuf encodes int32 (negative values
// sign-extended to 64 bits).
func Int32(num int32, v int32) Field { return Varint(num, uint64(int64(v))) }

// Bool returns a varint field holding b.
func Bool(num int32, v bool) Field {
	if v {
		return Varint(num, 1)
	}
	return Varint(num, 0)
}

// Float returns a fixed32 field holding v.
func Float(num int32, v float32) Field {
	return Field{Num: num, Type: Fixed32Type, Value: uint64(math.Float32bits(v))}
}

// Bytes returns a length-delimited field holding data.
func Bytes(num int32, data []byte) Field { return Field{Num: num, Type: BytesType, Data: data} }

// String returns a length-delimited field holding s.
func String(num int32, s string) Field { return Bytes(num, []byte(s)) }

// AsInt32 interprets a varint field as int32 (truncating, as protobuf does).
func (f Field) AsInt32() int32 { return int32(f.Value) }

// AsBool interprets a varint field as bool.
func (f Field) AsBool() bool { return f.Value != 0 }

// AsFloat interprets a fixed32 field as float32.
func (f Field) AsFloat() float32 { return math.Float32frombits(uint32(f.Value)) }
