package data

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// lineReader reads lines of any length, with their 1-based numbers, without the line
// break ("\n" or "\r\n") and, on the first line, without a UTF-8 byte order mark.
type lineReader struct {
	r    *bufio.Reader
	name string
	n    int
}

func newLineReader(r io.Reader, name string) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), name: name}
}

// next returns the next line and its number, or io.EOF. A line that is not valid
// UTF-8 is returned with a *RowError.
func (lr *lineReader) next() (string, int, error) {
	s, err := lr.r.ReadString('\n')
	if err != nil && err != io.EOF {
		return "", lr.n, fmt.Errorf("%s:%d: %w", lr.name, lr.n+1, err)
	}
	if err == io.EOF && s == "" {
		return "", lr.n, io.EOF
	}
	lr.n++
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	if lr.n == 1 {
		s = strings.TrimPrefix(s, "\ufeff")
	}
	if !utf8.ValidString(s) {
		return s, lr.n, &RowError{lr.name, lr.n, "line is not valid UTF-8: save the file as UTF-8"}
	}
	return s, lr.n, nil
}

// tsvSource reads a GLUE-style TSV file: cells split on tabs, no quoting.
type tsvSource struct {
	lines   *lineReader
	columns []string       // column names
	index   map[string]int // column name -> cell index
	fromHdr bool           // columns came from the file's header line
	pending *tsvRecord     // first data row, read while looking for a header
}

type tsvRecord struct {
	src   *tsvSource
	n     int
	cells []string
}

func newTSVSource(def *TaskDef, r io.Reader, name string) (*tsvSource, error) {
	src := &tsvSource{lines: newLineReader(r, name)}
	needed := def.neededColumns()
	mode := def.TSV.Header
	if mode == "" {
		mode = HeaderPresent
	}
	if mode == HeaderAbsent {
		src.setColumns(def.TSV.Columns, false)
		return src, nil
	}
	first, n, err := src.lines.next()
	if err == io.EOF {
		if mode == HeaderPresent {
			return nil, fmt.Errorf("%s: file is empty: a %s file starts with a header line", name, def.Name)
		}
		src.setColumns(def.TSV.Columns, false)
		return src, nil
	}
	if err != nil {
		return nil, err // a header that is not UTF-8 is fatal: no row can be read
	}
	cells := strings.Split(first, "\t")
	if mode == HeaderAuto && !containsAll(cells, needed) {
		src.setColumns(def.TSV.Columns, false)
		src.pending = &tsvRecord{src, n, cells}
		return src, nil
	}
	if dup := firstDuplicate(cells); dup != "" {
		return nil, &RowError{name, n, fmt.Sprintf("header names column %q twice", dup)}
	}
	src.setColumns(cells, true)
	for _, col := range needed {
		if _, ok := src.index[col]; !ok {
			return nil, &RowError{name, n, fmt.Sprintf(
				"header has no column %q, which task %s reads (header: %s): check that the file belongs to the task, or fix the task's column names",
				col, def.Name, strings.Join(cells, ", "))}
		}
	}
	return src, nil
}

func (s *tsvSource) setColumns(cols []string, fromHeader bool) {
	s.columns = cols
	s.fromHdr = fromHeader
	s.index = make(map[string]int, len(cols))
	for i, c := range cols {
		s.index[c] = i
	}
}

func (s *tsvSource) next() (record, error) {
	if p := s.pending; p != nil {
		s.pending = nil
		return p, p.check()
	}
	line, n, err := s.lines.next()
	if err != nil {
		return nil, err
	}
	rec := &tsvRecord{s, n, strings.Split(line, "\t")}
	return rec, rec.check()
}

// check reports a row whose number of cells differs from the number of columns.
func (r *tsvRecord) check() error {
	if len(r.cells) == len(r.src.columns) {
		return nil
	}
	if len(r.cells) == 1 && r.cells[0] == "" {
		return &RowError{r.src.lines.name, r.n, "empty line: remove it"}
	}
	where := "the header has"
	if !r.src.fromHdr {
		where = "the task's tsv.columns has"
	}
	return &RowError{r.src.lines.name, r.n, fmt.Sprintf(
		"row has %d tab-separated cells but %s %d (%s): look for a tab inside a text or a cut line",
		len(r.cells), where, len(r.src.columns), strings.Join(r.src.columns, ", "))}
}

func (r *tsvRecord) line() int { return r.n }

func (r *tsvRecord) get(col string) (string, bool, error) {
	i, ok := r.src.index[col]
	if !ok {
		return "", false, nil
	}
	return r.cells[i], true, nil
}

func (r *tsvRecord) missing(col string) string {
	return fmt.Sprintf("the file has no column %q", col)
}

// neededColumns lists the columns every row must have: the input and extra fields
// and the id. The label may be missing (test splits).
func (d *TaskDef) neededColumns() []string {
	var cols []string
	for _, f := range slices.Concat(d.Inputs, d.Extra) {
		cols = append(cols, f.Source())
	}
	if d.ID != "" {
		cols = append(cols, d.ID)
	}
	return cols
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
