package registry

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is a configuration error about one field: Path is the field's yaml path
// relative to the configuration struct that reports it ("grid.rows", "tasks[1].name";
// "" for the struct as a whole) and Msg says what is wrong and what to do. It is the
// one field-path error of the framework: the Validate methods of components return
// it, and the recipe loader turns its path into the file:line:col of the value.
type FieldError struct {
	Path string
	Msg  string
}

// Error implements error: "grid.rows: is 7, which does not divide d_ff (1024)".
func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Field returns the yaml path of the field the error is about.
func (e *FieldError) Field() string { return e.Path }

// FieldErrorf returns a *FieldError about the field at path with a formatted message.
func FieldErrorf(path, format string, args ...any) *FieldError {
	return &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// JoinPath joins a yaml path and a key or a relative path: JoinPath("ffn", "grid.rows")
// is "ffn.grid.rows"; an empty side is left out.
func JoinPath(path, rel string) string {
	switch {
	case path == "":
		return rel
	case rel == "":
		return path
	case strings.HasPrefix(rel, "["):
		return path + rel
	}
	return path + "." + rel
}

// Prefix returns errs with prefix put in front of every field path: the errors of a
// nested configuration ("grid.rows") become errors of the enclosing one
// ("ffn.grid.rows"). errors.Join trees are flattened; an error that is not a
// *FieldError becomes one about prefix itself.
func Prefix(prefix string, errs ...error) []error {
	var out []error
	for _, e := range Flatten(errs...) {
		var fe *FieldError
		if errors.As(e, &fe) {
			out = append(out, &FieldError{Path: JoinPath(prefix, fe.Path), Msg: fe.Msg})
		} else {
			out = append(out, &FieldError{Path: prefix, Msg: e.Error()})
		}
	}
	return out
}

// Flatten returns the leaves of errs, unwrapping errors.Join trees (and any error with
// an Unwrap() []error method); nil errors are dropped.
func Flatten(errs ...error) []error {
	var out []error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			out = append(out, Flatten(j.Unwrap()...)...)
			continue
		}
		out = append(out, err)
	}
	return out
}
