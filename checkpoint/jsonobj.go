package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// member is one name/value pair of a JSON object, in document order.
type member struct {
	name   string
	value  json.RawMessage
	offset int64 // byte offset of the name in the parsed text
	valOff int64 // byte offset of the value
}

// jsonError is a problem found at a byte offset of a JSON text.
type jsonError struct {
	offset int64
	msg    string
}

func (e *jsonError) Error() string { return e.msg }

// objectMembers parses b as exactly one JSON object and returns its members in
// document order. Unlike encoding/json it rejects a name that appears twice, and it
// rejects anything but whitespace after the object. base is added to the offsets it
// reports (the offset of b inside a larger text).
func objectMembers(b []byte, base int64) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	at := func(off int64, format string, args ...any) error {
		return &jsonError{offset: base + off, msg: fmt.Sprintf(format, args...)}
	}
	wrap := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return &jsonError{offset: base + se.Offset, msg: se.Error()}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return at(int64(len(b)), "unexpected end of the JSON text")
		}
		return at(dec.InputOffset(), "%v", err)
	}
	start := skipSpace(b, 0)
	tok, err := dec.Token()
	if err != nil {
		return nil, wrap(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, at(start, "want a JSON object ({...}), found %s", describeToken(tok))
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		off := skipToKey(b, dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, wrap(err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, at(off, "want an object key, found %s", describeToken(tok))
		}
		if seen[name] {
			return nil, at(off, "key %q appears twice", name)
		}
		seen[name] = true
		valOff := skipSpace(b, dec.InputOffset())
		if valOff < int64(len(b)) && b[valOff] == ':' {
			valOff = skipSpace(b, valOff+1)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, wrap(err)
		}
		out = append(out, member{name: name, value: raw, offset: base + off, valOff: base + valOff})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, wrap(err)
	}
	if end := skipSpace(b, dec.InputOffset()); end != int64(len(b)) {
		return nil, at(end, "text after the JSON object")
	}
	return out, nil
}

// skipSpace returns the offset of the first byte at or after off that is not JSON
// whitespace.
func skipSpace(b []byte, off int64) int64 {
	for off < int64(len(b)) && (b[off] == ' ' || b[off] == '\t' || b[off] == '\r' || b[off] == '\n') {
		off++
	}
	return off
}

// skipToKey is skipSpace that also skips the comma between two members, so that a
// member's offset points at its name.
func skipToKey(b []byte, off int64) int64 {
	off = skipSpace(b, off)
	if off < int64(len(b)) && b[off] == ',' {
		off = skipSpace(b, off+1)
	}
	return off
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(v))
	case string:
		return fmt.Sprintf("the string %q", v)
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%v", v)
	}
}

// lineCol converts a byte offset of b into a 1-based line and column.
func lineCol(b []byte, off int64) (line, col int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	line = 1 + bytes.Count(b[:off], []byte{'\n'})
	col = int(off) - (bytes.LastIndexByte(b[:off], '\n') + 1) + 1
	return line, col
}

// jsonPos returns the byte offset an encoding/json or objectMembers error points at,
// and whether it has one.
func jsonPos(err error) (int64, bool) {
	var je *jsonError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &je):
		return je.offset, true
	case errors.As(err, &se):
		return se.Offset, true
	case errors.As(err, &te):
		return te.Offset, true
	}
	return 0, false
}

// decodeStrict decodes one JSON value into v, rejecting unknown fields and trailing
// text. base is the offset of raw in the enclosing text, for error positions.
func decodeStrict(raw []byte, base int64, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return &jsonError{offset: base + se.Offset, msg: se.Error()}
		case errors.As(err, &te):
			// te.Offset points after the value; the value's start reads better.
			if te.Field != "" {
				return &jsonError{offset: base, msg: fmt.Sprintf("%s: want %s, found %s", te.Field, te.Type, te.Value)}
			}
			return &jsonError{offset: base, msg: fmt.Sprintf("want %s, found %s", te.Type, te.Value)}
		}
		return &jsonError{offset: base, msg: err.Error()}
	}
	if end := skipSpace(raw, dec.InputOffset()); end != int64(len(raw)) {
		return &jsonError{offset: base + end, msg: "text after the JSON value"}
	}
	return nil
}
