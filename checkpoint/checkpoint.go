// Package checkpoint saves and loads training checkpoints: a directory holding the
// model's weights and the optimizer's moments as safetensors files, and a manifest with
// the SHA-256 and size of every file plus the run's small state (step, recipe, sampler
// position, RNG seeds) as JSON.
//
// Writes are atomic: every file goes to a temporary name in a temporary directory, is
// fsync'd, and the directory is renamed into place and its parent fsync'd, so a
// checkpoint directory is either complete or absent. Loading verifies every file
// against the manifest first: a corrupted or truncated checkpoint is reported, naming
// the file and what differs, and never loaded.
package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FormatVersion is the manifest format this package writes and reads.
const FormatVersion = 1

// Manifest file and the weight files of a checkpoint directory.
const (
	ManifestFile  = "manifest.json"
	ModelFile     = "model.safetensors"
	OptimizerFile = "optimizer.safetensors"
)

// Checkpoint is what a checkpoint holds.
type Checkpoint struct {
	// Step is the number of optimizer steps done.
	Step int
	// Model holds the model's parameters.
	Model []Tensor
	// Optimizer holds the optimizer's per-parameter state (e.g. AdamW's moments).
	Optimizer []Tensor
	// State holds named JSON sections: the recipe, the optimizer's scalars, the data
	// sampler's position, RNG state, ... (opaque to this package).
	State map[string]json.RawMessage
	// Files holds extra files to store verbatim (e.g. "tokenizer.model").
	Files map[string][]byte
}

// manifest is the manifest.json layout.
type manifest struct {
	Format int                        `json:"format"`
	Step   int                        `json:"step"`
	Files  map[string]fileEntry       `json:"files"`
	State  map[string]json.RawMessage `json:"state,omitempty"`
}

type fileEntry struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Save writes c as the checkpoint directory dir, atomically: dir appears complete or not
// at all. An existing dir is replaced only once the new one is complete.
func Save(dir string, c *Checkpoint) error {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	files := map[string][]byte{}
	if files[ModelFile], err = EncodeSafetensors(c.Model, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("checkpoint %s: model: %w", dir, err)
	}
	if files[OptimizerFile], err = EncodeSafetensors(c.Optimizer, nil); err != nil {
		return fmt.Errorf("checkpoint %s: optimizer: %w", dir, err)
	}
	for name, b := range c.Files {
		if name == ManifestFile || name == ModelFile || name == OptimizerFile || strings.ContainsAny(name, `/\`) || name == "" {
			return fmt.Errorf("checkpoint %s: extra file name %q is reserved or not a plain name", dir, name)
		}
		files[name] = b
	}
	m := manifest{Format: FormatVersion, Step: c.Step, Files: map[string]fileEntry{}, State: c.State}
	for name, b := range files {
		if err := writeSynced(filepath.Join(tmp, name), b); err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m.Files[name] = fileEntry{Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := writeSynced(filepath.Join(tmp, ManifestFile), append(mb, '\n')); err != nil {
		return err
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	// Replace: move the old directory aside first, so that at every moment one
	// complete checkpoint exists under dir or under its backup name.
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return err
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Load verifies the checkpoint directory dir against its manifest and reads it.
func Load(dir string) (*Checkpoint, error) {
	m, files, err := verify(dir)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{Step: m.Step, State: m.State, Files: map[string][]byte{}}
	if c.Model, _, err = DecodeSafetensors(filepath.Join(dir, ModelFile), files[ModelFile]); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if c.Optimizer, _, err = DecodeSafetensors(filepath.Join(dir, OptimizerFile), files[OptimizerFile]); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	for name, b := range files {
		if name != ModelFile && name != OptimizerFile {
			c.Files[name] = b
		}
	}
	return c, nil
}

// FileInfo describes one file of a checkpoint.
type FileInfo struct {
	Name   string
	Size   int64
	SHA256 string
}

// Summary is what Inspect reports of a checkpoint.
type Summary struct {
	Step  int
	Files []FileInfo
	// State lists the names of the JSON state sections.
	State []string
}

// Inspect verifies the checkpoint directory dir and summarises it.
func Inspect(dir string) (*Summary, error) {
	m, _, err := verify(dir)
	if err != nil {
		return nil, err
	}
	s := &Summary{Step: m.Step}
	for n, e := range m.Files {
		s.Files = append(s.Files, FileInfo{Name: n, Size: e.Size, SHA256: e.SHA256})
	}
	sort.Slice(s.Files, func(i, j int) bool { return s.Files[i].Name < s.Files[j].Name })
	for n := range m.State {
		s.State = append(s.State, n)
	}
	sort.Strings(s.State)
	return s, nil
}

// Verify checks every file of the checkpoint directory dir against its manifest.
func Verify(dir string) error {
	_, _, err := verify(dir)
	return err
}

// ErrCorrupt marks a checkpoint that exists but fails verification.
var ErrCorrupt = errors.New("checkpoint is corrupted or incomplete")

func verify(dir string) (*manifest, map[string][]byte, error) {
	fail := func(format string, args ...any) (*manifest, map[string][]byte, error) {
		return nil, nil, fmt.Errorf("checkpoint %s: %s: %w; restore it or resume from an earlier checkpoint", dir, fmt.Sprintf(format, args...), ErrCorrupt)
	}
	mb, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := os.Stat(dir); serr != nil {
				return nil, nil, fmt.Errorf("checkpoint %s: %w", dir, serr)
			}
			return fail("%s is missing", ManifestFile)
		}
		return nil, nil, err
	}
	var m manifest
	dec := json.NewDecoder(strings.NewReader(string(mb)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return fail("%s is not a valid manifest: %v", ManifestFile, err)
	}
	if m.Format != FormatVersion {
		return fail("%s has format %d; this program reads format %d", ManifestFile, m.Format, FormatVersion)
	}
	for _, need := range []string{ModelFile, OptimizerFile} {
		if _, ok := m.Files[need]; !ok {
			return fail("%s lists no %s", ManifestFile, need)
		}
	}
	names := make([]string, 0, len(m.Files))
	for n := range m.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	files := map[string][]byte{}
	for _, n := range names {
		e := m.Files[n]
		if strings.ContainsAny(n, `/\`) || n == ".." || n == "." {
			return fail("%s names a file outside the checkpoint: %q", ManifestFile, n)
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return fail("%s: %v", n, err)
		}
		if int64(len(b)) != e.Size {
			return fail("%s has %d bytes, the manifest says %d (truncated or changed after saving)", n, len(b), e.Size)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != e.SHA256 {
			return fail("%s: SHA-256 mismatch (manifest %.12s…, file %.12s…): the file was changed or corrupted after saving", n, e.SHA256, got)
		}
		files[n] = b
	}
	return &m, files, nil
}
