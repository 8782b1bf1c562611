package job

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/plots"
)

func TestGatesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadGates(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no file: %v", err)
	}
	in := map[string][]plots.Grid{
		"sst2": {{Layer: "encoder.block.0.ffn.wo", Rows: 2, Cols: 2, Values: []float32{0.45, 0.5, 0.55, 0.6}}},
		"mrpc": {{Layer: "encoder.block.0.ffn.wo", Rows: 1, Cols: 3, Values: []float32{0.1, 0.2, 0.3}}},
	}
	if err := WriteGates(dir, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadGates(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || len(out["sst2"]) != 1 || out["sst2"][0].Values[3] != 0.6 || out["mrpc"][0].Cols != 3 {
		t.Errorf("read back %+v", out)
	}
	tests := []struct{ name, text, want string }{
		{"shape", `{"a":[{"layer":"l","rows":2,"cols":2,"values":[1]}]}`, "1 values for a 2×2 grid"},
		{"unknown key", `{"a":[{"layer":"l","rows":1,"cols":1,"values":[1],"x":1}]}`, "unknown field"},
		{"not json", `{`, "gates.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, GatesFile), []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadGates(dir); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one with %q", err, tt.want)
			}
		})
	}
}

func FuzzReadGates(f *testing.F) {
	f.Add([]byte(`{"a":[{"layer":"l","rows":1,"cols":2,"values":[0.5,0.6]}]}`))
	f.Add([]byte(`{"a":[{"layer":"l","rows":-1,"cols":-2,"values":[]}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, GatesFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		grids, err := ReadGates(dir)
		if err != nil {
			return
		}
		for task, gs := range grids {
			for _, g := range gs {
				if len(g.Values) != g.Rows*g.Cols || g.Rows < 1 || g.Cols < 1 {
					t.Fatalf("task %q: accepted a %d×%d grid of %d values", task, g.Rows, g.Cols, len(g.Values))
				}
			}
		}
		// What is accepted can be drawn's checks pass (the colour scale).
		if len(grids) > 0 {
			_, _, _ = plots.Options{}.GateScale(grids)
		}
	})
}
