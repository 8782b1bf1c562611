package tokenizer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Limits of the training-text reader (ReadTrainingText, and Train's input files).
const (
	// MaxTrainingLineSize is the longest line of training text accepted, in bytes:
	// 1 MiB. Lines longer than TrainOptions.MaxSentenceLength (4192 bytes by default)
	// but within this limit are skipped, as spm_train skips them. A longer line is an
	// error: a text with one sentence per line has none, so the file is more likely
	// binary or uses CR line ends. Such a line is never held in memory whole.
	MaxTrainingLineSize = 1 << 20
	// DefaultMaxInputSize is the default of TrainOptions.MaxInputSize: at most 1 GiB
	// of training text is read from the input files, in all. A tokenizer needs far
	// less: spm_train's users sample a few million sentences.
	DefaultMaxInputSize = 1 << 30
)

// ReadTrainingText calls fn with every line of r, without its "\n", and its 1-based
// number, the way Train reads its input files: as ForEachLine does (a "\r" is kept),
// but through limits. It reads at most limit bytes; more is an error, and so is a
// line longer than MaxTrainingLineSize. name names r in errors, which read
// "name:line: what is wrong: what to do". It returns the number of bytes read, and
// stops at the first error fn returns, which it returns unchanged.
func ReadTrainingText(r io.Reader, name string, limit int64, fn func(line string, n int) error) (int64, error) {
	return readTextLines(r, name, MaxTrainingLineSize, limit, fn)
}

// readTextLines is ReadTrainingText with the line limit as a parameter (for tests).
func readTextLines(r io.Reader, name string, maxLine int, limit int64, fn func(line string, n int) error) (int64, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, max(limit, 0)+1), 64<<10)
	var (
		read int64
		n    int
		buf  []byte
	)
	for {
		buf = buf[:0]
		var err error
		for {
			var chunk []byte
			chunk, err = br.ReadSlice('\n')
			read += int64(len(chunk))
			if read > limit {
				return read, fmt.Errorf("%s:%d: the training text is larger than the limit of %s: train on a sample of it (or raise TrainOptions.MaxInputSize)", name, n+1, byteSize(limit))
			}
			buf = append(buf, chunk...)
			if len(buf) > maxLine+1 || (len(buf) == maxLine+1 && buf[maxLine] != '\n') {
				return read, lineTooLong(name, n+1, maxLine, buf)
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		if len(buf) > 0 {
			n++
			if ferr := fn(string(bytes.TrimSuffix(buf, []byte{'\n'})), n); ferr != nil {
				return read, ferr
			}
		}
		if err == io.EOF {
			return read, nil
		}
		if err != nil {
			return read, fmt.Errorf("%s:%d: %w", name, n+1, err)
		}
	}
}

// lineTooLong describes a line over the limit; start is its beginning.
func lineTooLong(name string, n, maxLine int, start []byte) error {
	hint := "training text has one sentence per line: is this a text file? Split long lines, or leave them out"
	switch {
	case bytes.IndexByte(start, '\r') >= 0:
		hint = "it holds carriage returns (CR): if the file uses CR (old Mac) line ends, convert them, e.g. tr '\\r' '\\n' < old.txt > new.txt"
	case bytes.IndexByte(start, 0) >= 0:
		hint = "it holds NUL bytes: the file is binary or UTF-16; give UTF-8 text, one sentence per line"
	}
	return fmt.Errorf("%s:%d: line is longer than %s, the limit: %s", name, n, byteSize(int64(maxLine)), hint)
}
