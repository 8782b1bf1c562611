package monitor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxLineBytes bounds one line of a metrics log; records are a few hundred bytes.
const maxLineBytes = 1 << 20

// LineError is a malformed line in a metrics log.
type LineError struct {
	File string // the name given to Read, or the path given to ReadFile
	Line int    // 1-based line number
	Err  error  // what is wrong with the line
}

// Error implements error.
func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %v (each line must be one record as written by monitor.Log; fix or delete this line)", e.File, e.Line, e.Err)
}

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// ReadFile reads the metrics log at path; see [Read].
func ReadFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading metrics log: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read parses a metrics log, naming it name in errors. Blank lines are skipped. A last
// line that does not end in a newline and does not parse is the trace of a crash in
// the middle of a write and is dropped; any other malformed line is a [*LineError].
func Read(r io.Reader, name string) ([]Record, error) {
	br := bufio.NewReader(r)
	var records []Record
	for lineNo := 1; ; lineNo++ {
		line, complete, err := readLine(br)
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				return records, &LineError{File: name, Line: lineNo, Err: err}
			}
			return records, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		if line == nil {
			return records, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, perr := ParseRecord(line)
		if perr != nil {
			if !complete {
				return records, nil // a write cut short by a crash
			}
			return records, &LineError{File: name, Line: lineNo, Err: perr}
		}
		records = append(records, rec)
	}
}

var errLineTooLong = fmt.Errorf("line longer than %d bytes (not a metrics log?)", maxLineBytes)

// readLine returns the next line without its newline and whether a newline ended it;
// a nil line means the end of the input.
func readLine(br *bufio.Reader) (line []byte, complete bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > maxLineBytes+1 {
			return nil, false, errLineTooLong
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line[:len(line)-1], true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(line) == 0 {
				return nil, false, nil
			}
			return line, false, nil
		default:
			return nil, false, err
		}
	}
}
