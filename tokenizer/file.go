package tokenizer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// openRegular opens path for reading after checking that it is a regular file (not a
// FIFO, a device, a socket or a folder, which could block or never end) of at most
// limit bytes. what names the file in errors ("model file"). It returns the file's
// size as the check saw it.
func openRegular(path, what string, limit int64) (*os.File, int64, error) {
	// Stat before opening: opening a FIFO blocks until a writer comes.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if err := checkRegular(path, what, fi, limit); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	// The path may have been replaced in between: check what was opened.
	if fi, err = f.Stat(); err == nil {
		err = checkRegular(path, what, fi, limit)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

func checkRegular(path, what string, fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: the %s is %s, not a regular file: give the path of a file (copy a stream to a file first)", path, what, fileKind(fi.Mode()))
	}
	if fi.Size() > limit {
		return fmt.Errorf("%s: the %s is %d bytes, more than the limit of %s", path, what, fi.Size(), byteSize(limit))
	}
	return nil
}

// fileKind names the type of a file that is not regular, for error messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file"
}

// errTooLarge is returned by readAllLimited for data past its limit.
var errTooLarge = errors.New("too large")

// readAllLimited appends all of r to b, reading at most limit bytes in all; more data
// is an error naming the limit.
func readAllLimited(r io.Reader, b []byte, limit int64) ([]byte, error) {
	lr := &io.LimitedReader{R: r, N: limit + 1}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("the file grew past the limit of %s while it was read: %w", byteSize(limit), errTooLarge)
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// byteSize writes a limit in the largest binary unit that divides it ("256 MiB").
func byteSize(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
