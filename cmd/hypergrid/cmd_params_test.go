package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/internal/golden"
)

// TestParamsTotals checks the acceptance numbers: the shipped t5-mini recipes have
// exactly the parameter counts of the PyTorch reference (shared/bench/torch_t5.py).
func TestParamsTotals(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"params", "../../recipes/t5-mini.yaml"}, "total_params=13539072"},
		{[]string{"params", "../../recipes/t5-mini-hypergrid.yaml"}, "total_params=13604864"},
		// A shipped recipe by name, with an override after the recipe: 16 row blocks
		// halve the local projection (8 blocks × 256·16 fewer values).
		{[]string{"params", "t5-mini-hypergrid", "--set", "model.ffn.grid.rows=16"}, "total_params=13572096"},
		{[]string{"params", "--set=model.ffn.grid.rows=16", "t5-mini-hypergrid"}, "total_params=13572096"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit status %d, stderr:\n%s", tc.args, code, errb.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if last := lines[len(lines)-1]; last != tc.want {
			t.Errorf("%v: last line %q, want %q", tc.args, last, tc.want)
		}
	}
}

// TestParamsRecipeErrors checks that a bad recipe prints all its errors, each with its
// position, and exits with status 2.
func TestParamsRecipeErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	recipe := `include: t5-mini
model:
  d_modle: 256
  heads: four
  ffn:
    type: ffn.hypergrid
    d_ff: 1000
    grid: {rows: 48, cols: 32}
`
	if err := os.WriteFile(bad, []byte(recipe), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"three errors", []string{"params", bad}, []string{
			"3 errors in recipe:",
			bad + ":3:3: model.d_modle: unknown key \"d_modle\" in model; did you mean \"d_model\"?",
			bad + ":4:10: model.heads: expected an integer, got string \"four\"",
			bad + ":8:18: model.ffn.grid.rows: is 48, which does not divide d_ff (1000)",
		}},
		{"bad --set", []string{"params", "t5-mini", "--set", "model.ffn.grid.rows=16"}, []string{
			`--set model.ffn.grid.rows=16: model.ffn.grid: unknown key "grid" in model.ffn`,
		}},
		{"shape error at build", []string{"params", "t5-mini-hypergrid", "--set", "model.ffn.grid.cols=24"}, []string{
			"--set model.ffn.grid.cols=24: model.ffn.grid.cols: is 24, which does not divide d_model (256)",
		}},
		{"no recipe", []string{"params"}, []string{"params takes one recipe"}},
		{"two recipes", []string{"params", "t5-mini", "t5-mini"}, []string{"params takes one recipe"}},
		{"missing file", []string{"params", filepath.Join(dir, "nope.yaml")}, []string{"nope.yaml: cannot read recipe"}},
		{"misspelled shipped recipe", []string{"params", "t5-mni"}, []string{`t5-mni: cannot read recipe`, `shipped recipe: default,`, `(did you mean "t5-mini"?)`}},
		{"malformed --set", []string{"params", "t5-mini", "--set", "nokey"}, []string{"want KEY=VALUE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tc.args, &out, &errb); code != 2 {
				t.Fatalf("exit status %d, want 2; stderr:\n%s", code, errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errb.String())
				}
			}
			if out.Len() != 0 {
				t.Errorf("stdout not empty:\n%s", out.String())
			}
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestParamsReportGolden compares the whole report for the shipped recipes with
// testdata/params/NAME.golden (go test -update rewrites them).
func TestParamsReportGolden(t *testing.T) {
	for _, name := range []string{"t5-mini", "t5-mini-hypergrid", "encoder-classifier"} {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run([]string{"params", name}, &out, &errb); code != 0 {
				t.Fatalf("exit status %d: %s", code, errb.String())
			}
			golden.Check(t, filepath.Join("testdata", "params", name+".golden"), out.Bytes())
		})
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 13604864: "13,604,864", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestGroup(t *testing.T) {
	for name, want := range map[string]string{
		"embedding":                              "embedding",
		"lm_head":                                "lm_head",
		"encoder.block.3.ffn.wo":                 "encoder.ffn",
		"encoder.block.0.ffn.grid.local_rows":    "encoder.ffn",
		"decoder.block.1.cross_attn.k":           "decoder.cross_attn",
		"decoder.block.0.cross_attn_norm.weight": "decoder.norms",
		"decoder.final_norm.weight":              "decoder.norms",
		"heads.sst2.weight":                      "heads.sst2",
	} {
		if got := group(name); got != want {
			t.Errorf("group(%q) = %q, want %q", name, got, want)
		}
	}
}
