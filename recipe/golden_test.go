package recipe

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/internal/golden"
)

// setsOf returns the overrides a test recipe asks for in comment lines "# --set K=V".
func setsOf(data []byte) []string {
	var sets []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "# --set "); ok {
			sets = append(sets, s)
		}
	}
	return sets
}

// runGolden runs render on every *.yaml file directly in dir (not the included ones
// under its subfolders) and compares the output with the file's .golden twin; with
// -update it rewrites the golden files instead (see package internal/golden).
func runGolden(t *testing.T, dir string, render func(t *testing.T, path string, sets []string) string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test recipes in %s (%v)", dir, err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, path, setsOf(data))
			golden.Check(t, strings.TrimSuffix(path, ".yaml")+".golden", []byte(got))
		})
	}
}
