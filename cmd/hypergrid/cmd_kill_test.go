package main

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestKillLoopOverCheckpointWrites kills a training run with SIGKILL at random moments,
// over and over (it checkpoints after every step, so most kills land inside a
// checkpoint write: its temporary folder, its fsyncs or its renames). After every kill
// inspect, eval and predict must work on the run, and each new start resumes it; at the
// end the run's losses must equal an uninterrupted run's, bit for bit.
func TestKillLoopOverCheckpointWrites(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses SIGKILL")
	}
	if testing.Short() {
		t.Skip("kills training processes 30 times; skipped with -short")
	}
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", tinyTrainRecipe)
	out := filepath.Join(dir, "run")
	common := []string{"--threads", "1", "--steps", "200", "--set", "train.eval_limit=4"}
	every := []string{"--set", "train.checkpoint_every=1"}
	rng := rand.New(rand.NewPCG(7, 11))
	const kills = 30
	var sawTemp, sawOld, checked int
	everCheckpointed := false
	for k := 0; k < kills; k++ {
		args := append(append([]string{"train", rec, "--out", out}, common...), every...)
		if everCheckpointed || hasCheckpoint(out) {
			args = []string{"train", "--out", out, "--resume", "--threads", "1"}
		} else {
			os.RemoveAll(out) // not a run yet: start it again from scratch
		}
		var cout bytes.Buffer
		child, done := startHypergrid(t, &cout, &cout, args...)
		// Wait until the child trains (its log grows), then kill it a random moment later.
		start := logLen(out)
		for deadline := time.Now().Add(time.Minute); logLen(out) <= start; {
			select {
			case err := <-done:
				t.Fatalf("kill %d: the run ended before it was killed (%v): make it longer\n%s", k, err, cout.String())
			case <-time.After(2 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				child.Process.Kill()
				t.Fatalf("kill %d: no progress in a minute\n%s", k, cout.String())
			}
		}
		select {
		case err := <-done:
			t.Fatalf("kill %d: the run ended before it was killed (%v): make it longer\n%s", k, err, cout.String())
		case <-time.After(time.Duration(rng.IntN(120)) * time.Millisecond):
		}
		child.Process.Kill()
		<-done
		if matches, _ := filepath.Glob(filepath.Join(out, ".checkpoint.tmp-*")); len(matches) > 0 {
			sawTemp++
		}
		if _, err := os.Stat(filepath.Join(out, ".checkpoint.old")); err == nil {
			sawOld++
		}
		if !everCheckpointed && !hasCheckpoint(out) {
			continue // killed before the first checkpoint: nothing to check yet
		}
		everCheckpointed = true
		checked++
		for _, cmd := range [][]string{
			{"inspect", out},
			{"eval", out, "--json", "--threads", "1"},
			{"predict", out, "--task", "sentiment", "--threads", "1", "a fine film ."},
		} {
			if code, stdout, stderr := hg(t, cmd...); code != 0 {
				t.Fatalf("kill %d: %s: exit %d\n%s%s\nthe killed run printed:\n%s", k, strings.Join(cmd, " "), code, stdout, stderr, cout.String())
			}
		}
	}
	if checked < kills/2 {
		t.Fatalf("only %d of %d kills came after the first checkpoint", checked, kills)
	}
	// The last resume need not checkpoint every step: the losses do not depend on it.
	if code, stdout, stderr := hg(t, "train", "--out", out, "--resume", "--threads", "1", "--set", "train.checkpoint_every=0"); code != 0 {
		t.Fatalf("final resume: exit %d\n%s%s", code, stdout, stderr)
	}
	full := filepath.Join(dir, "full")
	if code, stdout, stderr := hg(t, append([]string{"train", rec, "--out", full}, common...)...); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s%s", code, stdout, stderr)
	}
	got, want := trainLosses(t, out), trainLosses(t, full)
	if len(got) != 200 || len(want) != 200 {
		t.Fatalf("%d and %d logged steps, want 200", len(got), len(want))
	}
	for s, w := range want {
		if math.Float64bits(got[s]) != math.Float64bits(w) {
			t.Fatalf("step %d: the killed and resumed run's loss %v, the uninterrupted run's %v", s, got[s], w)
		}
	}
	t.Logf("%d kills (%d after the first checkpoint): %d left a temporary checkpoint folder, %d a moved-aside old checkpoint; every command worked after each, and all 200 losses equal the uninterrupted run's",
		kills, checked, sawTemp, sawOld)
}

// logLen returns the size of a run's metrics log (0 when absent).
func logLen(out string) int64 {
	st, err := os.Stat(filepath.Join(out, "metrics.jsonl"))
	if err != nil {
		return 0
	}
	return st.Size()
}

// hasCheckpoint reports whether a run folder holds a checkpoint, complete or moved
// aside by an interrupted replacement.
func hasCheckpoint(out string) bool {
	for _, p := range []string{filepath.Join(out, "checkpoint", "manifest.json"), filepath.Join(out, ".checkpoint.old", "manifest.json")} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}
