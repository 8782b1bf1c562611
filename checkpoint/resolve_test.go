package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// stepCheckpoint returns the checkpoint of step: every value, file and section is a
// function of step, so a loaded checkpoint can be compared with the one saved.
func stepCheckpoint(step, n int) *Checkpoint {
	w := make([]float32, n*n)
	for i := range w {
		w[i] = float32(step) + float32(i)/float32(len(w))
	}
	m := make([]float32, n*n)
	for i := range m {
		m[i] = float32(math.Sin(float64(step*len(m) + i)))
	}
	b := make([]float32, n)
	for i := range b {
		b[i] = -float32(step)
	}
	return &Checkpoint{
		Step:      step,
		Model:     []Tensor{{Name: "w", Shape: []int{n, n}, Data: w}, {Name: "b", Shape: []int{n}, Data: b}},
		Optimizer: []Tensor{{Name: "w.m", Shape: []int{n, n}, Data: m}},
		State:     map[string]json.RawMessage{"sampler": json.RawMessage(fmt.Sprintf(`{"step":%d}`, step))},
		Files:     map[string][]byte{"tokenizer.model": []byte(strings.Repeat(fmt.Sprintf("step %d\n", step), 100))},
		Metadata:  map[string]string{"step": fmt.Sprint(step)},
	}
}

// sameCheckpoint returns "" when got equals want, else what differs.
func sameCheckpoint(got, want *Checkpoint) string {
	switch {
	case got.Step != want.Step:
		return fmt.Sprintf("step %d, want %d", got.Step, want.Step)
	case !reflect.DeepEqual(got.Model, want.Model):
		return "the model differs"
	case !reflect.DeepEqual(got.Optimizer, want.Optimizer):
		return "the optimizer state differs"
	case !reflect.DeepEqual(got.Files, want.Files):
		return "the files differ"
	case !reflect.DeepEqual(got.Metadata, want.Metadata):
		return "the metadata differs"
	case len(got.State) != len(want.State):
		return "the state sections differ"
	}
	for name, raw := range want.State {
		var a, b bytes.Buffer
		if json.Compact(&a, raw) != nil || json.Compact(&b, got.State[name]) != nil || a.String() != b.String() {
			return "state section " + name + " differs"
		}
	}
	return ""
}

// needLocks skips a test on a system where lockDir cannot lock (Resolve repairs
// nothing there, and saves and loads go unsynchronised).
func needLocks(t *testing.T) {
	t.Helper()
	unlock, locked := lockDir(t.TempDir(), true, false)
	unlock()
	if !locked {
		t.Skip("this system cannot lock directories")
	}
}

// crashSave saves old as dir, then saves next over it stopping at stage as if the
// process died there.
func crashSave(t *testing.T, dir string, old, next *Checkpoint, stage string) {
	t.Helper()
	if err := Save(dir, old); err != nil {
		t.Fatal(err)
	}
	crashAt = stage
	err := Save(dir, next)
	crashAt = ""
	if !errors.Is(err, errSimulatedCrash) {
		t.Fatalf("Save: %v, want the simulated crash", err)
	}
}

func TestResolveFindsCheckpoints(t *testing.T) {
	root := t.TempDir()
	ckpt := filepath.Join(root, "ckpt")
	if err := Save(ckpt, stepCheckpoint(1, 2)); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(root, "run")
	if err := Save(filepath.Join(run, CheckpointDir), stepCheckpoint(2, 2)); err != nil {
		t.Fatal(err)
	}
	if err := Save(filepath.Join(run, BestDir), stepCheckpoint(3, 2)); err != nil {
		t.Fatal(err)
	}
	saveRun := filepath.Join(root, "saverun")
	saveSteps(t, saveRun, 0, 10, 20)
	for _, c := range []struct {
		arg, want string
		step      int
	}{
		{ckpt, ckpt, 1},
		{ckpt + "/", ckpt, 1},
		{run, filepath.Join(run, CheckpointDir), 2},
		{filepath.Join(run, CheckpointDir), filepath.Join(run, CheckpointDir), 2},
		{filepath.Join(run, BestDir), filepath.Join(run, BestDir), 3},
		{saveRun, filepath.Join(saveRun, DirName(20)), 20},
	} {
		dir, err := Resolve(c.arg)
		if err != nil || dir != c.want {
			t.Errorf("Resolve(%s) = %s, %v; want %s", c.arg, dir, err, c.want)
			continue
		}
		got, dir, err := LoadResolved(c.arg)
		if err != nil || dir != c.want || got.Step != c.step {
			t.Errorf("LoadResolved(%s) = step %v, %s, %v; want step %d from %s", c.arg, got, dir, err, c.step, c.want)
		}
	}
}

func TestResolveNothingFound(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Resolve(run)
	want := fmt.Sprintf("no checkpoint in %s: expected %s (a run's output directory) or %s (a checkpoint directory); train with --out %s first",
		run, filepath.Join(run, "checkpoint", "manifest.json"), filepath.Join(run, "manifest.json"), run)
	if !errors.Is(err, ErrNoCheckpoint) || err.Error() != want {
		t.Errorf("empty run directory: %v\nwant %s", err, want)
	}
	// A run with only a best checkpoint: named, not taken.
	if err := Save(filepath.Join(run, BestDir), stepCheckpoint(5, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(run); !errors.Is(err, ErrNoCheckpoint) || !strings.HasSuffix(err.Error(), " ("+filepath.Join(run, "best")+" holds the run's best checkpoint: name it to use that one)") {
		t.Errorf("run with best only: %v", err)
	}
	missing := filepath.Join(root, "nope")
	if _, err := Resolve(missing); !errors.Is(err, ErrNoCheckpoint) || !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "no checkpoint at "+missing+": ") {
		t.Errorf("missing path: %v", err)
	}
	file := filepath.Join(root, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if _, err := Resolve(file); !errors.Is(err, ErrNoCheckpoint) || err.Error() != "no checkpoint at "+file+": it is a file, not a directory" {
		t.Errorf("file: %v", err)
	}
	// An incomplete checkpoint directory is returned; Load says what is wrong.
	os.Mkdir(filepath.Join(run, CheckpointDir), 0o755)
	dir, err := Resolve(run)
	if err != nil || dir != filepath.Join(run, CheckpointDir) {
		t.Fatalf("Resolve = %s, %v", dir, err)
	}
	if _, err := Load(dir); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "manifest.json: missing") {
		t.Errorf("Load of an incomplete checkpoint: %v", err)
	}
}

// TestResolveRecoversAfterCrash: after a Save killed at each stage, Resolve of the run
// directory (and of the checkpoint directory) finds a loadable checkpoint and leaves
// the run directory as a finished Save would.
func TestResolveRecoversAfterCrash(t *testing.T) {
	needLocks(t)
	for _, stage := range []string{stageWritten, stageOldMoved, stageNewMoved} {
		for _, viaRun := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/run=%v", stage, viaRun), func(t *testing.T) {
				run := t.TempDir()
				dir := filepath.Join(run, CheckpointDir)
				crashSave(t, dir, stepCheckpoint(1, 3), stepCheckpoint(2, 3), stage)
				if len(entries(t, run)) < 2 {
					t.Fatalf("the crash left %v", entries(t, run))
				}
				arg := dir
				if viaRun {
					arg = run
				}
				c, got, err := LoadResolved(arg)
				if err != nil || got != dir {
					t.Fatalf("LoadResolved(%s) = %s, %v (run holds %v)", arg, got, err, entries(t, run))
				}
				want := 1
				if stage == stageNewMoved {
					want = 2
				}
				checkSame(t, c, stepCheckpoint(want, 3))
				if names := entries(t, run); !slices.Equal(names, []string{CheckpointDir}) {
					t.Errorf("after Resolve the run holds %v, want only %s", names, CheckpointDir)
				}
			})
		}
	}
}

// TestResolveKeepsABackupWhenTheNewOneIsBad: when both the new checkpoint and the
// backup exist and the new one fails verification, Resolve deletes nothing and says
// where the backup is.
func TestResolveKeepsABackupWhenTheNewOneIsBad(t *testing.T) {
	needLocks(t)
	run := t.TempDir()
	dir := filepath.Join(run, CheckpointDir)
	crashSave(t, dir, stepCheckpoint(1, 3), stepCheckpoint(2, 3), stageNewMoved)
	if err := flipAt(0.5)(filepath.Join(dir, ModelFile)); err != nil {
		t.Fatal(err)
	}
	_, err := Resolve(run)
	backup := filepath.Join(run, ".checkpoint.old")
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "model.safetensors: SHA-256 mismatch") ||
		!strings.HasSuffix(err.Error(), fmt.Sprintf("(an interrupted save left the checkpoint it was replacing in %s: to use that one, delete %s and rename %s to checkpoint)", backup, dir, backup)) {
		t.Errorf("error %v", err)
	}
	if names := entries(t, run); !slices.Equal(names, []string{".checkpoint.old", CheckpointDir}) {
		t.Errorf("the run holds %v", names)
	}
	// Save, which replaces the bad one anyway, keeps the good backup as the one it
	// replaces.
	crashAt = stageOldMoved
	err = Save(dir, stepCheckpoint(3, 3))
	crashAt = ""
	if !errors.Is(err, errSimulatedCrash) {
		t.Fatal(err)
	}
	if c, _, err := LoadResolved(run); err != nil || c.Step != 1 {
		t.Errorf("after a second crash: %v, %v; want the good step-1 checkpoint", c, err)
	}
}

// TestResolveLeavesALockedDirectoryAlone: while another process holds the lock of
// the run directory (a Save running, or a directory that cannot be written), Resolve
// changes nothing, and Load reads the backup.
func TestResolveLeavesALockedDirectoryAlone(t *testing.T) {
	run := t.TempDir()
	dir := filepath.Join(run, CheckpointDir)
	crashSave(t, dir, stepCheckpoint(1, 3), stepCheckpoint(2, 3), stageOldMoved)
	before := entries(t, run)
	needLocks(t)
	unlock, _ := lockDir(run, false, true) // a shared lock: a reader elsewhere
	got, err := Resolve(run)
	if err != nil || got != dir {
		t.Fatalf("Resolve = %s, %v", got, err)
	}
	if after := entries(t, run); !slices.Equal(after, before) {
		t.Errorf("Resolve changed %v into %v while the directory was locked", before, after)
	}
	unlock()
	c, err := Load(got)
	if err != nil || c.Step != 1 {
		t.Fatalf("Load = %v, %v", c, err)
	}
	s, err := Inspect(got)
	if err != nil || s.Dir != filepath.Join(run, ".checkpoint.old") {
		t.Errorf("Inspect read %v, %v; want the backup", s, err)
	}
}

// TestResolveReadOnly: in a directory that cannot be written, Resolve leaves the
// backup of an interrupted save where it is and Load reads it.
func TestResolveReadOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes read-only directories; TestResolveLeavesALockedDirectoryAlone covers the same path")
	}
	run := t.TempDir()
	dir := filepath.Join(run, CheckpointDir)
	crashSave(t, dir, stepCheckpoint(1, 3), stepCheckpoint(2, 3), stageOldMoved)
	before := entries(t, run)
	if err := os.Chmod(run, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(run, 0o755)
	c, got, err := LoadResolved(run)
	if err != nil || got != dir || c.Step != 1 {
		t.Fatalf("LoadResolved = %v, %s, %v", c, got, err)
	}
	if after := entries(t, run); !slices.Equal(after, before) {
		t.Errorf("Resolve changed %v into %v", before, after)
	}
}

// TestReadersDuringSaves loads a run while another goroutine saves it over and over:
// with the directory locks, no reader sees a save half-done.
func TestReadersDuringSaves(t *testing.T) {
	needLocks(t)
	run := t.TempDir()
	dir := filepath.Join(run, CheckpointDir)
	if err := Save(dir, stepCheckpoint(0, 16)); err != nil {
		t.Fatal(err)
	}
	const saves = 30
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for step := 1; step <= saves; step++ {
			if err := Save(dir, stepCheckpoint(step, 16)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var mu sync.Mutex
	loads := 0
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for {
				select {
				case <-done:
					return
				default:
				}
				c, _, err := LoadResolved(run)
				if err != nil {
					t.Errorf("a load during saves: %v", err)
					return
				}
				if c.Step < last {
					t.Errorf("loaded step %d after step %d", c.Step, last)
				}
				last = c.Step
				if d := sameCheckpoint(c, stepCheckpoint(c.Step, 16)); d != "" {
					t.Errorf("loaded step %d: %s", c.Step, d)
					return
				}
				mu.Lock()
				loads++
				mu.Unlock()
				time.Sleep(time.Millisecond) // flock is not fair: leave the writer a turn
			}
		}()
	}
	wg.Wait()
	t.Logf("%d loads during %d saves", loads, saves)
}
