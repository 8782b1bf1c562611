package recipe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A --set key may index a list (data.tasks[1].dir): the entry it names is changed and
// the rest of the recipe kept; a path that does not lead through the recipe is an
// error naming the flag and saying why.
func TestSetIndexesLists(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	text := `include: default
data:
  tasks:
    - sentiment
    - {name: pretrain, kind: span_corruption, dir: corpus}
`
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path, "data.tasks[1].dir=other", "data.tasks[1].span={noise_density: 0.3}")
	if err != nil {
		t.Fatal(err)
	}
	tasks := r.Data.Tasks
	if len(tasks) != 2 || tasks[0].Name != "sentiment" || tasks[1].Name != "pretrain" || filepath.Base(tasks[1].Dir) != "other" ||
		tasks[1].Span == nil || tasks[1].Span.NoiseDensity != 0.3 {
		t.Fatalf("tasks after the overrides: %+v", tasks)
	}
	r, err = Load(path, "data.tasks[0]=paraphrase")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Data.Tasks[0].Name; got != "paraphrase" || len(r.Data.Tasks) != 2 {
		t.Fatalf("replacing an entry: %+v", r.Data.Tasks)
	}
	for _, tc := range []struct{ set, want string }{
		{"data.tasks[2].dir=x", "--set data.tasks[2].dir=x: data.tasks has 2 entries (indices 0 to 1); there is no [2]"},
		{"data.tasks[0].dir=x", `data.tasks[0] is "sentiment", a bare value with no keys to set: replace the whole entry`},
		{"data.mixture[0].kind=x", "data.mixture is not a list: an index [0] needs a list"},
		{"train.schedules[0]=x", "train.schedules is not set: an index [0] needs a list"},
		{"data.tasks[x].dir=y", "an index is a number in brackets"},
		{"data.tasks[.dir=y", "want a name with optional [index] suffixes"},
		{"data.tasks[1].nope=1", "nope"},
	} {
		_, err := Load(path, tc.set)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set %s: %v; want an error containing %q", tc.set, err, tc.want)
		}
	}
}
