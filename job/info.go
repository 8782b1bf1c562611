package job

import (
	"encoding/json"
	"fmt"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/recipe"
)

// The state sections a run stores in its checkpoints, besides the trainer's.
const (
	// StateRecipe holds the recipe's recipe.Snapshot.
	StateRecipe = "recipe"
	// StateRun holds the run's Info.
	StateRun = "run"
	// StateTasks holds the definitions (data.TaskDef, as JSON) of the run's tasks, in
	// the order of data.tasks: a checkpoint answers its tasks even where a task is not
	// registered (a task a Go program registered, say).
	StateTasks = "tasks"
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
	// Ranks is the number of data-parallel ranks the run trained on (0 in checkpoints
	// written before it was recorded: one).
	Ranks int `json:"ranks,omitempty"`
	// AddTask names the task the run added to a trained model (train --from RUN
	// --add-task NAME): the run trains only that task's own parameters, and a resume
	// does the same. Empty for an ordinary run.
	AddTask string `json:"add_task,omitempty"`
}

// RanksChange describes resuming a run trained on info.Ranks ranks with now ranks: ""
// when they are the same, else what changes.
func RanksChange(info Info, now int) string {
	was := max(info.Ranks, 1)
	if was == now {
		return ""
	}
	return fmt.Sprintf("the run trained on %d rank(s) and resumes on %d: the global batch (train.batch_size) and the data order stay the same, "+
		"but each step's gradient is summed in another order, so the losses continue the run to float rounding, not bit for bit, and dropout draws other masks", was, now)
}

// state returns the checkpoint state sections of a run with recipe snapshot raw.
func state(recipe json.RawMessage, info Info) map[string]json.RawMessage {
	b, err := json.Marshal(info)
	if err != nil {
		panic(err)
	}
	return map[string]json.RawMessage{StateRecipe: recipe, StateRun: b}
}

// runState returns the checkpoint state sections of a run: state's, and the
// definitions of its tasks.
func runState(r *recipe.Recipe, info Info, defs []data.TaskDef) map[string]json.RawMessage {
	st := state(r.Source.Snapshot().JSON(), info)
	b, err := json.Marshal(defs)
	if err != nil {
		panic(err) // plain data always marshals
	}
	st[StateTasks] = b
	return st
}

// storedTasks reads a checkpoint's task definitions (nil in checkpoints written before
// they were stored), each validated.
func storedTasks(c *checkpoint.Checkpoint) ([]data.TaskDef, error) {
	raw := c.State[StateTasks]
	if len(raw) == 0 {
		return nil, nil
	}
	var defs []data.TaskDef
	if err := json.Unmarshal(raw, &defs); err != nil {
		return nil, fmt.Errorf("the stored task definitions cannot be read: %v", err)
	}
	for i := range defs {
		if err := defs[i].Validate(); err != nil {
			return nil, fmt.Errorf("a stored task definition is invalid: %w", err)
		}
	}
	return defs, nil
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
