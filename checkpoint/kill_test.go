//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package checkpoint

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// killChildEnv, set in the environment of a re-executed test binary, makes
// TestKillDuringSave act as the child that saves: "DIR FIRSTSTEP SEED".
const killChildEnv = "HYPERGRID_CHECKPOINT_KILL_CHILD"

// killTensorSide sizes the child's checkpoints: two side×side tensors (64 KiB each)
// and a vector, so that writing takes a while.
const killTensorSide = 128

// TestKillDuringSave starts a child process that saves a checkpoint over and over,
// kills it with SIGKILL at a random moment, and checks that Resolve and Load find a
// complete checkpoint equal to one the child saved: the one in place before, or one
// the child began, and never older than the last one whose Save returned. It also
// checks that Resolve leaves the run directory as a finished Save would. It kills 60
// children, more until every window below had a kill, for at most 20 s (30 kills at
// least, for slow builds such as -race).
//
// Half of the kills come after a random delay once the child runs, the other half
// right after a random stage of Save (the child traces its stages and sleeps up to 3 ms after each, which
// widens the windows between steps), so that every window gets kills: writing the
// temporary files, fsyncing them, before the renames, between them, after them.
func TestKillDuringSave(t *testing.T) {
	if spec := os.Getenv(killChildEnv); spec != "" {
		killChild(spec)
		return // not reached
	}
	if testing.Short() {
		t.Skip("kills a child process at least 30 times (a few seconds); skipped in -short mode")
	}
	const (
		wantKills = 60
		minKills  = 30
		maxTime   = 20 * time.Second
	)
	// Windows (named by the last stage the child traced before the kill) and states of
	// the run directory after a kill, each of which must be seen.
	wantWindows := []string{"writing", "fsync", "before renames", "between renames", "after renames"}
	wantStates := []string{"temporary", "backup, no checkpoint", "backup and checkpoint"}

	run := t.TempDir()
	dir := filepath.Join(run, CheckpointDir)
	if err := Save(dir, stepCheckpoint(0, killTensorSide)); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	windows, states := map[string]int{}, map[string]int{}
	covered := func() bool {
		for _, w := range wantWindows {
			if windows[w] == 0 {
				return false
			}
		}
		for _, s := range wantStates {
			if states[s] == 0 {
				return false
			}
		}
		return true
	}
	start := time.Now()
	prev, next, kills := 0, 1, 0
	for ; kills < wantKills || !covered(); kills++ {
		if time.Since(start) > maxTime {
			break
		}
		lines, childErr := runAndKill(t, rng, dir, next, kills%2 == 0)
		if childErr != "" {
			t.Fatalf("kill %d: the child failed: %s", kills, childErr)
		}
		var begun []int
		saved, window := -1, "startup"
		for _, l := range lines {
			word, arg, _ := strings.Cut(l, " ")
			switch word {
			case "begin":
				n, _ := strconv.Atoi(arg)
				begun = append(begun, n)
				window = "starting a save"
			case "saved":
				saved, _ = strconv.Atoi(arg)
				window = "between saves"
			case stageTempMade:
				window = "writing"
			case stageSyncing:
				window = "fsync"
			case stageWritten:
				window = "before renames"
			case stageOldMoved:
				window = "between renames"
			case stageNewMoved:
				window = "after renames"
			}
		}
		windows[window]++
		state := dirState(t, run)
		states[state]++

		// Load reads the backup by itself; LoadResolved repairs first.
		plain, err := Load(dir)
		if err != nil {
			t.Fatalf("kill %d (%s, run holds %s): Load: %v", kills, window, state, err)
		}
		c, got, err := LoadResolved(run)
		if err != nil || got != dir {
			t.Fatalf("kill %d (%s, run holds %s): LoadResolved = %s, %v", kills, window, state, got, err)
		}
		if d := sameCheckpoint(c, stepCheckpoint(c.Step, killTensorSide)); d != "" {
			t.Fatalf("kill %d (%s): the loaded checkpoint is not the one saved at its step: %s", kills, window, d)
		}
		if c.Step != plain.Step {
			t.Errorf("kill %d (%s): Load read step %d, LoadResolved step %d", kills, window, plain.Step, c.Step)
		}
		if c.Step != prev && !slices.Contains(begun, c.Step) {
			t.Fatalf("kill %d (%s): loaded step %d, neither the step before (%d) nor one the child began (%v)", kills, window, c.Step, prev, begun)
		}
		if c.Step < saved {
			t.Fatalf("kill %d (%s): loaded step %d, older than step %d, whose Save returned", kills, window, c.Step, saved)
		}
		if names := entries(t, run); !slices.Equal(names, []string{CheckpointDir}) {
			t.Fatalf("kill %d (%s): after Resolve the run holds %v, want only %s", kills, window, names, CheckpointDir)
		}
		prev = c.Step
		if len(begun) > 0 {
			next = begun[len(begun)-1] + 1
		}
	}
	t.Logf("%d kills in %v, %d saves begun; kill windows %v; run states after a kill %v",
		kills, time.Since(start).Round(time.Millisecond), next-1, windows, states)
	if kills < minKills {
		t.Errorf("only %d kills in %v, want %d", kills, maxTime, minKills)
	}
	for _, w := range wantWindows {
		if windows[w] == 0 {
			t.Errorf("no kill landed while %s", w)
		}
	}
	for _, s := range wantStates {
		if states[s] == 0 {
			t.Errorf("no kill left the run with %s", s)
		}
	}
}

// dirState names what a killed save left in run, besides a checkpoint.
func dirState(t *testing.T, run string) string {
	var ckpt, backup, temp bool
	for _, n := range entries(t, run) {
		switch {
		case n == CheckpointDir:
			ckpt = true
		case n == ".checkpoint.old":
			backup = true
		case strings.HasPrefix(n, ".checkpoint.tmp-"):
			temp = true
		default:
			t.Fatalf("unexpected entry %s in the run directory", n)
		}
	}
	switch {
	case backup && ckpt:
		return "backup and checkpoint"
	case backup:
		return "backup, no checkpoint"
	case !ckpt:
		t.Fatal("a kill left neither the checkpoint nor its backup")
	case temp:
		return "temporary"
	}
	return "clean"
}

// runAndKill starts the child saving steps from first into dir and kills it, after a
// random delay (byTime) or right after a random line of its trace. It returns the
// trace, and the child's error line if it reported one.
func runAndKill(t *testing.T, rng *rand.Rand, dir string, first int, byTime bool) (lines []string, childErr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringSave$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d", killChildEnv, dir, first, rng.Uint64()))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 1<<14)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	if byTime {
		// Once it runs, the child saves about every 15 ms.
		if l, ok := <-ch; ok {
			lines = append(lines, l)
		}
		time.Sleep(time.Duration(rng.IntN(60_000)) * time.Microsecond)
	} else {
		for k := 1 + rng.IntN(20); k > 0; k-- {
			l, ok := <-ch
			if !ok {
				break
			}
			lines = append(lines, l)
		}
	}
	cmd.Process.Kill()
	for l := range ch {
		lines = append(lines, l)
	}
	cmd.Wait()
	for _, l := range lines {
		if e, ok := strings.CutPrefix(l, "error "); ok {
			childErr = e
		}
	}
	return lines, childErr
}

// killChild is the child: it saves stepCheckpoint(step) into dir for step = first,
// first+1, ... until killed (or 60 s pass), tracing "begin STEP", each stage of Save
// and "saved STEP" on stdout, and sleeping up to 3 ms after each stage.
func killChild(spec string) {
	var dir string
	var first int
	var seed uint64
	if _, err := fmt.Sscan(spec, &dir, &first, &seed); err != nil {
		fmt.Printf("error %s=%q: %v\n", killChildEnv, spec, err)
		os.Exit(2)
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	emit := func(s string) { os.Stdout.WriteString(s + "\n") } // unbuffered: each line is out before the next step
	testHook = func(stage string) {
		emit(stage)
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
	}
	deadline := time.Now().Add(60 * time.Second)
	for step := first; time.Now().Before(deadline); step++ {
		c := stepCheckpoint(step, killTensorSide)
		emit(fmt.Sprintf("begin %d", step))
		if err := Save(dir, c); err != nil {
			emit("error " + err.Error())
			os.Exit(2)
		}
		emit(fmt.Sprintf("saved %d", step))
	}
	os.Exit(0)
}
