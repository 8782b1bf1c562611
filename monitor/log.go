package monitor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/hypergrid-go/hypergrid/metrics"
)

// Log appends records to a metrics log, one JSON object per line. Each record goes to
// the underlying writer in a single Write call as soon as it is written (no buffering),
// so a crash loses at most the line being written. A Log is safe for concurrent use.
type Log struct {
	mu      sync.Mutex
	w       io.Writer
	file    *os.File // non-nil when the Log owns a file
	name    string
	buf     []byte
	closed  bool
	regular bool // file is a regular file (worth syncing on Close)
}

// NewLog returns a Log that writes to w. Closing it does not close w.
func NewLog(w io.Writer) *Log {
	return &Log{w: w, name: "metrics log"}
}

// OpenLog opens the metrics log at path for appending, creating it (mode 0644) if
// needed. If the file ends in a partial line (a crash during a write), that line is cut
// off first so the new records do not run into it.
func OpenLog(path string) (*Log, error) {
	if err := repairTail(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening metrics log: %w", err)
	}
	l := &Log{w: f, file: f, name: path}
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
		l.regular = true
	}
	return l, nil
}

// repairTail truncates path after its last newline when it does not end in one.
func repairTail(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening metrics log: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("opening metrics log: %w", err)
	}
	if !info.Mode().IsRegular() || info.Size() == 0 {
		return nil
	}
	// Scan backwards in blocks for the last newline.
	const block = 4096
	buf := make([]byte, block)
	end := info.Size()
	for pos := end; pos > 0; {
		n := int64(block)
		if pos < n {
			n = pos
		}
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return fmt.Errorf("reading metrics log %s: %w", path, err)
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			cut := pos + int64(i) + 1
			if cut == end {
				return nil
			}
			return truncate(f, path, cut)
		}
	}
	return truncate(f, path, 0)
}

func truncate(f *os.File, path string, size int64) error {
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("cutting the partial last line of metrics log %s: %w", path, err)
	}
	return nil
}

// Write validates r, stamps a zero Time with the current time, and appends it.
func (l *Log) Write(r Record) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("writing to %s: %w", l.name, err)
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("writing to %s: the log is closed", l.name)
	}
	l.buf = append(r.AppendJSON(l.buf[:0]), '\n')
	if _, err := l.w.Write(l.buf); err != nil {
		return fmt.Errorf("writing to %s: %w", l.name, err)
	}
	return nil
}

// Train appends a train record.
func (l *Log) Train(step int, t time.Time, loss, lr, tokensPerS float64) error {
	return l.Write(Record{Kind: KindTrain, Step: step, Time: t, Loss: loss, LR: lr, TokensPerS: tokensPerS})
}

// Eval appends one eval record per task result, all with the same step and time.
func (l *Log) Eval(step int, t time.Time, results []metrics.TaskResult) error {
	for _, res := range results {
		if err := l.Write(Record{Kind: KindEval, Step: step, Time: t, Task: res.Task, Metrics: res.Metrics}); err != nil {
			return err
		}
	}
	return nil
}

// Close syncs and closes the file opened by [OpenLog]; for a Log from [NewLog] it only
// stops further writes. Closing twice is not an error.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.file == nil {
		return nil
	}
	var serr error
	if l.regular {
		serr = l.file.Sync()
	}
	cerr := l.file.Close()
	if err := errors.Join(serr, cerr); err != nil {
		return fmt.Errorf("closing %s: %w", l.name, err)
	}
	return nil
}
