// Package checkpoint saves and loads training checkpoints safely.
//
// A checkpoint is a directory:
//
//	model.safetensors      the model's parameters (safetensors, F32)
//	optimizer.safetensors  the optimizer's per-parameter state (safetensors, F32)
//	<name>                 any extra files the caller stores verbatim (e.g. tokenizer.model)
//	manifest.json          format version, step, the size and SHA-256 of every file above,
//	                       named JSON state sections (recipe, optimizer scalars, sampler
//	                       position, RNG state, ...: opaque to this package), free-form
//	                       metadata, and the manifest's own SHA-256
//
// # Atomic, durable writes
//
// Save writes every file into a fresh temporary directory next to the target
// (".<name>.tmp-XXXX"), fsyncs each file and the directory, and only then renames the
// directory into place and fsyncs the parent. So a checkpoint directory is either
// complete or absent: a crash or a full disk leaves at most a stale temporary
// directory, which the next Save to the same target removes.
//
// Saving over an existing checkpoint renames the old one to ".<name>.old" first, moves
// the new one in, and deletes the old one last. A crash between the two renames leaves
// the old checkpoint under the backup name: Load, Verify and Inspect read it from there
// when the target is absent, and the next Save, or Resolve, restores it. At no moment
// is neither the old nor the new checkpoint loadable.
//
// # Finding a checkpoint
//
// Resolve turns what a user names, a checkpoint directory or a run's output directory
// (which holds CheckpointDir, "checkpoint", and BestDir, "best"), into the checkpoint
// directory to load, and finishes what a killed Save left behind there exactly as the
// next Save would, so that "inspect RUN", "eval RUN" and "predict RUN" work after a
// crash like resuming does. LoadResolved is Resolve and Load in one call. Resolve only
// repairs when it can lock and write; on a read-only copy it changes nothing and Load
// reads the backup.
//
// # Concurrent saves and loads
//
// Save takes an exclusive advisory lock (flock(2)) on the checkpoint's parent
// directory for its whole duration, Load, Verify and Inspect a shared one, and
// Resolve takes the exclusive one only if it is free at once. So a reader never sees
// a checkpoint between Save's renames or half-deleted, a Save waits for the readers
// of its parent directory (and they for it), and Resolve never renames or deletes
// anything a running Save is using, in this process or another. The kernel releases
// the lock of a process that dies. Where flock is unavailable (Windows, some network
// file systems), nothing is locked: one process saves a given checkpoint directory at
// a time, readers may see a save in progress fail, and Resolve only reads.
//
// # Verification
//
// Load checks every file against the manifest (size, then SHA-256) and the manifest
// against its own checksum before it decodes anything, then decodes the safetensors
// files with a reader that checks every offset. A corrupted, truncated, missing or
// edited file is reported as a *CorruptError naming the checkpoint, the file and what
// differs, and nothing is loaded.
//
// Only regular files are read. Each file is checked with Lstat before it is opened:
// a named pipe (which would block the reader forever), a device, a socket, a
// directory, or a symbolic link that leads out of the checkpoint directory is refused
// with a *CorruptError naming it (a link to a regular file of the same directory is
// followed). Files are opened with O_NONBLOCK and checked again once open, and read
// through a limit one byte past the size the manifest records, so a file that grows
// while being read is noticed; manifest.json itself is refused over MaxManifestSize.
// Decoding does not reject NaN or infinite values; Tensor.CheckFinite does.
//
// # Runs
//
// SaveRun, Latest, LoadLatest and Prune manage a run directory holding one checkpoint
// per saved step (run/ckpt-000100, run/ckpt-000200, ...) and a "latest" file naming
// the newest one, replaced atomically.
package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Names of the files every checkpoint directory holds.
const (
	ManifestFile  = "manifest.json"
	ModelFile     = "model.safetensors"
	OptimizerFile = "optimizer.safetensors"
)

// Checkpoint is what a checkpoint holds. Callers add named tensors to Model and
// Optimizer, named JSON sections to State and named files to Files.
type Checkpoint struct {
	// Step is the number of optimizer steps done.
	Step int
	// Model holds the model's parameters, stored in model.safetensors in this order.
	Model []Tensor
	// Optimizer holds the optimizer's per-parameter state (e.g. AdamW's moments),
	// stored in optimizer.safetensors in this order.
	Optimizer []Tensor
	// State holds named JSON sections, kept in the manifest: the recipe, the
	// optimizer's scalars, the data sampler's position, RNG state, ... Each value
	// must be valid JSON; this package does not interpret it.
	State map[string]json.RawMessage
	// Files holds extra files stored verbatim next to the weights, by file name
	// (e.g. "tokenizer.model"); each is listed with its size and SHA-256 in the
	// manifest. Names are plain file names, not starting with "." and other than
	// the three reserved ones.
	Files map[string][]byte
	// Metadata holds free-form strings kept in the manifest (a description, the
	// program's version, ...).
	Metadata map[string]string
}

// SetState stores v, encoded as JSON, as the state section name.
func (c *Checkpoint) SetState(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("checkpoint state %q: %w", name, err)
	}
	if c.State == nil {
		c.State = map[string]json.RawMessage{}
	}
	c.State[name] = b
	return nil
}

// GetState decodes the state section name into v. It is an error when the section
// is missing or does not decode into v.
func (c *Checkpoint) GetState(name string, v any) error {
	raw, ok := c.State[name]
	if !ok {
		return fmt.Errorf("checkpoint has no state section %q (it has %s)", name, listOrNone(sortedKeys(c.State)))
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("checkpoint state section %q: %w", name, err)
	}
	return nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// ErrCorrupt is matched (errors.Is) by every *CorruptError.
var ErrCorrupt = errors.New("checkpoint is corrupted or incomplete")

// CorruptError reports a checkpoint that exists but fails verification.
type CorruptError struct {
	// Dir is the checkpoint directory.
	Dir string
	// File is the file inside Dir that is wrong ("" for the directory itself).
	File string
	// Line and Col locate the problem inside File when known (1-based; 0: unknown).
	Line, Col int
	// Problem says what differs.
	Problem string
}

// Error returns "checkpoint DIR: FILE[:LINE:COL]: PROBLEM; restore it or resume from
// an earlier checkpoint".
func (e *CorruptError) Error() string {
	where := "checkpoint " + e.Dir + ": "
	if e.File != "" {
		where += e.File
		if e.Line > 0 {
			where += fmt.Sprintf(":%d:%d", e.Line, e.Col)
		}
		where += ": "
	}
	return where + e.Problem + "; restore it or resume from an earlier checkpoint"
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// backupPath is where Save keeps the checkpoint it replaces until the new one is in place.
func backupPath(dir string) string {
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".old")
}

// tempPrefix starts the names of Save's temporary directories for dir.
func tempPrefix(dir string) string { return "." + filepath.Base(dir) + ".tmp-" }

// Save writes c as the checkpoint directory dir, atomically and durably (see the
// package documentation). An existing checkpoint at dir is replaced once the new one
// is complete; an existing directory that is not a checkpoint (it has files but no
// manifest.json) is an error and is left alone.
func Save(dir string, c *Checkpoint) error {
	if c == nil {
		panic("checkpoint.Save: nil checkpoint")
	}
	dir = filepath.Clean(dir)
	if err := validate(c); err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	unlock, _ := lockDir(parent, true, true)
	defer unlock()
	if err := recoverInterrupted(dir); err != nil {
		return fmt.Errorf("checkpoint %s: recovering from an interrupted save: %w", dir, err)
	}
	removeStaleTemps(dir)
	exists, err := checkReplaceable(dir)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, tempPrefix(dir))
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	at(stageTempMade)
	if err := writeContents(tmp, c); err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if crashed(stageWritten, &done) {
		return errSimulatedCrash
	}
	backup := backupPath(dir)
	if exists {
		if err := os.Rename(dir, backup); err != nil {
			return fmt.Errorf("checkpoint %s: moving the old checkpoint aside: %w", dir, err)
		}
		if crashed(stageOldMoved, &done) {
			return errSimulatedCrash
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if exists {
			_ = os.Rename(backup, dir)
		}
		return fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	done = true
	if err := syncDir(parent); err != nil {
		return err
	}
	if crashed(stageNewMoved, &done) {
		return errSimulatedCrash
	}
	if exists {
		if err := os.RemoveAll(backup); err != nil {
			return fmt.Errorf("checkpoint %s: saved, but removing the old one: %w", dir, err)
		}
	}
	return nil
}

// Stages of Save at which tests simulate a crash (crashAt) or watch it (testHook).
const (
	stageTempMade = "temp-made" // the temporary directory exists, empty
	stageSyncing  = "syncing"   // a file is written, not yet fsynced (the hook gets "syncing NAME")
	stageWritten  = "written"   // the new checkpoint is complete under its temporary name
	stageOldMoved = "old-moved" // the old checkpoint is under its backup name
	stageNewMoved = "new-moved" // the new checkpoint is in place, the backup not yet deleted
)

// crashAt, set by tests only, makes Save stop at that stage as if the process died
// there: it returns errSimulatedCrash and cleans nothing up.
var crashAt string

// testHook, set by tests only, is called when Save reaches each stage; tests use it
// to trace a Save and to widen the windows between its steps.
var testHook func(stage string)

// at calls testHook, if a test set it.
func at(stage string) {
	if testHook != nil {
		testHook(stage)
	}
}

var errSimulatedCrash = errors.New("simulated crash")

// crashed reports whether a test asked Save to stop at stage; it then marks the
// temporary directory as not to be removed.
func crashed(stage string, done *bool) bool {
	at(stage)
	if crashAt != stage {
		return false
	}
	*done = true
	return true
}

// validate checks what Save would otherwise only find half-way through writing.
func validate(c *Checkpoint) error {
	if c.Step < 0 {
		return fmt.Errorf("step %d is negative", c.Step)
	}
	if _, _, err := safetensorsHeader(c.Model, nil); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	if _, _, err := safetensorsHeader(c.Optimizer, nil); err != nil {
		return fmt.Errorf("optimizer: %w", err)
	}
	for name := range c.Files {
		if name == ManifestFile || name == ModelFile || name == OptimizerFile {
			return fmt.Errorf("extra file name %q is reserved", name)
		}
		if err := checkFileName(name); err != nil {
			return fmt.Errorf("extra files: %w", err)
		}
	}
	for name, raw := range c.State {
		if name == "" {
			return errors.New("a state section has an empty name")
		}
		if !json.Valid(raw) {
			return fmt.Errorf("state section %q is not valid JSON", name)
		}
	}
	for k, v := range c.Metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("metadata %q is not valid UTF-8", k)
		}
	}
	return nil
}

// recoverInterrupted finishes a Save of dir that stopped between its two renames; the
// caller holds the exclusive lock of dir's parent. The old checkpoint, still under the
// backup name, goes back to dir. When dir exists too (the save stopped after its
// second rename), the backup is deleted if dir verifies; if dir does not verify but
// the backup does, dir is deleted and the backup put back, so that the checkpoint
// this Save replaces, and keeps should it fail, is a good one.
func recoverInterrupted(dir string) error {
	backup := backupPath(dir)
	if _, err := os.Lstat(backup); err != nil {
		return nil
	}
	if _, err := os.Lstat(dir); err == nil {
		if _, err := inspect(dir); err != nil {
			if _, berr := inspect(backup); berr == nil {
				if err := os.RemoveAll(dir); err != nil {
					return err
				}
				return restoreBackup(dir)
			}
		}
		if err := os.RemoveAll(backup); err != nil {
			return err
		}
		return syncDir(filepath.Dir(dir))
	}
	return restoreBackup(dir)
}

// restoreBackup renames the backup of dir back to dir and syncs their parent.
func restoreBackup(dir string) error {
	if err := os.Rename(backupPath(dir), dir); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// staleTemps lists the temporary directories of saves of dir; the caller holds the
// exclusive lock of dir's parent, or only looks.
func staleTemps(dir string) []string {
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		return nil
	}
	var temps []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), tempPrefix(dir)) {
			temps = append(temps, filepath.Join(filepath.Dir(dir), e.Name()))
		}
	}
	return temps
}

// removeStaleTemps deletes temporary directories that earlier, interrupted saves of
// dir left behind; the caller holds the exclusive lock of dir's parent.
func removeStaleTemps(dir string) {
	for _, t := range staleTemps(dir) {
		os.RemoveAll(t)
	}
}

// checkReplaceable reports whether dir exists, refusing to replace anything that is
// neither a checkpoint nor an empty directory.
func checkReplaceable(dir string) (exists bool, err error) {
	st, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if !st.IsDir() {
		return false, fmt.Errorf("checkpoint %s: the path exists and is not a directory; refusing to replace it", dir)
	}
	if _, err := os.Lstat(filepath.Join(dir, ManifestFile)); err == nil {
		return true, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return false, fmt.Errorf("checkpoint %s: the directory exists, holds %d entries and no %s, so it is not a checkpoint; refusing to replace it: save elsewhere or remove it", dir, len(entries), ManifestFile)
	}
	return true, nil
}

// writeContents writes every file of c into the empty directory tmp, manifest last.
func writeContents(tmp string, c *Checkpoint) error {
	m := &manifest{Format: FormatVersion, Step: c.Step, Files: map[string]fileEntry{}, State: c.State, Metadata: c.Metadata}
	write := func(name string, fill func(io.Writer) error) error {
		e, err := writeNewFile(filepath.Join(tmp, name), fill)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		m.Files[name] = e
		return nil
	}
	tensors := func(ts []Tensor, meta map[string]string) func(io.Writer) error {
		return func(w io.Writer) error {
			_, err := WriteSafetensors(w, ts, meta)
			return err
		}
	}
	if err := write(ModelFile, tensors(c.Model, map[string]string{"format": "pt"})); err != nil {
		return err
	}
	if err := write(OptimizerFile, tensors(c.Optimizer, nil)); err != nil {
		return err
	}
	for _, name := range sortedKeys(c.Files) {
		b := c.Files[name]
		if err := write(name, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return err
		}
	}
	mb, err := encodeManifest(m)
	if err != nil {
		return fmt.Errorf("%s: %w", ManifestFile, err)
	}
	if len(mb) > MaxManifestSize {
		return fmt.Errorf("%s: the manifest would take %d bytes, over the %d-byte limit Load accepts: store large state as Files", ManifestFile, len(mb), MaxManifestSize)
	}
	_, err = writeNewFile(filepath.Join(tmp, ManifestFile), func(w io.Writer) error { _, err := w.Write(mb); return err })
	return err
}

// resolve returns the directory to read for dir: dir itself, or the backup of an
// interrupted save when dir is absent.
func resolve(dir string) string {
	dir = filepath.Clean(dir)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if st, err := os.Stat(backupPath(dir)); err == nil && st.IsDir() {
			return backupPath(dir)
		}
	}
	return dir
}

// Load verifies the checkpoint directory dir against its manifest and reads it. A
// checkpoint that fails verification is reported as a *CorruptError. To load what the
// user named, a run's output directory or a checkpoint directory, see Resolve and
// LoadResolved.
func Load(dir string) (*Checkpoint, error) {
	dir = filepath.Clean(dir)
	unlock, _ := lockDir(filepath.Dir(dir), false, true)
	defer unlock()
	return load(resolve(dir))
}

// load is Load of the directory dir itself, without locking.
func load(dir string) (*Checkpoint, error) {
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	if _, ok := m.Files[ModelFile]; !ok {
		return nil, &CorruptError{Dir: dir, File: ManifestFile, Problem: "lists no " + ModelFile}
	}
	c := &Checkpoint{Step: m.Step, State: m.State, Metadata: m.Metadata}
	for _, name := range sortedKeys(m.Files) {
		b, err := checkFile(dir, name, m.Files[name], true)
		if err != nil {
			return nil, err
		}
		switch name {
		case ModelFile, OptimizerFile:
			ts, _, err := DecodeSafetensors(name, b)
			if err != nil {
				var se *SafetensorsError
				if errors.As(err, &se) {
					return nil, &CorruptError{Dir: dir, File: name, Problem: "not a valid safetensors file: " + se.Problem}
				}
				return nil, err
			}
			if name == ModelFile {
				c.Model = ts
			} else {
				c.Optimizer = ts
			}
		default:
			if c.Files == nil {
				c.Files = map[string][]byte{}
			}
			c.Files[name] = b
		}
	}
	return c, nil
}

// Verify checks the checkpoint directory dir: the manifest's own checksum, then the
// size and SHA-256 of every file it lists. It reads the files without keeping them.
func Verify(dir string) error {
	_, err := Inspect(dir)
	return err
}

// FileInfo describes one file of a checkpoint, as its manifest records it.
type FileInfo struct {
	// Name is the file's name inside the checkpoint directory.
	Name string
	// Size is its length in bytes.
	Size int64
	// SHA256 is its SHA-256 digest in lowercase hex.
	SHA256 string
}

// Summary is what Inspect reports of a checkpoint.
type Summary struct {
	// Dir is the directory read: the one asked for, or the backup of an interrupted
	// save (see Load).
	Dir string
	// Format is the manifest's format version.
	Format int
	// Step is the number of optimizer steps done.
	Step int
	// Files lists the checkpoint's files (manifest.json excluded), by name.
	Files []FileInfo
	// State lists the names of the JSON state sections, sorted.
	State []string
	// Metadata is the manifest's free-form metadata.
	Metadata map[string]string
}

// Inspect verifies the checkpoint directory dir (as Verify) and summarises it.
func Inspect(dir string) (*Summary, error) {
	dir = filepath.Clean(dir)
	unlock, _ := lockDir(filepath.Dir(dir), false, true)
	defer unlock()
	return inspect(resolve(dir))
}

// inspect is Inspect of the directory dir itself, without locking.
func inspect(dir string) (*Summary, error) {
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	s := &Summary{Dir: dir, Format: m.Format, Step: m.Step, State: sortedKeys(m.State), Metadata: m.Metadata}
	for _, name := range sortedKeys(m.Files) {
		e := m.Files[name]
		if _, err := checkFile(dir, name, e, false); err != nil {
			return nil, err
		}
		s.Files = append(s.Files, FileInfo{Name: name, Size: e.Size, SHA256: e.SHA256})
	}
	return s, nil
}

// openMember opens the file name of the checkpoint directory dir for reading (see
// openRegular: only a regular file of dir is opened). The error for a missing file
// wraps fs.ErrNotExist; one that is not a regular file is a *CorruptError naming it.
func openMember(dir, name string) (*os.File, int64, error) {
	f, size, err := openRegular(filepath.Join(dir, name), dir)
	var ie *irregularError
	if errors.As(err, &ie) {
		return nil, 0, &CorruptError{Dir: dir, File: name, Problem: ie.problem}
	}
	return f, size, err
}

// readManifest reads and parses dir's manifest.json.
func readManifest(dir string) (*manifest, error) {
	f, size, err := openMember(dir, ManifestFile)
	var b []byte
	if err == nil {
		b, err = readLimited(f, size, MaxManifestSize)
		f.Close()
		if errors.Is(err, errTooLarge) {
			return nil, &CorruptError{Dir: dir, File: ManifestFile, Problem: err.Error() + " for a manifest"}
		}
	}
	if err != nil {
		var ce *CorruptError
		if errors.As(err, &ce) {
			return nil, err
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
		}
		st, serr := os.Stat(dir)
		if serr != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", dir, serr)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("checkpoint %s: not a directory", dir)
		}
		return nil, &CorruptError{Dir: dir, File: ManifestFile, Problem: "missing: the directory is not a complete checkpoint"}
	}
	m, err := parseManifest(b)
	if err != nil {
		ce := &CorruptError{Dir: dir, File: ManifestFile, Problem: err.Error()}
		var me *manifestError
		if errors.As(err, &me) && me.offset >= 0 {
			ce.Line, ce.Col = lineCol(b, me.offset)
		}
		return nil, ce
	}
	return m, nil
}

// checkFile checks dir/name against its manifest entry: size first (cheap, catches
// truncation), then SHA-256. With keep it returns the file's bytes.
func checkFile(dir, name string, e fileEntry, keep bool) ([]byte, error) {
	corrupt := func(format string, args ...any) error {
		return &CorruptError{Dir: dir, File: name, Problem: fmt.Sprintf(format, args...)}
	}
	f, size, err := openMember(dir, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, corrupt("missing (the manifest lists it with %d bytes)", e.Size)
	}
	var ce *CorruptError
	if errors.As(err, &ce) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	defer f.Close()
	if size != e.Size {
		return nil, corrupt("has %d bytes, the manifest says %d: the file was truncated or changed after saving", size, e.Size)
	}
	// Read through a limit one byte past the recorded size: a file that grows while
	// being read is noticed, and cannot make this read more.
	r := io.LimitReader(f, e.Size+1)
	h := sha256.New()
	var b []byte
	if keep {
		b = make([]byte, e.Size)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, corrupt("reading: %v (the file changed while being read?)", err)
		}
		h.Write(b)
		if n, _ := r.Read(make([]byte, 1)); n > 0 {
			return nil, corrupt("grew past the %d bytes the manifest says while being read: is another program writing it?", e.Size)
		}
	} else if n, err := io.Copy(h, r); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %s: %w", dir, name, err)
	} else if n > e.Size {
		return nil, corrupt("grew past the %d bytes the manifest says while being read: is another program writing it?", e.Size)
	} else if n != e.Size {
		return nil, corrupt("has %d bytes, the manifest says %d: the file was truncated or changed after saving", n, e.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
		return nil, corrupt("SHA-256 mismatch (manifest %s, file %s): the file was changed or corrupted after saving", short(e.SHA256), short(got))
	}
	return b, nil
}
