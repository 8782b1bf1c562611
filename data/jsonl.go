package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// jsonlSource reads one JSON object per line (the SuperGLUE layout).
type jsonlSource struct {
	lines *lineReader
}

type jsonlRecord struct {
	name string
	n    int
	obj  map[string]any
}

func newJSONLSource(r io.Reader, name string) *jsonlSource {
	return &jsonlSource{lines: newLineReader(r, name)}
}

func (s *jsonlSource) next() (record, error) {
	line, n, err := s.lines.next()
	if err != nil {
		return nil, err
	}
	rec := &jsonlRecord{name: s.lines.name, n: n}
	if strings.TrimSpace(line) == "" {
		return rec, &RowError{rec.name, n, "empty line: remove it"}
	}
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return rec, &RowError{rec.name, n, "invalid JSON: " + jsonErrorText(err)}
	}
	if dec.More() || dec.InputOffset() != int64(len(bytes.TrimRight([]byte(line), " \t\r"))) {
		return rec, &RowError{rec.name, n, "text after the JSON object: put one object per line"}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return rec, &RowError{rec.name, n, fmt.Sprintf("line holds a JSON %s, not an object: put one object per line", jsonKind(v))}
	}
	rec.obj = obj
	return rec, nil
}

func (r *jsonlRecord) line() int { return r.n }

// get follows a dot-separated key path ("target.span1_text") through nested objects.
func (r *jsonlRecord) get(path string) (string, bool, error) {
	var cur any = r.obj
	for key := range strings.SplitSeq(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return "", false, &RowError{r.name, r.n, fmt.Sprintf("key path %q: %q is inside a JSON %s, not an object", path, key, jsonKind(cur))}
		}
		if cur, ok = obj[key]; !ok {
			return "", false, nil
		}
	}
	switch v := cur.(type) {
	case nil:
		return "", false, nil
	case string:
		if strings.IndexByte(v, 0) >= 0 {
			return "", false, &RowError{r.name, r.n, fmt.Sprintf("key %q holds a NUL character (\\u0000), which no text has: remove it", path)}
		}
		return v, true, nil
	case json.Number:
		return v.String(), true, nil
	case bool:
		if v {
			return "true", true, nil
		}
		return "false", true, nil
	default:
		return "", false, &RowError{r.name, r.n, fmt.Sprintf("key %q holds a JSON %s, not a string, number or boolean", path, jsonKind(cur))}
	}
}

func (r *jsonlRecord) missing(col string) string {
	return fmt.Sprintf("the object has no key %q (or it is null)", col)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

// jsonErrorText drops the "json: " prefix some decoder errors carry.
func jsonErrorText(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}
