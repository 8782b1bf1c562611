// Package recipes holds the YAML recipes shipped with HyperGrid, embedded so that a
// program can use them by name wherever it runs ("hypergrid params t5-mini").
//
//   - default: what `hypergrid train` trains with no recipe: a small HyperGrid T5 (LG
//     8×8 grids on every wo) on the embedded suite's three tasks, a few minutes on two
//     cores.
//   - t5-mini: the dense T5.1.1-style encoder-decoder baseline (13,539,072 parameters).
//   - t5-mini-hypergrid: t5-mini with the paper's LG 32×32 HyperGrid on every block's
//     wo, conditioned on the first token (13,604,864 parameters).
//   - glue-mini, glue-mini-hypergrid: t5-mini and t5-mini-hypergrid on SST-2, MRPC,
//     STS-B and RTE (give the GLUE folder with --data).
//   - encoder-classifier: an encoder-only HyperGrid model with one head per task, on
//     the embedded suite.
//
// The files are ordinary recipes; see package recipe for their format. A recipe of
// one's own can start from one of these with `include: t5-mini`.
package recipes

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// FS is the shipped recipes, one file per recipe at the top level ("t5-mini.yaml").
var FS fs.FS = files

// Names returns the names of the shipped recipes (file names without ".yaml"), sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Lookup returns the file name ("t5-mini.yaml") of the shipped recipe called name, with
// or without its ".yaml" suffix.
func Lookup(name string) (file string, ok bool) {
	file = path.Base(name)
	if file != name {
		return "", false
	}
	if !strings.HasSuffix(file, ".yaml") {
		file += ".yaml"
	}
	if _, err := fs.Stat(files, file); err != nil {
		return "", false
	}
	return file, true
}

// ReadFile reads a shipped recipe file ("t5-mini.yaml").
func ReadFile(name string) ([]byte, error) {
	return fs.ReadFile(files, path.Clean(strings.ReplaceAll(name, "\\", "/")))
}
