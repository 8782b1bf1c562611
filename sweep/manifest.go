package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/hypergrid-go/hypergrid/checkpoint"

	"github.com/hypergrid-go/hypergrid/internal/fileio"
)

// ManifestFile is the sweep's manifest in its folder.
const ManifestFile = "sweep.json"

// ManifestFormat is the version of the manifest's layout.
const ManifestFormat = 1

// maxManifest bounds the manifest file read (MaxRuns runs of long names fit).
const maxManifest = 16 << 20

// Manifest is what a sweep was asked to do: written before its first run starts, and
// compared by a second invocation, which continues the sweep only when it asks the
// same.
type Manifest struct {
	// Format is ManifestFormat.
	Format int `json:"format"`
	// Recipe is the recipe argument (a file or a shipped recipe's name).
	Recipe string `json:"recipe"`
	// Sets are the --set overrides every run gets.
	Sets []string `json:"sets,omitempty"`
	// Grid holds the --grid axes, in order.
	Grid []Axis `json:"grid"`
	// Seeds are the train.seed values of each grid point.
	Seeds []uint64 `json:"seeds"`
	// Steps overrides train.steps when positive; Data the recipe's data.dir when set.
	Steps int    `json:"steps,omitempty"`
	Data  string `json:"data,omitempty"`
	// Runs lists the runs, in order.
	Runs []Point `json:"runs"`
}

// Same reports what differs between two manifests ("" when they ask the same sweep).
func (m *Manifest) Same(o *Manifest) string {
	switch {
	case m.Recipe != o.Recipe:
		return fmt.Sprintf("recipe %s, not %s", o.Recipe, m.Recipe)
	case !slices.Equal(m.Sets, o.Sets):
		return fmt.Sprintf("--set %v, not %v", o.Sets, m.Sets)
	case m.Steps != o.Steps:
		return fmt.Sprintf("--steps %d, not %d", o.Steps, m.Steps)
	case m.Data != o.Data:
		return fmt.Sprintf("--data %q, not %q", o.Data, m.Data)
	case !slices.Equal(m.Seeds, o.Seeds):
		return fmt.Sprintf("seeds %v, not %v", o.Seeds, m.Seeds)
	}
	a, _ := json.Marshal(m.Grid)
	b, _ := json.Marshal(o.Grid)
	if !bytes.Equal(a, b) {
		return fmt.Sprintf("grid %s, not %s", b, a)
	}
	return ""
}

// WriteManifest writes m to dir/ManifestFile atomically.
func WriteManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, ManifestFile), append(b, '\n'))
}

// ReadManifest reads dir/ManifestFile; an error wrapping os.ErrNotExist means the
// folder holds no sweep.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := fileio.ReadRegular(path, "sweep manifest", maxManifest)
	if err != nil {
		return nil, err
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %v; it is written by hypergrid sweep: move it away to start a new sweep there", path, err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("%s: format %d, this program reads format %d", path, m.Format, ManifestFormat)
	}
	if len(m.Runs) > MaxRuns {
		return nil, fmt.Errorf("%s: %d runs; at most %d", path, len(m.Runs), MaxRuns)
	}
	return &m, nil
}
