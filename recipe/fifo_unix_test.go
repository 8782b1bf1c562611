//go:build unix

package recipe

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIncludeFIFO: an include that is a named pipe is refused at once; opening it
// would wait for a writer forever.
func TestIncludeFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	main := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(main, []byte("include: pipe.yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Load(main); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "the recipe is a named pipe (FIFO), not a regular file") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("loading a recipe that includes a FIFO hangs")
	}
	if _, err := Load(filepath.Join(dir, "pipe.yaml")); err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("a FIFO as the recipe: %v", err)
	}
}
