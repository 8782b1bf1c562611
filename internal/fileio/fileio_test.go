package fileio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.txt")
	if err := os.WriteFile(small, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadRegular(small, "text file", 5); err != nil || string(b) != "hello" {
		t.Fatalf("ReadRegular = %q, %v", b, err)
	}
	_, err := ReadRegular(small, "text file", 4)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), small+": the text file is 5 bytes, more than the limit of 4 bytes") {
		t.Errorf("over the limit: %v", err)
	}
	_, err = ReadRegular(dir, "recipe", 1<<20)
	if err == nil || !strings.Contains(err.Error(), dir+": the recipe is a folder, not a regular file: give the path of a recipe") {
		t.Errorf("a folder: %v", err)
	}
	if _, err := ReadRegular(filepath.Join(dir, "none"), "recipe", 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := ReadRegular("/dev/zero", "data file", 10); err == nil || !strings.Contains(err.Error(), "a character device, not a regular file") {
			t.Errorf("/dev/zero: %v", err)
		}
	}
}

func TestReadAllLimited(t *testing.T) {
	b, err := ReadAllLimited(strings.NewReader("abcdef"), nil, 6)
	if err != nil || string(b) != "abcdef" {
		t.Fatalf("%q, %v", b, err)
	}
	if _, err := ReadAllLimited(strings.NewReader("abcdefg"), make([]byte, 0, 2), 6); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "limit of 6 bytes") {
		t.Errorf("over the limit: %v", err)
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{1 << 30: "1 GiB", 256 << 20: "256 MiB", 3 << 10: "3 KiB", 1000: "1000 bytes", 4<<30 + 1: "4294967297 bytes"} {
		if got := ByteSize(n); got != want {
			t.Errorf("ByteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
