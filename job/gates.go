package job

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hypergrid-go/hypergrid/internal/fileio"
	"github.com/hypergrid-go/hypergrid/plots"
)

// GatesFile holds a run's mean HyperGrid gates per task and layer (what its
// gates_<task>.png images show), as of its last periodic checkpoint or its end, for
// reports that draw several tasks or runs on one colour scale.
const GatesFile = "gates.json"

// maxGatesFile bounds the gates file read.
const maxGatesFile = 256 << 20

// gateGrid is one layer's grid in GatesFile.
type gateGrid struct {
	Layer  string    `json:"layer"`
	Rows   int       `json:"rows"`
	Cols   int       `json:"cols"`
	Values []float32 `json:"values"`
}

// WriteGates writes grids (task → layers) to dir/GatesFile atomically. Non-finite
// gate values (a diverged run) cannot be written as JSON: that is an error.
func WriteGates(dir string, grids map[string][]plots.Grid) error {
	out := map[string][]gateGrid{}
	for task, gs := range grids {
		for _, g := range gs {
			out[task] = append(out[task], gateGrid{Layer: g.Layer, Rows: g.Rows, Cols: g.Cols, Values: g.Values})
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("gate values of %s: %w", dir, err)
	}
	path := filepath.Join(dir, GatesFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadGates reads dir/GatesFile (an error wrapping os.ErrNotExist when the run wrote
// none: it has no HyperGrid layer, did not finish, or was made before the file
// existed). Each grid's shape is checked against its values.
func ReadGates(dir string) (map[string][]plots.Grid, error) {
	path := filepath.Join(dir, GatesFile)
	b, err := fileio.ReadRegular(path, "gate values", maxGatesFile)
	if err != nil {
		return nil, err
	}
	var in map[string][]gateGrid
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	out := map[string][]plots.Grid{}
	for task, gs := range in {
		for _, g := range gs {
			if g.Rows < 1 || g.Cols < 1 || g.Rows > len(g.Values) || len(g.Values) != g.Rows*g.Cols {
				return nil, fmt.Errorf("%s: task %q, layer %q: %d values for a %d×%d grid", path, task, g.Layer, len(g.Values), g.Rows, g.Cols)
			}
			out[task] = append(out[task], plots.Grid{Layer: g.Layer, Rows: g.Rows, Cols: g.Cols, Values: g.Values})
		}
	}
	return out, nil
}
