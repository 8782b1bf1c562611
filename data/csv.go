package data

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// csvSource reads a comma-separated file with RFC 4180 quoting (encoding/csv): a
// quoted cell may hold commas, doubled quotes and line breaks. The first record is
// the header, which names the columns.
type csvSource struct {
	name    string
	r       *csv.Reader
	counter *csvCounter
	columns []string
	index   map[string]int
}

type csvRecord struct {
	src   *csvSource
	n     int
	cells []string
}

// csvCounter counts the bytes read from the file, in all (MaxFileSize) and since the
// last record (MaxLineSize: one record, quoted line breaks and all).
type csvCounter struct {
	r              io.Reader
	total, current int64
	limit, maxRec  int64
}

var (
	errCSVTooLarge  = errors.New("csv: file over the limit")
	errCSVRecordBig = errors.New("csv: record over the limit")
)

func (c *csvCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.total += int64(n)
	c.current += int64(n)
	if c.total > c.limit {
		return n, errCSVTooLarge
	}
	// The csv reader buffers ahead (4 KiB), so allow one buffer beyond the record.
	if c.current > c.maxRec+64<<10 {
		return n, errCSVRecordBig
	}
	return n, err
}

func newCSVSource(def *TaskDef, r io.Reader, name string, requireLabels bool) (*csvSource, error) {
	return newCSVSourceLimits(def, r, name, requireLabels, MaxFileSize, MaxLineSize)
}

func newCSVSourceLimits(def *TaskDef, r io.Reader, name string, requireLabels bool, limit int64, maxRec int) (*csvSource, error) {
	counter := &csvCounter{r: r, limit: limit, maxRec: int64(maxRec)}
	cr := csv.NewReader(counter)
	cr.FieldsPerRecord = -1 // counted here, with a clearer message
	src := &csvSource{name: name, r: cr, counter: counter}
	header, n, err := src.read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: file is empty: a %s CSV file starts with a header line", name, def.Name)
	}
	if err != nil {
		var rowErr *RowError
		if errors.As(err, &rowErr) {
			return nil, fmt.Errorf("%s:%d: the header line cannot be read: %s", name, rowErr.Line, rowErr.Msg)
		}
		return nil, err
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	if dup := firstDuplicate(header); dup != "" {
		return nil, &RowError{name, n, fmt.Sprintf("header names column %q twice", dup)}
	}
	src.columns = header
	src.index = make(map[string]int, len(header))
	for i, c := range header {
		src.index[c] = i
	}
	for _, col := range def.neededColumns() {
		if _, ok := src.index[col]; !ok {
			return nil, &RowError{name, n, fmt.Sprintf(
				"header has no column %q, which task %s reads (header: %s): check that the file belongs to the task, or fix the task's column names",
				col, def.Name, strings.Join(header, ", "))}
		}
	}
	if _, ok := src.index[def.Label]; requireLabels && !ok {
		return nil, &RowError{name, n, fmt.Sprintf(
			"header has no label column %q (header: %s): a training or dev file needs labels, only test files may lack them; check that this is not a test file, or fix the task's label column",
			def.Label, strings.Join(header, ", "))}
	}
	return src, nil
}

// read returns the next record's cells and its first line; a *RowError for a record
// that is not well-formed CSV or not text, another error when the file cannot be
// read on.
func (s *csvSource) read() ([]string, int, error) {
	s.counter.current = 0
	cells, err := s.r.Read()
	line := 0
	if err == nil || len(cells) > 0 {
		line, _ = s.r.FieldPos(0)
	}
	switch {
	case err == io.EOF:
		return nil, 0, io.EOF
	case errors.Is(err, errCSVTooLarge):
		return nil, 0, fmt.Errorf("%s: the file is larger than %s, the limit for a data file: use a sample of it", s.name, byteSize(s.counter.limit))
	case errors.Is(err, errCSVRecordBig):
		return nil, 0, fmt.Errorf("%s: a record is longer than %s, the limit for one row: look for a quote (\") that is never closed", s.name, byteSize(s.counter.maxRec))
	case err != nil:
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.StartLine, &RowError{s.name, pe.StartLine, fmt.Sprintf(
				"not valid CSV (line %d, column %d: %v): quote a cell that holds a comma, a quote or a line break (\"a, b\"), and double the quotes inside it (\"say \"\"hi\"\"\")", pe.Line, pe.Column, pe.Err)}
		}
		return nil, 0, fmt.Errorf("%s: %w", s.name, err)
	}
	for _, c := range cells {
		if strings.IndexByte(c, 0) >= 0 {
			return nil, line, &RowError{s.name, line, "row holds a NUL byte, which no text has: if the file is UTF-16, save it as UTF-8 (iconv -f UTF-16 -t UTF-8)"}
		}
		if !utf8.ValidString(c) {
			return nil, line, &RowError{s.name, line, "row is not valid UTF-8: save the file as UTF-8"}
		}
	}
	return cells, line, nil
}

func (s *csvSource) next() (record, error) {
	cells, n, err := s.read()
	if err != nil {
		var rowErr *RowError
		if errors.As(err, &rowErr) {
			return &csvRecord{s, n, nil}, err
		}
		return nil, err
	}
	rec := &csvRecord{s, n, cells}
	if len(cells) != len(s.columns) {
		return rec, &RowError{s.name, n, fmt.Sprintf(
			"row has %d comma-separated cells but the header has %d (%s): quote a cell that holds a comma (\"a, b\")",
			len(cells), len(s.columns), strings.Join(s.columns, ", "))}
	}
	return rec, nil
}

func (r *csvRecord) line() int { return r.n }

func (r *csvRecord) get(col string) (string, bool, error) {
	i, ok := r.src.index[col]
	if !ok {
		return "", false, nil
	}
	return r.cells[i], true, nil
}

func (r *csvRecord) missing(col string) string {
	return fmt.Sprintf("the file has no column %q", col)
}
