package recipe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorPositions checks that each error points at the line of the value at fault,
// or at the --set flag that gave it, and that it is reported once.
func TestErrorPositions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := write("base.yaml", "model:\n  d_model: 64\ntrain:\n  weight_decay: 0.01\n  clip_norm: 1.0\n")
	tests := []struct {
		name string
		file string
		sets []string
		want string
	}{
		{"clip_norm from --set points at the flag", base, []string{"train.clip_norm=-1"},
			"--set train.clip_norm=-1: train.clip_norm: is -1; want 0 (no clipping)"},
		{"weight_decay in the file points at its line", write("wd.yaml", "model:\n  d_model: 64\ntrain:\n  weight_decay: -1\n  clip_norm: 1.0\n"), nil,
			"wd.yaml:4:17: train.weight_decay: is -1"},
		{"clip_norm in the file points at its own line", write("cn.yaml", "model:\n  d_model: 64\ntrain:\n  weight_decay: 0.01\n  clip_norm: -2\n"), nil,
			"cn.yaml:5:14: train.clip_norm: is -2"},
		{"a --set model value points at the flag", base, []string{"model.heads=0"},
			"--set model.heads=0: model.heads: is 0"},
		{"a YAML syntax error on line 2", write("syn.yaml", "model:\n  d_model: [1\n"), nil,
			"syn.yaml:2: invalid YAML: did not find expected ',' or ']'"},
		{"a YAML syntax error on line 3", write("syn3.yaml", "model:\n  d_model: 1\n  x: {a: 1\n"), nil,
			"syn3.yaml:3: invalid YAML"},
		{"a misplaced tab", write("tab.yaml", "model:\n  d_model: 1\n\theads: 2\n"), nil,
			"tab.yaml:3: invalid YAML: found a tab character"},
		{"an invalid pluggable setting, once", write("grid.yaml", "model:\n  ffn:\n    type: ffn.hypergrid\n    grid: {rows: 0, cols: 8}\n"), nil,
			"grid.yaml:4:18: model.ffn.grid.rows: is 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.file, tc.sets...)
			if err == nil {
				t.Fatal("no error")
			}
			msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("error:\n%s\nwant it to contain:\n%s", msg, tc.want)
			}
			if n := strings.Count(msg, tc.want); n != 1 {
				t.Errorf("reported %d times:\n%s", n, msg)
			}
		})
	}
}

// TestIncludeRules checks where includes may come from (see resolveInclude).
func TestIncludeRules(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "secret.yaml")
	if err := os.WriteFile(outside, []byte("password: hunter2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "r")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(sub, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, text, want string
	}{
		{"parent folder", "include: ../secret.yaml\n", "outside the recipe's folder"},
		{"absolute path", "include: " + outside + "\n", "absolute path"},
		{"unknown shipped name", "include: t5-mega\n", `"t5-mega" is not a shipped recipe`},
		{"a device", "include: /dev/zero\n", "absolute path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write("r.yaml", tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "password") {
				t.Fatalf("the error shows the content of a file outside the recipe: %v", err)
			}
		})
	}
	r, err := Load(write("ok.yaml", "include: t5-mini\ntrain: {steps: 5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Model.DModel != 256 || r.Train.Steps != 5 || r.Source.Files[1] != ShippedPrefix+"t5-mini.yaml" {
		t.Errorf("include of a shipped recipe by name: d_model %d, steps %d, files %v", r.Model.DModel, r.Train.Steps, r.Source.Files)
	}
	if r, err := Load("t5-mini-hypergrid"); err != nil || r.Source.Files[0] != ShippedPrefix+"t5-mini-hypergrid.yaml" {
		t.Errorf("shipped recipe by name: %v", err)
	}
}

// TestNonRegularFiles checks that a recipe that is not a regular file is refused without
// being read (a device would never end, a FIFO would hang).
func TestNonRegularFiles(t *testing.T) {
	for _, p := range []string{"/dev/zero", "/dev/urandom", t.TempDir()} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Load(%s) = %v, want a not-a-regular-file error", p, err)
		}
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("Load(big) = %v", err)
	}
}
