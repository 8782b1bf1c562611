package job

import (
	"encoding/json"
	"fmt"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/recipe"
)

// The state sections a run stores in its checkpoints, besides the trainer's.
const (
	// StateRecipe holds the recipe's recipe.Snapshot.
	StateRecipe = "recipe"
	// StateRun holds the run's Info.
	StateRun = "run"
	// StateDevAverage holds the dev average of a best checkpoint.
	StateDevAverage = "dev_average"
)

// Info is what a run was started with besides its recipe, stored in its checkpoints so
// that --resume, eval and predict use the same settings.
type Info struct {
	// DataDir is the data folder the run read (--data), "" for the recipe's data.dir or
	// the embedded suite.
	DataDir string `json:"data_dir,omitempty"`
	// Steps is the number of steps the run was asked for (--steps, or train.steps).
	Steps int `json:"steps"`
}

// state returns the checkpoint state sections of a run with recipe snapshot raw.
func state(recipe json.RawMessage, info Info) map[string]json.RawMessage {
	b, err := json.Marshal(info)
	if err != nil {
		panic(err)
	}
	return map[string]json.RawMessage{StateRecipe: recipe, StateRun: b}
}

// parseInfo reads a checkpoint's run section (absent in checkpoints written before it
// existed: the zero Info).
func parseInfo(raw json.RawMessage) (Info, error) {
	var info Info
	if len(raw) == 0 {
		return info, nil
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		return info, fmt.Errorf("the run's settings cannot be read: %v", err)
	}
	return info, nil
}

// Stored returns what a run's checkpoint holds of how it was started: its Info and its
// recipe's snapshot.
func Stored(c *checkpoint.Checkpoint) (Info, *recipe.Snapshot, error) {
	info, err := parseInfo(c.State[StateRun])
	if err != nil {
		return info, nil, err
	}
	snap, err := recipe.ParseSnapshot(c.State[StateRecipe])
	return info, snap, err
}
