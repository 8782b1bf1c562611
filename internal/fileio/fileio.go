// Package fileio reads the files a user names — recipes, data files, tokenizer models,
// training text — the one careful way: a path must be a regular file (a named pipe
// would block forever, a device never end, a folder misread), checked before it is
// opened and again once open, and no more than a limit is read, so that a file too
// large, or one that grows while it is read, is refused with an error that names it
// instead of exhausting memory.
package fileio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Kind names the type of a file that is not regular, for error messages: "a folder",
// "a named pipe (FIFO)", "a character device", ...
func Kind(m fs.FileMode) string {
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

// CheckRegular refuses fi, the file at path, when it is not a regular file or holds
// more than limit bytes; what names it in the message ("data file", "recipe").
func CheckRegular(path, what string, fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: the %s is %s, not a regular file: give the path of a %s (copy a stream to a file first)", path, what, Kind(fi.Mode()), what)
	}
	if fi.Size() > limit {
		return fmt.Errorf("%s: the %s is %d bytes, more than the limit of %s: %w", path, what, fi.Size(), ByteSize(limit), ErrTooLarge)
	}
	return nil
}

// OpenRegular opens path for reading after CheckRegular passes on it, and checks the
// opened file again (the path may have been replaced in between). It returns the file
// and its size.
func OpenRegular(path, what string, limit int64) (*os.File, int64, error) {
	fi, err := os.Stat(path) // before opening: opening a FIFO blocks until a writer comes
	if err != nil {
		return nil, 0, err
	}
	if err := CheckRegular(path, what, fi, limit); err != nil {
		return nil, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	if fi, err = f.Stat(); err == nil {
		err = CheckRegular(path, what, fi, limit)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// ReadRegular reads the whole regular file at path, at most limit bytes (see
// OpenRegular and ReadAllLimited).
func ReadRegular(path, what string, limit int64) ([]byte, error) {
	f, size, err := OpenRegular(path, what, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := ReadAllLimited(f, make([]byte, 0, size), limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// ErrTooLarge is wrapped by the errors about a file or data over its limit.
var ErrTooLarge = errors.New("too large")

// ReadAllLimited appends all of r to b, reading at most limit bytes in all; more data
// is an error (wrapping ErrTooLarge) naming the limit.
func ReadAllLimited(r io.Reader, b []byte, limit int64) ([]byte, error) {
	lr := &io.LimitedReader{R: r, N: limit + 1}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("the file grew past the limit of %s while it was read: %w", ByteSize(limit), ErrTooLarge)
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// ByteSize writes a limit in the largest binary unit that divides it ("256 MiB"), else
// in bytes.
func ByteSize(n int64) string {
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
