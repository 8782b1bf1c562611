package plots

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot/vg/vgimg"
)

// writePNG encodes the canvas as PNG to path atomically: it writes a temporary file in
// the same directory, syncs it and renames it over path. First it deletes the stale
// temporary files of earlier writes of path (see removeStaleTemps).
func writePNG(path string, c *vgimg.Canvas) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	removeStaleTemps(dir, base, time.Now())
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	w := bufio.NewWriter(tmp)
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(w); err != nil {
		return err
	}
	if err := errors.Join(w.Flush(), tmp.Chmod(0o644), tmp.Sync()); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// staleTempAge is how long ago a temporary file of a write of the same image must
// have been last modified for removeStaleTemps to delete it. A write takes well under
// a second, so an older file belongs to a write that was killed before its rename; a
// younger one may belong to a write still running in another process (a plot command
// run while training plots the same run), whose rename must not fail.
const staleTempAge = time.Minute

// removeStaleTemps deletes, in dir, the temporary files that earlier writes of the
// image base left when killed before their rename: regular files named as writePNG
// names them, ".BASE.DIGITS.tmp", last modified over staleTempAge before now. It
// leaves every other file, those of other images included, and ignores errors: the
// write goes on regardless.
func removeStaleTemps(dir, base string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		mid, ok := strings.CutPrefix(e.Name(), "."+base+".")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if mid, ok = strings.CutSuffix(mid, ".tmp"); !ok || mid == "" || strings.Trim(mid, "0123456789") != "" {
			continue
		}
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > staleTempAge {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
