package tokenizer

import (
	"bufio"
	"errors"
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
// r and writes the decoded text of each as a line to w, as spm_decode does. The IDs
// are read by ParseIDs; an ID that is not an integer in [0, VocabSize()) is an error
// naming its line.
func (m *Model) DecodeLines(r io.Reader, w io.Writer, pieces bool) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	err := ForEachLine(r, func(line string, n int) error {
		var text string
		if pieces {
			text = m.DecodePieces(strings.Fields(line))
		} else {
			ids, err := ParseIDs(line, m.VocabSize())
			if err != nil {
				return fmt.Errorf("line %d: %w", n, err)
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

// ParseIDs reads a line of piece IDs separated by white space (spaces, tabs, a final
// "\r"), as "hypergrid tokenizer decode" and spm_decode --input_format=id take them,
// for a model of vocab pieces. Every ID must be a decimal integer in [0, vocab); an
// empty line gives no IDs. An error names the offending item by its 1-based position
// and says what is allowed.
func ParseIDs(line string, vocab int) ([]int, error) {
	count := 0
	for range strings.FieldsSeq(line) {
		count++
	}
	ids := make([]int, 0, count)
	for f := range strings.FieldsSeq(line) {
		item := len(ids) + 1
		id, err := strconv.Atoi(f)
		switch {
		case err != nil:
			shown := f
			if len(shown) > 40 {
				shown = shown[:40] + "..."
			}
			if errors.Is(err, strconv.ErrRange) {
				return nil, fmt.Errorf("item %d: id %s is out of range: the model has %d pieces, ids run from 0 to %d", item, shown, vocab, vocab-1)
			}
			return nil, fmt.Errorf("item %d: %q is not an id: ids are decimal integers separated by spaces (decode pieces with --pieces)", item, shown)
		case vocab <= 0:
			return nil, fmt.Errorf("item %d: id %d is out of range: the model has no pieces", item, id)
		case id < 0 || id >= vocab:
			return nil, fmt.Errorf("item %d: id %d is out of range: the model has %d pieces, ids run from 0 to %d", item, id, vocab, vocab-1)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
