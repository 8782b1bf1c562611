package checkpoint

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// hashingWriter counts and hashes what passes through it.
type hashingWriter struct {
	w    io.Writer
	h    hash.Hash
	size int64
}

func (hw *hashingWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.size += int64(n)
	return n, err
}

// writeNewFile creates path, which must not exist, fills it through fill, and syncs
// it to disk. It returns the file's size and SHA-256. On failure the partial file is
// removed.
func writeNewFile(path string, fill func(w io.Writer) error) (fileEntry, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fileEntry{}, err
	}
	return fillFile(f, fill)
}

// fillFile writes f through fill, syncs and closes it, and returns its size and
// SHA-256; on failure it removes the file.
func fillFile(f *os.File, fill func(w io.Writer) error) (fileEntry, error) {
	path := f.Name()
	bw := bufio.NewWriterSize(f, 1<<20)
	hw := &hashingWriter{w: bw, h: sha256.New()}
	err := fill(hw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		at(stageSyncing + " " + filepath.Base(path))
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fileEntry{}, err
	}
	return fileEntry{Size: hw.size, SHA256: hex.EncodeToString(hw.h.Sum(nil))}, nil
}

// writeFileAtomic replaces path with what fill writes: the bytes go to a temporary
// file in the same directory, which is synced, renamed over path, and the directory
// synced, so that path holds either its old or its new content, never a mix, even
// after a crash.
func writeFileAtomic(path string, fill func(w io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if _, err := fillFile(f, fill); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// syncDir flushes a directory's entries (created, renamed or removed files) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
