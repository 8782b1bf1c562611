package recipe

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is where a recipe value comes from: a position in a recipe file, or a --set flag.
type Pos struct {
	// File is the recipe file's path as given (includes: joined to the including file's
	// directory). Empty for a value from a --set flag.
	File string
	// Line and Col are 1-based; 0 when unknown.
	Line, Col int
	// Set is the --set flag's argument ("model.ffn.grid.rows=16") for a value given on
	// the command line.
	Set string
}

// String formats the position as "file:line:col", "file:line", "file" or
// "--set key=value".
func (p Pos) String() string {
	switch {
	case p.Set != "":
		return "--set " + p.Set
	case p.Line > 0 && p.Col > 0:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return p.File
	}
}

// Error is one problem in a recipe: where it is, the yaml path of the value concerned
// ("model.ffn.grid.rows"; empty for the whole recipe) and what is wrong.
type Error struct {
	Pos  Pos
	Path string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if s := e.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in a recipe, in file and position order. The loader
// returns all of them together rather than stopping at the first.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d errors in recipe:", len(l))
	for _, e := range l {
		b.WriteString("\n\t")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors one by one, for errors.As and errors.Is.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sorted orders the list by source (files, then --set flags), line, column and path.
// Every problem is found once, so nothing is dropped: a repeat would be a bug.
func (l ErrorList) sorted() ErrorList {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(boolInt(a.Pos.Set != ""), boolInt(b.Pos.Set != "")),
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Set, b.Pos.Set),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	return l
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
