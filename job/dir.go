package job

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hypergrid-go/hypergrid/checkpoint"
)

// LatestLink is the name of the link, in the folder of a program's runs, to the newest
// run made by NewDir ("runs/latest").
const LatestLink = "latest"

// NewDir makes a new run folder under base named after now (runs/20261202-154912,
// with -2, -3, ... when taken) and points base/latest at it. It returns the folder. A
// latest link that cannot be made (a file system without symbolic links) is reported
// in warn and the run goes on.
func NewDir(base string, now time.Time) (dir string, warn error, err error) {
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", nil, err
	}
	name := now.Format("20060102-150405")
	for i := 1; ; i++ {
		n := name
		if i > 1 {
			n = fmt.Sprintf("%s-%d", name, i)
		}
		dir = filepath.Join(base, n)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			name = n
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", nil, err
		}
	}
	return dir, pointLatest(base, name), nil
}

// pointLatest replaces base/latest by a link to name, atomically.
func pointLatest(base, name string) error {
	link := filepath.Join(base, LatestLink)
	if st, err := os.Lstat(link); err == nil && st.Mode()&fs.ModeSymlink == 0 {
		return fmt.Errorf("%s is not a link (an output folder of an older version?); leaving it alone: the new run is %s", link, filepath.Join(base, name))
	}
	tmp := filepath.Join(base, "."+LatestLink+".tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(name, tmp); err != nil {
		return fmt.Errorf("cannot link %s to the new run: %v", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("cannot link %s to the new run: %v", link, err)
	}
	return nil
}

// Outputs are the files and folders a run writes into its output folder: what --force
// removes. (The glob patterns match the plots and interrupted writes.)
var Outputs = []string{checkpoint.CheckpointDir, checkpoint.BestDir, ".checkpoint.*", ".best.*",
	"metrics.jsonl", "tokenizer.model", "*.png", ".*.png.*.tmp", GatesFile, GatesFile + ".tmp"}

// ErrOutExists is returned (wrapped) by CheckOut for an output folder that holds a run.
var ErrOutExists = errors.New("the output folder holds a run")

// CheckOut checks that dir can receive a new run: it must be absent, empty, or hold
// nothing of a run. With force, a run's outputs in it are deleted first (nothing else
// is touched).
func CheckOut(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var found []string
	for _, e := range entries {
		for _, pat := range Outputs {
			if ok, _ := filepath.Match(pat, e.Name()); ok {
				found = append(found, e.Name())
				break
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("%w: %s has %s; continue it with --resume, start over with --force (deletes them), or choose another --out", ErrOutExists, dir, strings.Join(found, ", "))
	}
	for _, name := range found {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}
