package recipe

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// workDir returns the absolute folder relative recipe file names are relative to.
func (l Loader) workDir() string {
	if l.WorkDir != "" {
		return l.WorkDir
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	return wd
}

// resolveTaskDirs makes the dir of every task defined in the recipe's data.tasks
// absolute: a relative dir is relative to the folder of the recipe file that sets it
// (or that defines the task, when it leaves dir out: the file's own folder). A task
// given by a --set flag or in a shipped recipe is relative to the working folder.
func (r *Recipe) resolveTaskDirs() {
	for i := range r.Data.Tasks {
		t := &r.Data.Tasks[i]
		if t.Registered || filepath.IsAbs(t.Dir) {
			continue
		}
		base := r.Source.workDir
		pos, _ := r.Source.Position(fmt.Sprintf("data.tasks[%d].dir", i))
		if pos.Set == "" && pos.File != "" && !strings.HasPrefix(pos.File, ShippedPrefix) {
			dir := filepath.Dir(pos.File)
			if filepath.IsAbs(dir) {
				base = dir
			} else {
				base = filepath.Join(base, dir)
			}
		}
		t.Dir = filepath.Clean(filepath.Join(base, filepath.FromSlash(t.Dir)))
	}
}
