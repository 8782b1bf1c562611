package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// LatestFile is the file of a run directory that names its latest checkpoint (the
// directory's name and a newline), replaced atomically by SaveRun.
const LatestFile = "latest"

// dirPrefix starts the name of every checkpoint directory of a run.
const dirPrefix = "ckpt-"

// ErrNoCheckpoint is returned (wrapped) by Latest and LoadLatest for a run directory
// that holds no checkpoint.
var ErrNoCheckpoint = errors.New("no checkpoint")

// DirName returns the name of the checkpoint directory of step inside a run
// directory: "ckpt-" and the step with at least 6 digits ("ckpt-000100").
func DirName(step int) string {
	if step < 0 {
		panic(fmt.Sprintf("checkpoint.DirName: negative step %d", step))
	}
	return fmt.Sprintf("%s%06d", dirPrefix, step)
}

// parseDirName returns the step of a checkpoint directory name; ok is false for any
// other name.
func parseDirName(name string) (step int, ok bool) {
	digits, found := strings.CutPrefix(name, dirPrefix)
	if !found || len(digits) < 6 || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false
	}
	step, err := strconv.Atoi(digits)
	return step, err == nil && DirName(step) == name
}

// RunCheckpoint is one checkpoint directory of a run.
type RunCheckpoint struct {
	// Step is the step in the directory's name.
	Step int
	// Dir is the directory's path (the run directory joined with its name).
	Dir string
}

// List returns the checkpoint directories of runDir (named as DirName makes them),
// oldest step first. It does not verify them. A missing runDir has none.
func List(runDir string) ([]RunCheckpoint, error) {
	entries, err := os.ReadDir(runDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []RunCheckpoint
	for _, e := range entries {
		if step, ok := parseDirName(e.Name()); ok && e.IsDir() {
			out = append(out, RunCheckpoint{Step: step, Dir: filepath.Join(runDir, e.Name())})
		}
	}
	slices.SortFunc(out, func(a, b RunCheckpoint) int { return a.Step - b.Step })
	return out, nil
}

// SaveRun saves c as runDir/DirName(c.Step) (see Save), then points runDir/latest
// at it, then prunes the run to its keep newest checkpoints (keep <= 0 keeps them
// all; see Prune). It returns the checkpoint's directory. A crash at any point leaves
// latest naming a complete checkpoint: the new one or the one before.
func SaveRun(runDir string, c *Checkpoint, keep int) (string, error) {
	if c == nil {
		panic("checkpoint.SaveRun: nil checkpoint")
	}
	if c.Step < 0 {
		return "", fmt.Errorf("checkpoint run %s: step %d is negative", runDir, c.Step)
	}
	dir := filepath.Join(runDir, DirName(c.Step))
	if err := Save(dir, c); err != nil {
		return "", err
	}
	if err := writeLatest(runDir, filepath.Base(dir)); err != nil {
		return dir, fmt.Errorf("checkpoint run %s: saved %s but could not update %s: %w", runDir, dir, LatestFile, err)
	}
	if keep > 0 {
		if err := prune(runDir, keep, dir); err != nil {
			return dir, err
		}
	}
	return dir, nil
}

// writeLatest atomically points runDir/latest at the checkpoint directory name.
func writeLatest(runDir, name string) error {
	return writeFileAtomic(filepath.Join(runDir, LatestFile), func(w io.Writer) error {
		_, err := io.WriteString(w, name+"\n")
		return err
	})
}

// maxLatestSize bounds the latest file, which holds a directory name and a newline.
const maxLatestSize = 4096

// readLatest returns the checkpoint directory name runDir/latest holds; ok is false
// when the file does not exist.
func readLatest(runDir string) (name string, ok bool, err error) {
	path := filepath.Join(runDir, LatestFile)
	b, err := readRegularFile(path, maxLatestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	name = strings.TrimSuffix(string(b), "\n")
	if _, valid := parseDirName(name); !valid {
		return "", true, fmt.Errorf("%s:1: %.40q is not a checkpoint directory name like %q: write the name of one of the run's checkpoint directories into it, or delete it to use the newest checkpoint that verifies", path, name, DirName(100))
	}
	return name, true, nil
}

// Latest returns the directory of runDir's latest checkpoint: the one runDir/latest
// names when that file exists (it must name a checkpoint directory with a manifest;
// its files are not verified here), else the newest checkpoint directory that passes
// Verify. The error wraps ErrNoCheckpoint when there is none.
func Latest(runDir string) (string, error) {
	name, ok, err := readLatest(runDir)
	if err != nil {
		return "", err
	}
	if ok {
		dir := filepath.Join(runDir, name)
		if _, err := os.Stat(filepath.Join(resolve(dir), ManifestFile)); err != nil {
			return "", fmt.Errorf("checkpoint run %s: %s names %s, which is missing or incomplete (%v)%s", runDir, LatestFile, name, err, hintNewestGood(runDir, dir))
		}
		return dir, nil
	}
	list, err := List(runDir)
	if err != nil {
		return "", err
	}
	for i := len(list) - 1; i >= 0; i-- {
		if Verify(list[i].Dir) == nil {
			return list[i].Dir, nil
		}
	}
	if len(list) > 0 {
		return "", fmt.Errorf("checkpoint run %s: %w that verifies among its %d checkpoint directories", runDir, ErrNoCheckpoint, len(list))
	}
	return "", fmt.Errorf("checkpoint run %s: %w (no %s file, no %s* directory)", runDir, ErrNoCheckpoint, LatestFile, dirPrefix)
}

// LoadLatest loads runDir's latest checkpoint (see Latest) and returns it with its
// directory. When the latest checkpoint fails verification, the error names it and,
// when there is one, the newest older checkpoint that verifies; it never falls back
// to an older checkpoint silently.
func LoadLatest(runDir string) (*Checkpoint, string, error) {
	dir, err := Latest(runDir)
	if err != nil {
		return nil, "", err
	}
	c, err := Load(dir)
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return nil, dir, fmt.Errorf("%w%s", err, hintNewestGood(runDir, dir))
		}
		return nil, dir, err
	}
	return c, dir, nil
}

// hintNewestGood names the newest checkpoint of runDir other than bad that verifies,
// as a message suffix ("" when there is none).
func hintNewestGood(runDir, bad string) string {
	list, err := List(runDir)
	if err != nil {
		return ""
	}
	for i := len(list) - 1; i >= 0; i-- {
		if filepath.Clean(list[i].Dir) != filepath.Clean(bad) && Verify(list[i].Dir) == nil {
			return fmt.Sprintf(" (the newest checkpoint that verifies is %s)", list[i].Dir)
		}
	}
	return ""
}

// Prune deletes the oldest checkpoint directories of runDir so that keep remain
// (keep must be at least 1). It never deletes the checkpoint runDir/latest names, nor
// the newest checkpoint that passes Verify, even when they are not among the keep
// newest: pruning after a failed or corrupted save keeps a good one to resume from.
func Prune(runDir string, keep int) error {
	if keep < 1 {
		return fmt.Errorf("checkpoint run %s: keep %d checkpoints: want at least 1", runDir, keep)
	}
	return prune(runDir, keep, "")
}

// prune is Prune with good, when not "", the directory of a checkpoint known to be
// good (just saved), which spares verifying the newest ones.
func prune(runDir string, keep int, good string) error {
	list, err := List(runDir)
	if err != nil {
		return err
	}
	if len(list) <= keep {
		return nil
	}
	spare := map[string]bool{}
	for _, c := range list[len(list)-keep:] {
		spare[c.Dir] = true
	}
	if name, ok, err := readLatest(runDir); err == nil && ok {
		spare[filepath.Join(runDir, name)] = true
	}
	if good != "" {
		spare[filepath.Clean(good)] = true
	}
	// The newest checkpoint that verifies, unless a known-good one at least as new
	// is spared already.
	for i := len(list) - 1; i >= 0; i-- {
		if good != "" && list[i].Dir == filepath.Clean(good) {
			break
		}
		if Verify(list[i].Dir) == nil {
			spare[list[i].Dir] = true
			break
		}
	}
	removed := false
	for _, c := range list {
		if spare[c.Dir] {
			continue
		}
		if err := os.RemoveAll(c.Dir); err != nil {
			return fmt.Errorf("checkpoint run %s: pruning %s: %w", runDir, c.Dir, err)
		}
		removed = true
	}
	if removed {
		return syncDir(runDir)
	}
	return nil
}
