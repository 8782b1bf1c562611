package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDirName(t *testing.T) {
	tests := []struct {
		step int
		name string
	}{
		{0, "ckpt-000000"},
		{100, "ckpt-000100"},
		{999999, "ckpt-999999"},
		{1234567, "ckpt-1234567"},
	}
	for _, tt := range tests {
		if got := DirName(tt.step); got != tt.name {
			t.Errorf("DirName(%d) = %q, want %q", tt.step, got, tt.name)
		}
		if step, ok := parseDirName(tt.name); !ok || step != tt.step {
			t.Errorf("parseDirName(%q) = %d, %v", tt.name, step, ok)
		}
	}
	for _, bad := range []string{"ckpt-100", "ckpt-0001000", "ckpt-00010a", "ckpt--00001", "latest", ".ckpt-000100.tmp-1", "ckpt-000100.old", "ckpt-+00100"} {
		if _, ok := parseDirName(bad); ok {
			t.Errorf("parseDirName(%q) accepted", bad)
		}
	}
}

// saveSteps saves sample checkpoints at the given steps into run with SaveRun.
func saveSteps(t *testing.T, run string, keep int, steps ...int) {
	t.Helper()
	for _, s := range steps {
		c := sample()
		c.Step = s
		dir, err := SaveRun(run, c, keep)
		if err != nil {
			t.Fatal(err)
		}
		if dir != filepath.Join(run, DirName(s)) {
			t.Fatalf("SaveRun returned %s", dir)
		}
	}
}

func listed(t *testing.T, run string) string {
	t.Helper()
	list, err := List(run)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list {
		names = append(names, filepath.Base(c.Dir))
	}
	return strings.Join(names, " ")
}

func TestSaveRunKeepsTheNewest(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	saveSteps(t, run, 2, 100, 200, 300, 400, 500)
	if got := listed(t, run); got != "ckpt-000400 ckpt-000500" {
		t.Errorf("checkpoints %q, want the 2 newest", got)
	}
	if b, _ := os.ReadFile(filepath.Join(run, LatestFile)); string(b) != "ckpt-000500\n" {
		t.Errorf("latest holds %q", b)
	}
	c, dir, err := LoadLatest(run)
	if err != nil || c.Step != 500 || dir != filepath.Join(run, "ckpt-000500") {
		t.Fatalf("LoadLatest: %v %s %v", c, dir, err)
	}
	// Only checkpoints, latest, nothing temporary.
	if names := entries(t, run); strings.Join(names, " ") != "ckpt-000400 ckpt-000500 latest" {
		t.Errorf("run holds %v", names)
	}
	// keep <= 0 keeps everything.
	saveSteps(t, run, 0, 600, 700, 800)
	if got := listed(t, run); got != "ckpt-000400 ckpt-000500 ckpt-000600 ckpt-000700 ckpt-000800" {
		t.Errorf("keep 0: %q", got)
	}
}

func TestLatestFollowsTheFile(t *testing.T) {
	run := t.TempDir()
	saveSteps(t, run, 0, 100, 200)
	// Saving an earlier step again (e.g. after resuming from it) moves latest back.
	saveSteps(t, run, 0, 100)
	if dir, err := Latest(run); err != nil || filepath.Base(dir) != "ckpt-000100" {
		t.Fatalf("Latest: %s %v", dir, err)
	}
	// Without the file, the newest checkpoint that verifies.
	os.Remove(filepath.Join(run, LatestFile))
	if dir, err := Latest(run); err != nil || filepath.Base(dir) != "ckpt-000200" {
		t.Fatalf("Latest without the file: %s %v", dir, err)
	}
	os.Truncate(filepath.Join(run, "ckpt-000200", ModelFile), 10)
	if dir, err := Latest(run); err != nil || filepath.Base(dir) != "ckpt-000100" {
		t.Fatalf("Latest with the newest corrupted: %s %v", dir, err)
	}
}

func TestLatestErrors(t *testing.T) {
	empty := t.TempDir()
	if _, err := Latest(empty); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("empty run: %v", err)
	}
	if _, _, err := LoadLatest(filepath.Join(empty, "missing")); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("missing run: %v", err)
	}

	run := t.TempDir()
	saveSteps(t, run, 0, 100, 200)
	os.WriteFile(filepath.Join(run, LatestFile), []byte("../../etc\n"), 0o644)
	if _, err := Latest(run); err == nil || !strings.Contains(err.Error(), filepath.Join(run, LatestFile)+":1:") || !strings.Contains(err.Error(), "is not a checkpoint directory name") {
		t.Errorf("garbage in latest: %v", err)
	}
	os.WriteFile(filepath.Join(run, LatestFile), []byte("ckpt-000300\n"), 0o644)
	if _, err := Latest(run); err == nil || !strings.Contains(err.Error(), "names ckpt-000300, which is missing") ||
		!strings.Contains(err.Error(), "the newest checkpoint that verifies is "+filepath.Join(run, "ckpt-000200")) {
		t.Errorf("latest naming a missing checkpoint: %v", err)
	}
	// A corrupted latest checkpoint is reported, never silently replaced by an older one.
	os.WriteFile(filepath.Join(run, LatestFile), []byte("ckpt-000200\n"), 0o644)
	flipAt(0.5)(filepath.Join(run, "ckpt-000200", ModelFile))
	_, dir, err := LoadLatest(run)
	if !errors.Is(err, ErrCorrupt) || filepath.Base(dir) != "ckpt-000200" ||
		!strings.Contains(err.Error(), "SHA-256 mismatch") || !strings.Contains(err.Error(), "the newest checkpoint that verifies is "+filepath.Join(run, "ckpt-000100")) {
		t.Errorf("corrupted latest: %v", err)
	}
}

func TestPruneSparesTheNewestGood(t *testing.T) {
	run := t.TempDir()
	saveSteps(t, run, 0, 100, 200, 300, 400)
	// The two newest are corrupted; latest names 400.
	for _, s := range []int{300, 400} {
		os.Remove(filepath.Join(run, DirName(s), OptimizerFile))
	}
	if err := Prune(run, 1); err != nil {
		t.Fatal(err)
	}
	if got := listed(t, run); got != "ckpt-000200 ckpt-000400" {
		t.Errorf("after Prune(1): %q, want the newest (the latest) and the newest good one", got)
	}
	// latest names an old checkpoint: it is spared too.
	saveSteps(t, run, 0, 500, 600)
	os.WriteFile(filepath.Join(run, LatestFile), []byte("ckpt-000200\n"), 0o644)
	if err := Prune(run, 2); err != nil {
		t.Fatal(err)
	}
	if got := listed(t, run); got != "ckpt-000200 ckpt-000500 ckpt-000600" {
		t.Errorf("after Prune(2): %q", got)
	}
	if err := Prune(run, 0); err == nil {
		t.Error("Prune(0) succeeded")
	}
	// Other entries of the run directory are never touched.
	os.WriteFile(filepath.Join(run, "metrics.jsonl"), nil, 0o644)
	os.Mkdir(filepath.Join(run, "ckpt-best"), 0o755)
	if err := Prune(run, 1); err != nil {
		t.Fatal(err)
	}
	for _, keep := range []string{"metrics.jsonl", "ckpt-best", "ckpt-000200", "ckpt-000600"} {
		if _, err := os.Stat(filepath.Join(run, keep)); err != nil {
			t.Errorf("Prune removed %s", keep)
		}
	}
}
