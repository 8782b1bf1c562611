package data

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hypergrid-go/hypergrid/internal/golden"
)

// glueDir returns the folder of the development GLUE data: $HYPERGRID_GLUE_DIR, else
// ../shared/data/glue relative to the repository root. The test is skipped when the
// folder is absent.
func glueDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HYPERGRID_GLUE_DIR")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for root := wd; ; root = filepath.Dir(root) {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				dir = filepath.Join(root, "..", "shared", "data", "glue")
				break
			}
			if filepath.Dir(root) == root {
				t.Skip("no go.mod above the test's folder")
			}
		}
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("GLUE development data not found (%v); set HYPERGRID_GLUE_DIR to run this test", err)
	}
	return dir
}

// TestRealGLUE reads the development copies of SST-2, MRPC, STS-B and RTE: the row
// counts must be those of the data's README, and the text-to-text form of the first
// rows must match testdata/glue_golden.
func TestRealGLUE(t *testing.T) {
	dir := glueDir(t)
	tests := []struct {
		task  string
		split string
		rows  int
	}{
		{"sst2", "train", 6920}, {"sst2", "dev", 872},
		{"mrpc", "train", 3576}, {"mrpc", "dev", 500},
		{"stsb", "train", 5749}, {"stsb", "dev", 1500},
		{"rte", "train", 1244}, {"rte", "dev", 139},
	}
	for _, tt := range tests {
		t.Run(tt.task+"/"+tt.split, func(t *testing.T) {
			def, _ := Lookup(tt.task)
			exs, stats, err := ReadSplit(def, dir, tt.split, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(exs) != tt.rows || stats.Labeled != tt.rows || stats.Skipped != 0 {
				t.Errorf("got %d examples (%d labelled, %d skipped), want %d, all labelled", len(exs), stats.Labeled, stats.Skipped, tt.rows)
			}
			first := exs[:min(len(exs), 5)]
			firstStats := ReadStats{Examples: len(first), Labeled: len(first)}
			path := filepath.Join("testdata", "glue_golden", tt.task+"."+tt.split+".golden")
			golden.Check(t, path, render(def, def.SplitPath(tt.split), first, firstStats))
		})
	}
}
