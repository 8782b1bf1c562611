package tokenizer

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ForEachLine calls fn with every line of r, without its "\n", and its 1-based number,
// the way spm_encode reads its input (a "\r" is kept; the normalizer treats it as
// space). It stops at the first error fn returns.
func ForEachLine(r io.Reader, fn func(line string, n int) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	n := 0
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			n++
			if ferr := fn(strings.TrimSuffix(line, "\n"), n); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// EncodeLines encodes every line of r and writes one line per input line to w:
// space-separated IDs, or pieces when pieces is true, byte for byte as
// spm_encode --output_format=id|piece writes them.
func (m *Model) EncodeLines(r io.Reader, w io.Writer, pieces bool) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var buf []byte
	err := ForEachLine(r, func(line string, _ int) error {
		buf = buf[:0]
		if pieces {
			buf = append(buf, strings.Join(m.EncodePieces(line), " ")...)
		} else {
			for i, id := range m.Encode(line) {
				if i > 0 {
					buf = append(buf, ' ')
				}
				buf = strconv.AppendInt(buf, int64(id), 10)
			}
		}
		buf = append(buf, '\n')
		_, err := bw.Write(buf)
		return err
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// DecodeLines reads lines of space-separated IDs (or pieces when pieces is true) from
// r and writes the decoded text of each as a line to w, as spm_decode does. An ID that
// is not an integer in [0, VocabSize()) is an error naming its line.
func (m *Model) DecodeLines(r io.Reader, w io.Writer, pieces bool) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	err := ForEachLine(r, func(line string, n int) error {
		fields := strings.Fields(line)
		var text string
		if pieces {
			text = m.DecodePieces(fields)
		} else {
			ids := make([]int, len(fields))
			for i, f := range fields {
				id, err := strconv.Atoi(f)
				if err != nil || id < 0 || id >= m.VocabSize() {
					return fmt.Errorf("line %d: invalid id %q: want an integer in [0, %d)", n, f, m.VocabSize())
				}
				ids[i] = id
			}
			text = m.Decode(ids)
		}
		_, err := bw.WriteString(text + "\n")
		return err
	})
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}
