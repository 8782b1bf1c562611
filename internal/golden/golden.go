// Package golden compares test output with golden files: expected output kept in a
// package's testdata folder and rewritten on request.
//
// A test renders what it checks as bytes and calls [Check]:
//
//	golden.Check(t, filepath.Join("testdata", "table.golden"), got)
//
// When the output changes on purpose, run the test with -update to rewrite the file,
// then review the change with git diff:
//
//	go test ./monitor -run TestEvalTableGolden -update
//
// The -update flag is defined once, here, so every test binary that imports the
// package has it; a test file must not define its own. Import the package from test
// files only: importing it from a non-test package would add the flag to that
// program.
package golden

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files the tests compare with (package internal/golden)")

// Update reports whether the tests run with -update, that is whether [Check] rewrites
// golden files instead of comparing with them. A test that keeps golden files some
// other way (say, removes stale ones) can use it to follow the same flag.
func Update() bool { return *update }

// contextLines is how many equal lines a mismatch report shows before the first
// differing line.
const contextLines = 2

// Check compares got with the golden file at path (relative to the package folder,
// where tests run; usually under testdata). On a mismatch, or when the file cannot be
// read, it reports an error through t.Errorf (the test goes on) naming the file, the
// first differing line with the lines before it, and the command that accepts the new
// output. With -update it writes got to path instead, creating missing folders, and
// reports nothing unless the write fails; a file that already holds got is left
// untouched.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(path)
	if *update {
		if err == nil && bytes.Equal(got, want) {
			return
		}
		if err := write(path, got); err != nil {
			t.Errorf("golden: updating %s: %v", path, err)
			return
		}
		t.Logf("golden: updated %s", path)
		return
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			t.Errorf("golden: %s does not exist; to create it, run:\n\t%s", path, updateCommand(t))
		} else {
			t.Errorf("golden: %v", err)
		}
		return
	}
	if bytes.Equal(got, want) {
		return
	}
	t.Errorf("golden: output differs from %s\n%s\nif the change is intended, update the file with:\n\t%s",
		path, Diff(got, want), updateCommand(t))
}

// write writes data to path, creating its folder.
func write(path string, data []byte) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, data, 0o644)
}

// Diff describes where got first differs from want, line by line: the line number, up
// to two equal lines before it, and the differing line of each side, quoted (so
// trailing spaces, tabs and a missing final newline show), or "end of file" where a
// side has no more lines; then both sides' line counts. It returns "" when got and
// want are equal.
//
//	first difference at line 3 (got 4 lines, want 4):
//	    line 1: "eval at step 1000\n"
//	    line 2: "task  accuracy\n"
//	  - want 3: "mrpc     85.00\n"
//	  + got  3: "mrpc     86.00\n"
func Diff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	gl, wl := lines(got), lines(want)
	i := 0
	for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
		i++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (got %d lines, want %d):\n", i+1, len(gl), len(wl))
	for j := max(0, i-contextLines); j < i; j++ {
		fmt.Fprintf(&b, "    line %d: %q\n", j+1, gl[j])
	}
	fmt.Fprintf(&b, "  - want %d: %s\n", i+1, lineAt(wl, i))
	fmt.Fprintf(&b, "  + got  %d: %s", i+1, lineAt(gl, i))
	return b.String()
}

// lines splits data after each newline, keeping the newlines.
func lines(data []byte) []string {
	ls := strings.SplitAfter(string(data), "\n")
	if ls[len(ls)-1] == "" { // data is empty or ends with a newline
		ls = ls[:len(ls)-1]
	}
	return ls
}

// lineAt returns line i of ls quoted, or "end of file" past the last line.
func lineAt(ls []string, i int) string {
	if i >= len(ls) {
		return "end of file"
	}
	return fmt.Sprintf("%q", ls[i])
}

// updateCommand returns the go test command that reruns t (top-level test and
// subtests, anchored) with -update in the package that runs it.
func updateCommand(t testing.TB) string {
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return fmt.Sprintf("go test %s -run %s -update", packageDir(), shellQuote(strings.Join(parts, "/")))
}

var (
	pkgDirOnce sync.Once
	pkgDir     string
)

// packageDir returns the folder tests run in (the package's) relative to the
// module root, as go test takes it ("./monitor"), or "." when it cannot tell.
func packageDir() string {
	pkgDirOnce.Do(func() {
		pkgDir = "."
		wd, err := os.Getwd()
		if err != nil {
			return
		}
		for dir := wd; ; {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				if rel, err := filepath.Rel(dir, wd); err == nil && rel != "." {
					pkgDir = "./" + filepath.ToSlash(rel)
				}
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return
			}
			dir = parent
		}
	})
	return pkgDir
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain word
// characters.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./=:,+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
