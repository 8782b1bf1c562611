//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package checkpoint

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within runs f and fails the test if it does not return within 10 seconds: a reader
// that opens a named pipe blocks for ever.
func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still blocked after 10 s (it opened a named pipe?)", what)
		return nil
	}
}

// readers are the ways to read a checkpoint that must refuse a bad file.
var readers = []struct {
	name string
	run  func(dir string) error
}{
	{"Load", func(dir string) error { _, err := Load(dir); return err }},
	{"Verify", Verify},
	{"Inspect", func(dir string) error { _, err := Inspect(dir); return err }},
	{"LoadResolved", func(dir string) error { _, _, err := LoadResolved(dir); return err }},
}

// TestIrregularFilesAreRefused replaces a file of a checkpoint by a named pipe, a
// socket, a device, a directory or a symbolic link leading out of the checkpoint:
// every reader refuses it promptly with a *CorruptError naming the file and what it is.
func TestIrregularFilesAreRefused(t *testing.T) {
	outside := t.TempDir()
	kinds := []struct {
		name, problem string
		make          func(t *testing.T, path string) error
	}{
		{"fifo", "is a named pipe (FIFO), not a regular file", func(t *testing.T, p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"directory", "is a directory, not a regular file", func(t *testing.T, p string) error { return os.Mkdir(p, 0o755) }},
		{"socket", "is a socket, not a regular file", func(t *testing.T, p string) error {
			l, err := net.Listen("unix", p)
			if err != nil {
				t.Skipf("no unix socket here: %v", err)
			}
			t.Cleanup(func() { l.Close() })
			return nil
		}},
		{"device", "is a character device, not a regular file", func(t *testing.T, p string) error {
			if err := syscall.Mknod(p, syscall.S_IFCHR|0o644, 1<<8|3); err != nil { // /dev/null's numbers on Linux
				t.Skipf("cannot make a device node: %v", err)
			}
			return nil
		}},
		{"symlink out", "is a symbolic link to ", func(t *testing.T, p string) error {
			// A byte-identical copy outside the checkpoint: its content would verify.
			b, err := os.ReadFile(p + ".orig")
			if err != nil {
				return err
			}
			dup := filepath.Join(outside, filepath.Base(p))
			if err := os.WriteFile(dup, b, 0o644); err != nil {
				return err
			}
			return os.Symlink(dup, p)
		}},
		{"symlink to a fifo", "is a named pipe (FIFO), not a regular file", func(t *testing.T, p string) error {
			if err := syscall.Mkfifo(p+".fifo", 0o644); err != nil {
				return err
			}
			return os.Symlink(filepath.Base(p)+".fifo", p)
		}},
		{"dangling symlink", "is a symbolic link to nowhere, which cannot be followed", func(t *testing.T, p string) error {
			return os.Symlink("nowhere", p)
		}},
	}
	for _, file := range []string{ModelFile, ManifestFile, "tokenizer.model"} {
		for _, k := range kinds {
			t.Run(file+"/"+k.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "ckpt")
				if err := Save(dir, sample()); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, file)
				if err := os.Rename(path, path+".orig"); err != nil {
					t.Fatal(err)
				}
				if err := k.make(t, path); err != nil {
					t.Fatal(err)
				}
				for _, r := range readers {
					err := within(t, r.name, func() error { return r.run(dir) })
					var ce *CorruptError
					if !errors.As(err, &ce) || ce.File != file || !strings.HasPrefix(ce.Problem, k.problem) ||
						!strings.HasPrefix(err.Error(), "checkpoint "+dir+": "+file+": "+k.problem) {
						t.Errorf("%s: %v, want a *CorruptError: %s: %s…", r.name, err, file, k.problem)
					}
				}
			})
		}
	}
}

// TestSymlinkInsideIsFollowed: a symbolic link to a regular file of the checkpoint
// directory itself is read.
func TestSymlinkInsideIsFollowed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := Save(dir, sample()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ModelFile)
	if err := os.Rename(path, filepath.Join(dir, "weights.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("weights.bin", path); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, c, sample())
}

// TestHugeManifestIsRefused: a manifest over MaxManifestSize is refused without being
// read (the file is sparse).
func TestHugeManifestIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	if err := Save(dir, sample()); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(dir, ManifestFile), MaxManifestSize+1); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.File != ManifestFile || ce.Problem != "too large: 67108865 bytes, over the 67108864-byte limit for a manifest" {
		t.Errorf("Load: %v", err)
	}
	// Save refuses to write one (encoding 64 MiB of JSON takes seconds).
	if testing.Short() {
		return
	}
	c := sample()
	c.Metadata["big"] = strings.Repeat("x", MaxManifestSize)
	if err := Save(filepath.Join(t.TempDir(), "big"), c); err == nil || !strings.Contains(err.Error(), "over the 67108864-byte limit Load accepts") {
		t.Errorf("Save of a huge manifest: %v", err)
	}
}

// TestReadLimited: a file larger than the size it had when opened (it grew) is
// refused past the limit.
func TestReadLimited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, []byte("0123456789"), 0o644)
	for _, c := range []struct {
		size, limit int64
		want        string
	}{
		{10, 10, ""},
		{10, 20, ""},
		{4, 20, ""}, // grew from 4 to 10 bytes, within the limit
		{4, 4, "too large: over the 4-byte limit (it grew while being read)"},
		{10, 9, "too large: 10 bytes, over the 9-byte limit"},
	} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := readLimited(f, c.size, c.limit)
		f.Close()
		switch {
		case c.want == "" && (err != nil || string(b) != "0123456789"):
			t.Errorf("size %d limit %d: %q, %v", c.size, c.limit, b, err)
		case c.want != "" && (err == nil || err.Error() != c.want || !errors.Is(err, errTooLarge)):
			t.Errorf("size %d limit %d: %v, want %s", c.size, c.limit, err, c.want)
		}
	}
}

// TestOtherReadersRefuseFifos: the run's latest file and ReadSafetensorsFile refuse a
// named pipe instead of blocking.
func TestOtherReadersRefuseFifos(t *testing.T) {
	run := t.TempDir()
	saveSteps(t, run, 0, 10)
	latest := filepath.Join(run, LatestFile)
	os.Remove(latest)
	if err := syscall.Mkfifo(latest, 0o644); err != nil {
		t.Fatal(err)
	}
	err := within(t, "Latest", func() error { _, err := Latest(run); return err })
	if err == nil || err.Error() != latest+" is a named pipe (FIFO), not a regular file" {
		t.Errorf("Latest: %v", err)
	}
	fifo := filepath.Join(run, "model.safetensors")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	err = within(t, "ReadSafetensorsFile", func() error { _, _, err := ReadSafetensorsFile(fifo); return err })
	if err == nil || err.Error() != fifo+" is a named pipe (FIFO), not a regular file" {
		t.Errorf("ReadSafetensorsFile: %v", err)
	}
}
