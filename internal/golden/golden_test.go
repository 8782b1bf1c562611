package golden

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeTB records what Check reports instead of failing the test. It embeds a nil
// testing.TB, so a method Check is not expected to call panics.
type fakeTB struct {
	testing.TB
	name   string
	errors []string
	logs   []string
}

func (f *fakeTB) Helper()      {}
func (f *fakeTB) Name() string { return f.name }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

// setUpdate sets the -update flag for the rest of the test.
func setUpdate(t *testing.T, on bool) {
	old := *update
	*update = on
	t.Cleanup(func() { *update = old })
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFlag(t *testing.T) {
	f := flag.Lookup("update")
	if f == nil {
		t.Fatal("no -update flag")
	}
	if f.DefValue != "false" {
		t.Errorf("-update defaults to %s", f.DefValue)
	}
	if Update() != *update {
		t.Errorf("Update() = %v, flag %v", Update(), *update)
	}
}

// TestCheckSelf: the package checks its own golden file (the one ExampleCheck uses).
func TestCheckSelf(t *testing.T) {
	Check(t, filepath.Join("testdata", "example.golden"),
		[]byte("eval at step 1000\ntask  accuracy  score\nmrpc     85.00  85.00\nsst2     91.20  91.20\n"))
}

func TestCheckMatch(t *testing.T) {
	setUpdate(t, false)
	path := filepath.Join(t.TempDir(), "x.golden")
	writeFile(t, path, "a\nb\n")
	ft := &fakeTB{name: "TestX"}
	Check(ft, path, []byte("a\nb\n"))
	if len(ft.errors) != 0 || len(ft.logs) != 0 {
		t.Errorf("equal output reported %q %q", ft.errors, ft.logs)
	}
}

func TestCheckMismatchFails(t *testing.T) {
	setUpdate(t, false)
	path := filepath.Join(t.TempDir(), "x.golden")
	writeFile(t, path, "one\ntwo\nthree\nfour\n")
	ft := &fakeTB{name: "TestTable/mrpc_dev"}
	Check(ft, path, []byte("one\ntwo\nthree\nFOUR\nfive\n"))
	if len(ft.errors) != 1 {
		t.Fatalf("a mismatch reported %d errors, want 1: %q", len(ft.errors), ft.errors)
	}
	msg := ft.errors[0]
	for _, want := range []string{
		"output differs from " + path,
		"first difference at line 4 (got 5 lines, want 4)",
		`    line 2: "two\n"`,
		`    line 3: "three\n"`,
		`  - want 4: "four\n"`,
		`  + got  4: "FOUR\n"`,
		"go test ./internal/golden -run '^TestTable$/^mrpc_dev$' -update",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, `line 1: "one\n"`) {
		t.Errorf("message shows more than %d lines of context:\n%s", contextLines, msg)
	}
	// Without -update the golden file is left alone.
	if b, _ := os.ReadFile(path); string(b) != "one\ntwo\nthree\nfour\n" {
		t.Errorf("golden file changed to %q", b)
	}
}

func TestCheckMissingFile(t *testing.T) {
	setUpdate(t, false)
	path := filepath.Join(t.TempDir(), "none.golden")
	ft := &fakeTB{name: "TestNew"}
	Check(ft, path, []byte("x\n"))
	if len(ft.errors) != 1 || !strings.Contains(ft.errors[0], path+" does not exist") ||
		!strings.Contains(ft.errors[0], "go test ./internal/golden -run '^TestNew$' -update") {
		t.Errorf("missing file reported %q", ft.errors)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("Check created the file without -update")
	}
}

func TestCheckUpdate(t *testing.T) {
	setUpdate(t, true)
	dir := t.TempDir()

	// A missing file is created, with its folders.
	path := filepath.Join(dir, "sub", "dir", "x.golden")
	ft := &fakeTB{name: "TestX"}
	Check(ft, path, []byte("new\n"))
	if b, err := os.ReadFile(path); err != nil || string(b) != "new\n" {
		t.Errorf("after -update: %q, %v", b, err)
	}
	if len(ft.errors) != 0 || len(ft.logs) != 1 || !strings.Contains(ft.logs[0], "updated "+path) {
		t.Errorf("update reported errors %q logs %q", ft.errors, ft.logs)
	}

	// A different file is rewritten without an error.
	ft = &fakeTB{name: "TestX"}
	Check(ft, path, []byte("changed\n"))
	if b, _ := os.ReadFile(path); string(b) != "changed\n" || len(ft.errors) != 0 {
		t.Errorf("after -update: %q, errors %q", b, ft.errors)
	}

	// A file that already holds the output is not written.
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	ft = &fakeTB{name: "TestX"}
	Check(ft, path, []byte("changed\n"))
	if fi, err := os.Stat(path); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("an up-to-date file was rewritten: %v %v", fi.ModTime(), err)
	}
	if len(ft.errors) != 0 || len(ft.logs) != 0 {
		t.Errorf("up-to-date file reported %q %q", ft.errors, ft.logs)
	}

	// A write that fails is an error.
	blocker := filepath.Join(dir, "file")
	writeFile(t, blocker, "")
	ft = &fakeTB{name: "TestX"}
	Check(ft, filepath.Join(blocker, "x.golden"), []byte("y"))
	if len(ft.errors) != 1 || !strings.Contains(ft.errors[0], "updating") {
		t.Errorf("failed write reported %q", ft.errors)
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name, got, want string
		lines           []string
	}{
		{"equal", "a\nb\n", "a\nb\n", nil},
		{"first line", "x\n", "a\n", []string{"at line 1 (got 1 lines, want 1)", `- want 1: "a\n"`, `+ got  1: "x\n"`}},
		{"missing final newline", "a\nb", "a\nb\n", []string{"at line 2 (got 2 lines, want 2)", `line 1: "a\n"`, `- want 2: "b\n"`, `+ got  2: "b"`}},
		{"got longer", "a\nb\nc\n", "a\nb\n", []string{"at line 3 (got 3 lines, want 2)", "- want 3: end of file", `+ got  3: "c\n"`}},
		{"got empty", "", "a\n", []string{"at line 1 (got 0 lines, want 1)", `- want 1: "a\n"`, "+ got  1: end of file"}},
		{"trailing space", "a \n", "a\n", []string{`- want 1: "a\n"`, `+ got  1: "a \n"`}},
		{"carriage return", "a\r\n", "a\n", []string{`+ got  1: "a\r\n"`}},
	}
	for _, tt := range tests {
		d := Diff([]byte(tt.got), []byte(tt.want))
		if tt.lines == nil {
			if d != "" {
				t.Errorf("%s: Diff = %q, want \"\"", tt.name, d)
			}
			continue
		}
		for _, want := range tt.lines {
			if !strings.Contains(d, want) {
				t.Errorf("%s: Diff lacks %q:\n%s", tt.name, want, d)
			}
		}
	}
}

func TestLines(t *testing.T) {
	for in, want := range map[string][]string{
		"":       nil,
		"\n":     {"\n"},
		"a":      {"a"},
		"a\nb\n": {"a\n", "b\n"},
		"a\n\nb": {"a\n", "\n", "b"},
	} {
		got := lines([]byte(in))
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Errorf("lines(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"TestX":         "TestX",
		"./data":        "./data",
		"^TestX$":       "'^TestX$'",
		"a b":           "'a b'",
		"it's":          `'it'\''s'`,
		"":              "''",
		"^T$/^sub\\.x$": `'^T$/^sub\.x$'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestPackageDir(t *testing.T) {
	if got := packageDir(); got != "./internal/golden" {
		t.Errorf("packageDir() = %q, want ./internal/golden", got)
	}
}

func TestUpdateCommand(t *testing.T) {
	for name, want := range map[string]string{
		"TestA":                "go test ./internal/golden -run '^TestA$' -update",
		"TestA/case_1":         "go test ./internal/golden -run '^TestA$/^case_1$' -update",
		"TestA/x.y(z)/deeper#": "go test ./internal/golden -run '^TestA$/^x\\.y\\(z\\)$/^deeper#$' -update",
	} {
		if got := updateCommand(&fakeTB{name: name}); got != want {
			t.Errorf("updateCommand(%q) = %s, want %s", name, got, want)
		}
	}
}
