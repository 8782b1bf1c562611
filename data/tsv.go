package data

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hypergrid-go/hypergrid/internal/fileio"
)

// lineReader reads lines with their 1-based numbers, without the line break ("\n" or
// "\r\n") and, on the first line, without a UTF-8 byte order mark. It reads at most
// limit bytes in all and lines of at most maxLine bytes (MaxFileSize and MaxLineSize),
// and never holds more than a line and a buffer in memory.
type lineReader struct {
	r       *bufio.Reader
	name    string
	n       int
	read    int64 // bytes read so far
	limit   int64
	maxLine int
	buf     []byte
}

func newLineReader(r io.Reader, name string) *lineReader {
	return newLineReaderLimits(r, name, MaxFileSize, MaxLineSize)
}

func newLineReaderLimits(r io.Reader, name string, limit int64, maxLine int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(io.LimitReader(r, limit+1), 64<<10), name: name, limit: limit, maxLine: maxLine}
}

// next returns the next line and its number, or io.EOF. A line that cannot be a row
// (not UTF-8, NUL bytes) is returned with a *RowError; a file that cannot be read on
// (too large, a line too long, CR line ends, UTF-16) gives another error.
func (lr *lineReader) next() (string, int, error) {
	lr.buf = lr.buf[:0]
	var err error
	for {
		var chunk []byte
		chunk, err = lr.r.ReadSlice('\n')
		lr.read += int64(len(chunk))
		if lr.read > lr.limit {
			return "", lr.n, fmt.Errorf("%s:%d: the file is larger than %s, the limit for a data file: use a sample of it", lr.name, lr.n+1, byteSize(lr.limit))
		}
		lr.buf = append(lr.buf, chunk...)
		if len(lr.buf) > lr.maxLine+2 { // room for "\r\n"
			return "", lr.n, lr.tooLong()
		}
		if err != bufio.ErrBufferFull {
			break
		}
	}
	if err != nil && err != io.EOF {
		return "", lr.n, fmt.Errorf("%s:%d: %w", lr.name, lr.n+1, err)
	}
	if err == io.EOF && len(lr.buf) == 0 {
		return "", lr.n, io.EOF
	}
	lr.n++
	b := bytes.TrimSuffix(lr.buf, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) > lr.maxLine {
		lr.n--
		return "", lr.n, lr.tooLong()
	}
	if lr.n == 1 {
		if bytes.HasPrefix(b, []byte("\xff\xfe")) || bytes.HasPrefix(b, []byte("\xfe\xff")) {
			return "", lr.n, fmt.Errorf("%s:1: the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8 < old > new", lr.name)
		}
		if bytes.IndexByte(b, '\r') >= 0 {
			return "", lr.n, lr.crLineEnds(err == io.EOF)
		}
		b = bytes.TrimPrefix(b, []byte("\ufeff"))
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return "", lr.n, &RowError{lr.name, lr.n, fmt.Sprintf(
			"line holds a NUL byte (byte %d of the line), which no text has: if the file is UTF-16, save it as UTF-8 (iconv -f UTF-16 -t UTF-8); otherwise remove the NUL bytes (tr -d '\\000')", i+1)}
	}
	s := string(b)
	if !utf8.ValidString(s) {
		return s, lr.n, &RowError{lr.name, lr.n, "line is not valid UTF-8: save the file as UTF-8"}
	}
	return s, lr.n, nil
}

// crLineEnds explains a first line that holds a carriage return: the file uses CR
// line ends (old Mac), which are not line breaks here. wholeFile tells that the file
// has no line feed at all.
func (lr *lineReader) crLineEnds(wholeFile bool) error {
	what := "the first line holds a carriage return (CR)"
	if wholeFile {
		what = "the file has carriage returns (CR) but no line feed (LF), so it reads as one line"
	}
	return fmt.Errorf("%s:1: %s: the file uses CR (old Mac) line ends, which are not line breaks here; convert them to LF, e.g. tr '\\r' '\\n' < old > new (or remove the stray CR)", lr.name, what)
}

// tooLong explains a line longer than maxLine; lr.buf holds its beginning.
func (lr *lineReader) tooLong() error {
	if lr.n == 0 && bytes.IndexByte(lr.buf, '\r') >= 0 {
		return lr.crLineEnds(true)
	}
	return fmt.Errorf("%s:%d: the line is longer than %s, the limit for one row: a data file has one row per line; check that this one is a text file of the task",
		lr.name, lr.n+1, byteSize(int64(lr.maxLine)))
}

// byteSize writes a size in the largest binary unit that divides it ("16 MiB").
func byteSize(n int64) string { return fileio.ByteSize(n) }

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

func newTSVSource(def *TaskDef, r io.Reader, name string, requireLabels bool) (*tsvSource, error) {
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
	if _, ok := src.index[def.Label]; requireLabels && !ok {
		return nil, &RowError{name, n, fmt.Sprintf(
			"header has no label column %q (header: %s): a training or dev file needs labels, only test files may lack them; check that this is not a test file, or fix the task's label column",
			def.Label, strings.Join(cells, ", "))}
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
