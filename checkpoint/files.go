package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// irregularError reports a path that is not a regular file this package may read.
type irregularError struct {
	// problem says what the path is instead ("is a named pipe (FIFO), not a regular file").
	problem string
}

func (e *irregularError) Error() string { return e.problem }

// describeMode names the kind of a file that is not a regular file.
func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeDir != 0:
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	default:
		return "not a regular file (mode " + m.String() + ")"
	}
}

func notRegular(m fs.FileMode) error {
	d := describeMode(m)
	if d[0] == 'n' { // "not a regular file (mode ...)"
		return &irregularError{problem: "is " + d}
	}
	return &irregularError{problem: "is " + d + ", not a regular file"}
}

// openRegular opens path for reading when it is a regular file, and returns the file
// with its size. It checks with Lstat before opening anything, so that a named pipe,
// a device or a directory is refused instead of blocking or misreading, then opens
// with O_NONBLOCK and O_NOFOLLOW (where the system has them) and checks the opened
// file again, which catches a file swapped in between.
//
// With within == "" a symbolic link is followed (a path the user named). Otherwise
// path is a file of the directory within, and a symbolic link is followed only when
// it leads to a regular file of that same directory; one that leads elsewhere, or
// nowhere, is refused.
//
// A missing path gives an error that wraps fs.ErrNotExist; a path that is not a
// regular file gives an *irregularError.
func openRegular(path, within string) (*os.File, int64, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, 0, err
	}
	open := path
	if st.Mode()&fs.ModeSymlink != 0 {
		link, _ := os.Readlink(path)
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return nil, 0, &irregularError{problem: fmt.Sprintf("is a symbolic link to %s, which cannot be followed (%v)", link, unwrapPath(err))}
		}
		if within != "" {
			realDir, err := filepath.EvalSymlinks(within)
			if err != nil {
				return nil, 0, err
			}
			if filepath.Dir(target) != realDir {
				return nil, 0, &irregularError{problem: fmt.Sprintf("is a symbolic link to %s, outside the checkpoint directory; a checkpoint holds its own files", link)}
			}
		}
		if st, err = os.Lstat(target); err != nil {
			return nil, 0, err
		}
		open = target
	}
	if !st.Mode().IsRegular() {
		return nil, 0, notRegular(st.Mode())
	}
	f, err := os.OpenFile(open, os.O_RDONLY|openNonblock|openNoFollow, 0)
	if err != nil {
		return nil, 0, err
	}
	if st, err = f.Stat(); err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, notRegular(st.Mode())
	}
	return f, st.Size(), nil
}

// unwrapPath drops the operation and path of a *fs.PathError, for messages that name
// the path already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// errTooLarge is returned by readLimited for a file over its limit.
var errTooLarge = errors.New("too large")

// readLimited reads all of f, whose size at opening was size, refusing more than
// limit bytes: a file that is, or grows while being read, over limit gives an error
// wrapping errTooLarge. It reads through a limit, so a file that keeps growing cannot
// make it read or allocate more than limit+1 bytes.
func readLimited(f *os.File, size, limit int64) ([]byte, error) {
	if size > limit {
		return nil, fmt.Errorf("%w: %d bytes, over the %d-byte limit", errTooLarge, size, limit)
	}
	b := make([]byte, 0, size+1)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, fmt.Errorf("%w: over the %d-byte limit (it grew while being read)", errTooLarge, limit)
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow: the file is larger than it was
		}
	}
}

// openRegularFile is openRegular for a file named on its own: a file that is not
// regular is reported with its path.
func openRegularFile(path string) (*os.File, int64, error) {
	f, size, err := openRegular(path, "")
	if err != nil {
		var ie *irregularError
		if errors.As(err, &ie) {
			return nil, 0, fmt.Errorf("%s %s", path, ie.problem)
		}
		return nil, 0, err
	}
	return f, size, nil
}

// readRegularFile reads the file path (a symbolic link is followed) when it is a
// regular file of at most limit bytes (limit < 0: its size when opened, so that a
// file growing while being read is refused); see openRegular and readLimited.
func readRegularFile(path string, limit int64) ([]byte, error) {
	f, size, err := openRegularFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if limit < 0 {
		limit = size
	}
	b, err := readLimited(f, size, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}
