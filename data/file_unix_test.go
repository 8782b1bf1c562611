//go:build unix

package data

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO or a device given as a data file is refused at once: reading a FIFO with no
// writer blocks for ever, and /dev/zero never ends.
func TestReadFileRefusesFIFOAndDevice(t *testing.T) {
	def := mustLookup(t, "sst2")
	fifo := filepath.Join(t.TempDir(), "train.tsv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO: %v", err)
	}
	for path, want := range map[string]string{
		fifo:        fifo + ": the data file is a named pipe (FIFO), not a regular file: give the path of a data file",
		"/dev/zero": "/dev/zero: the data file is a character device, not a regular file",
	} {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		done := make(chan error, 1)
		go func() {
			_, _, err := ReadFile(def, path, ReadOptions{})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("ReadFile(%s): %v, want %q", path, err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("ReadFile(%s) hangs", path)
		}
	}
}
