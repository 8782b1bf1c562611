//go:build unix

package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// noHang runs fn and fails the test if it has not returned within a few seconds (a
// read of a FIFO with no writer blocks for ever).
func noHang(t *testing.T, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s hangs", what)
		return nil
	}
}

func mkfifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("cannot make a FIFO: %v", err)
	}
	return path
}

func TestLoadRefusesFIFOAndDevice(t *testing.T) {
	fifo := mkfifo(t)
	err := noHang(t, "Load(FIFO)", func() error { _, err := Load(fifo); return err })
	if err == nil || !strings.Contains(err.Error(), fifo) || !strings.Contains(err.Error(), "named pipe (FIFO), not a regular file") {
		t.Errorf("Load(FIFO): %v", err)
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	err = noHang(t, "Load(/dev/zero)", func() error { _, err := Load("/dev/zero"); return err })
	if err == nil || !strings.Contains(err.Error(), "/dev/zero: the model file is a character device, not a regular file") {
		t.Errorf("Load(/dev/zero): %v", err)
	}
}

func TestTrainRefusesFIFOAndDevice(t *testing.T) {
	for _, in := range []string{mkfifo(t), "/dev/zero"} {
		if _, err := os.Stat(in); err != nil {
			continue
		}
		err := noHang(t, "Train("+in+")", func() error {
			_, err := Train(TrainOptions{Inputs: []string{"testdata/corpus.txt", in}, VocabSize: 300, Normalization: Identity})
			return err
		})
		if err == nil || !strings.Contains(err.Error(), in+": the input file is a") || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Train with input %s: %v", in, err)
		}
	}
}
