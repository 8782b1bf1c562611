package recipe

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
)

// Snapshot is a recipe as a checkpoint stores it: the text of every file the load read
// (the recipe, then its includes) and the --set overrides, so that the same recipe can
// be loaded again from the checkpoint alone, wherever it is moved.
type Snapshot struct {
	// Main is the recipe's own file name (as Info.Files[0]).
	Main string `json:"main"`
	// Files maps each file name read to its text.
	Files map[string]string `json:"files"`
	// Sets are the --set overrides, in order.
	Sets []string `json:"sets,omitempty"`
	// WorkDir is the absolute working folder the recipe was loaded from: relative
	// file names in Files, and the dir of a task defined in the recipe, are relative
	// to it. Empty in snapshots written before it existed (the current folder).
	WorkDir string `json:"work_dir,omitempty"`
	// InitFrom and Init are the recipe's model.init.from and the recipe stored in that
	// checkpoint (which gives the architecture), kept so that the run loads again
	// without the checkpoint it started from.
	InitFrom string    `json:"init_from,omitempty"`
	Init     *Snapshot `json:"init,omitempty"`
}

// Snapshot returns what a checkpoint stores of the recipe r was loaded from.
func (i *Info) Snapshot() *Snapshot {
	s := &Snapshot{Files: map[string]string{}, Sets: slices.Clone(i.sets), WorkDir: i.workDir}
	s.InitFrom, s.Init = i.initFrom, i.initSnap
	if len(i.Files) > 0 {
		s.Main = i.Files[0]
	}
	for _, f := range i.Files {
		s.Files[f] = i.st.texts[f]
	}
	return s
}

// JSON returns the snapshot as JSON.
func (s *Snapshot) JSON() json.RawMessage {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	return b
}

// ParseSnapshot decodes a snapshot stored as JSON.
func ParseSnapshot(raw []byte) (*Snapshot, error) {
	var s Snapshot
	if len(raw) == 0 {
		return nil, fmt.Errorf("no recipe is stored: the program that trained it did not store one (hypergrid train does; a Go program calling train.New gives train.Options.State the recipe's Info.Snapshot, as job.Prepare does); define your tasks in a recipe's data.tasks and train it with hypergrid train")
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("the stored recipe cannot be read: %v", err)
	}
	if s.Main == "" || s.Files[s.Main] == "" && len(s.Files) == 0 {
		return nil, fmt.Errorf("the stored recipe names no files")
	}
	return &s, nil
}

// Load loads the snapshot's recipe, with extra --set overrides applied after its own.
func (s *Snapshot) Load(extraSets ...string) (*Recipe, error) {
	l := Loader{Sets: append(slices.Clone(s.Sets), extraSets...), WorkDir: s.WorkDir, ReadFile: func(name string) ([]byte, error) {
		if t, ok := s.Files[name]; ok {
			return []byte(t), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("not stored with the recipe: %w", fs.ErrNotExist)}
	}, Init: func(from string) (*Snapshot, error) {
		if s.Init != nil && from == s.InitFrom {
			return s.Init, nil
		}
		return ReadInitSnapshot(from)
	}}
	return l.Load(s.Main)
}
