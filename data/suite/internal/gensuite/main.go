// Command gensuite writes the generated files of the default suite (package
// data/suite) into a folder. It is run by "go generate" in data/suite.
//
// Usage:
//
//	go run ./internal/gensuite -out files
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hypergrid-go/hypergrid/data/suite/internal/synth"
)

func main() {
	out := flag.String("out", "files", "folder to write the suite's files into")
	flag.Parse()
	for name, content := range synth.Files() {
		path := filepath.Join(*out, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "gensuite:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gensuite:", err)
			os.Exit(1)
		}
	}
}
