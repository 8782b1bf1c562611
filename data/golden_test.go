package data

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/internal/golden"
)

// render writes examples in the textual form the golden files hold.
func render(def TaskDef, file string, exs []Example, stats ReadStats) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# task %s, file %s: %d examples, %d labelled, %d skipped\n",
		def.Name, file, stats.Examples, stats.Labeled, stats.Skipped)
	for _, e := range exs {
		fmt.Fprintf(&b, "\n[%d] line %d id %q", e.Index, e.Line, e.ID)
		switch {
		case !e.HasLabel:
			b.WriteString(" unlabelled")
		case def.IsRegression():
			fmt.Fprintf(&b, " score %v", e.Score)
		default:
			fmt.Fprintf(&b, " label %d", e.Label)
		}
		fmt.Fprintf(&b, "\ninputs:  %s\ntargets: %s\n", e.Inputs, e.Targets)
	}
	return b.Bytes()
}

// TestGoldenTextToText reads every split file of every registered GLUE and SuperGLUE
// task from testdata and compares the text-to-text form with the golden files.
func TestGoldenTextToText(t *testing.T) {
	roots := map[string]string{}
	for _, d := range glueTasks() {
		roots[d.Name] = "testdata/glue"
	}
	for _, d := range superGLUETasks() {
		roots[d.Name] = "testdata/superglue"
	}
	for name, root := range roots {
		def, ok := Lookup(name)
		if !ok {
			t.Fatalf("task %s is not registered", name)
		}
		found := 0
		for _, split := range []string{"train", "dev", "test"} {
			rel := def.SplitPath(split)
			path := filepath.Join(root, rel)
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			found++
			t.Run(name+"/"+split, func(t *testing.T) {
				exs, stats, err := ReadFile(def, path, ReadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if stats.Examples == 0 {
					t.Fatalf("%s: no examples", path)
				}
				for _, e := range exs {
					if e.HasLabel != (e.Targets != "") {
						t.Errorf("%s: HasLabel %v but Targets %q", e.Pos(), e.HasLabel, e.Targets)
					}
					if !strings.HasPrefix(e.Inputs, def.Prefix+" ") {
						t.Errorf("%s: inputs %q do not start with the prefix %q", e.Pos(), e.Inputs, def.Prefix)
					}
				}
				golden.Check(t, filepath.Join("testdata", "golden", name+"."+split+".golden"), render(def, filepath.ToSlash(rel), exs, stats))
			})
		}
		if found == 0 {
			t.Errorf("task %s: no testdata file under %s", name, root)
		}
	}
}
