package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Names of the checkpoint directories inside a run's output directory, as the trainer
// writes them.
const (
	// CheckpointDir holds the run's most recent checkpoint, the one to resume from.
	CheckpointDir = "checkpoint"
	// BestDir holds the checkpoint with the best dev score seen so far.
	BestDir = "best"
)

// Resolve returns the checkpoint directory that path names. Every command that takes
// "a run's output directory or a checkpoint directory" resolves its argument with it
// (or with LoadResolved). path is, in this order:
//
//   - a checkpoint directory: it holds manifest.json, or an interrupted Save left its
//     backup ".NAME.old" next to it. The result is path.
//   - a run's output directory: it holds CheckpointDir ("checkpoint"), or that
//     directory's backup. The result is path/checkpoint, even when that directory is
//     incomplete (Load then says what is missing). The run's BestDir is never taken
//     in its stead: name path/best to use it.
//   - a run directory of SaveRun (a latest file or ckpt-* directories). The result
//     is Latest(path).
//
// Anything else is an error that wraps ErrNoCheckpoint and says what was looked for.
//
// Before it returns a directory, Resolve finishes what an interrupted Save of it left
// behind, as the next Save would: it renames the backup back into place when the
// directory is absent; when both exist, it verifies the directory (reading every
// file) and deletes the backup if it verifies, and otherwise returns the
// verification error, which names the backup to restore by hand; and it deletes the
// temporary directories (".NAME.tmp-*") of interrupted saves.
//
// Resolve changes nothing unless it holds the exclusive lock of the directory's
// parent, which it takes without waiting (see the package documentation): while
// another process saves or loads there, on a system or file system without locks, or
// when the renames fail (a read-only directory or file system: EACCES, EPERM, EROFS),
// it leaves everything as it is and still returns the directory, because Load,
// Verify and Inspect read the backup when the directory itself is absent. So a
// read-only copy of a run that was killed while saving loads as it is, and is never
// changed.
func Resolve(path string) (string, error) {
	path = filepath.Clean(path)
	if found, err := resolveTarget(path, false); found || err != nil {
		return path, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%w at %s: %w", ErrNoCheckpoint, path, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%w at %s: it is a file, not a directory", ErrNoCheckpoint, path)
	}
	inner := filepath.Join(path, CheckpointDir)
	if found, err := resolveTarget(inner, true); found || err != nil {
		return inner, err
	}
	_, hasLatest, _ := readLatest(path)
	if list, _ := List(path); hasLatest || len(list) > 0 {
		dir, err := Latest(path)
		if err != nil {
			return "", err
		}
		if _, err := resolveTarget(dir, true); err != nil {
			return "", err
		}
		return dir, nil
	}
	hint := ""
	if best := filepath.Join(path, BestDir); isCheckpointOrBackup(best) {
		hint = fmt.Sprintf(" (%s holds the run's best checkpoint: name it to use that one)", best)
	}
	return "", fmt.Errorf("%w in %s: expected %s (a run's output directory) or %s (a checkpoint directory); train with --out %s first%s",
		ErrNoCheckpoint, path, filepath.Join(inner, ManifestFile), filepath.Join(path, ManifestFile), path, hint)
}

// LoadResolved loads the checkpoint that path names, a run's output directory or a
// checkpoint directory (see Resolve), and returns it with its directory.
func LoadResolved(path string) (*Checkpoint, string, error) {
	dir, err := Resolve(path)
	if err != nil {
		return nil, "", err
	}
	c, err := Load(dir)
	if err != nil {
		return nil, dir, err
	}
	return c, dir, nil
}

// isCheckpointOrBackup reports whether dir holds a manifest or has the backup of an
// interrupted save.
func isCheckpointOrBackup(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, ManifestFile))
	_, berr := os.Lstat(backupPath(dir))
	return err == nil || berr == nil
}

// resolveTarget reports whether dir is a checkpoint directory: it holds a manifest,
// or has the backup of an interrupted save, or (with incompleteOK) is a directory at
// all. It looks under the shared lock of dir's parent, so that it never sees a Save
// between its renames; then, when an interrupted save left anything, it repairs.
func resolveTarget(dir string, incompleteOK bool) (found bool, err error) {
	unlock, _ := lockDir(filepath.Dir(dir), false, true)
	_, merr := os.Lstat(filepath.Join(dir, ManifestFile))
	st, derr := os.Stat(dir)
	_, berr := os.Lstat(backupPath(dir))
	temps := len(staleTemps(dir)) > 0
	unlock()
	found = merr == nil || berr == nil || incompleteOK && derr == nil && st.IsDir()
	if berr == nil || temps {
		err = repair(dir)
	}
	return found, err
}

// repair finishes what an interrupted Save of dir left behind (see Resolve), under
// the exclusive lock of dir's parent; it does nothing when it cannot take the lock at
// once, and leaves what it cannot rename or delete.
func repair(dir string) error {
	parent := filepath.Dir(dir)
	unlock, locked := lockDir(parent, true, false)
	if !locked {
		return nil
	}
	defer unlock()
	removeStaleTemps(dir)
	backup := backupPath(dir)
	if _, err := os.Lstat(backup); err != nil {
		return nil
	}
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		// When this fails (a read-only directory), the backup stays, and Load reads it.
		_ = restoreBackup(dir)
		return nil
	}
	if _, err := inspect(dir); err != nil {
		return fmt.Errorf("%w (an interrupted save left the checkpoint it was replacing in %s: to use that one, delete %s and rename %s to %s)",
			err, backup, dir, backup, filepath.Base(dir))
	}
	if os.RemoveAll(backup) == nil {
		_ = syncDir(parent)
	}
	return nil
}
