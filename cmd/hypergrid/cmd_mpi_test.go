//go:build mpi

package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/monitor"
)

// mpiRecipe is tinyTrainRecipe without dropout (so that a step split over ranks is
// the same function as the whole step), with global batch 32 over 50 steps and a
// checkpoint every 5 steps.
var mpiRecipe = strings.Replace(tinyTrainRecipe, "  decoder_layers: 1\n", "  decoder_layers: 1\n  dropout: 0\n", 1) + `  checkpoint_every: 5
`

// mpiTolerance is the relative difference allowed between the losses and metrics of
// one process and of 2 ranks: the gradient is summed in another order.
const mpiTolerance = 1e-5

// mpirun runs this test binary as hypergrid on np ranks (see TestMain), as CI's
// .ci/mpi.sh does: --oversubscribe (more ranks than cores), --allow-run-as-root.
func mpirun(t *testing.T, np int, args ...string) *exec.Cmd {
	t.Helper()
	return mpirunTimeout(t, np, "60s", args...)
}

// mpirunTimeout is mpirun with the collectives' time-out (HYPERGRID_MPI_TIMEOUT).
func mpirunTimeout(t *testing.T, np int, timeout string, args ...string) *exec.Cmd {
	t.Helper()
	path, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
	}
	full := append([]string{"-np", string(rune('0' + np)), "--oversubscribe", "--allow-run-as-root", "--bind-to", "none",
		"-x", "HYPERGRID_MAIN=1", "-x", "HYPERGRID_MPI_TIMEOUT=" + timeout, os.Args[0]}, args...)
	cmd := exec.Command(path, full...)
	cmd.Env = append(os.Environ(), "HYPERGRID_MAIN=1", "OMPI_MCA_rmaps_base_oversubscribe=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // kill -9 reaches every rank
	return cmd
}

// runMPI runs hypergrid on np ranks to completion and returns its output.
func runMPI(t *testing.T, np int, args ...string) string {
	t.Helper()
	cmd := mpirun(t, np, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mpirun -np %d hypergrid %s: %v\n%s", np, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// evalMetrics returns a run's last evaluation, task → metric → value.
func evalMetrics(t *testing.T, dir string) map[string]map[string]float64 {
	t.Helper()
	recs, err := monitor.ReadFile(filepath.Join(dir, job.LogFile))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, r := range recs {
		if r.Kind == monitor.KindEval {
			out[r.Task] = r.Metrics
		}
	}
	return out
}

func relDiff(a, b float64) float64 { return math.Abs(a-b) / max(math.Abs(b), 1e-12) }

// TestMPITwoRanksMatchOneProcess: 2 ranks with global batch 32 give one process's
// losses over 50 steps and its evaluation, within mpiTolerance; a 2-rank run killed
// with SIGKILL (every process of the job) and resumed gives the uninterrupted 2-rank
// run's losses, bit for bit.
func TestMPITwoRanksMatchOneProcess(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", mpiRecipe)
	one, two, killed := filepath.Join(dir, "one"), filepath.Join(dir, "two"), filepath.Join(dir, "killed")
	sets := []string{"--steps", "50", "--set", "train.batch_size=32", "--set", "train.max_input_len=32", "--threads", "1"}

	if code, stdout, stderr := hg(t, append([]string{"train", rec, "--out", one}, sets...)...); code != 0 {
		t.Fatalf("one process: exit %d\n%s%s", code, stdout, stderr)
	}
	out := runMPI(t, 2, append([]string{"train", rec, "--out", two}, sets...)...)
	if !strings.Contains(out, "data parallel over 2 ranks: global batch 32") || strings.Count(out, "done: 50 steps;") != 1 {
		t.Errorf("2-rank output (rank 0 alone reports):\n%s", out)
	}
	want, got := trainLosses(t, one), trainLosses(t, two)
	if len(want) != 50 || len(got) != 50 {
		t.Fatalf("%d and %d losses logged, want 50", len(want), len(got))
	}
	worst := 0.0
	for s, w := range want {
		worst = max(worst, relDiff(got[s], w))
	}
	if worst > mpiTolerance {
		t.Errorf("2 ranks' losses differ from one process's by up to %.2g relative", worst)
	}
	ev1, ev2 := evalMetrics(t, one), evalMetrics(t, two)
	if len(ev1) != 3 || len(ev2) != 3 {
		t.Fatalf("evaluations: %v and %v", ev1, ev2)
	}
	for task, ms := range ev1 {
		for m, v := range ms {
			if relDiff(ev2[task][m], v) > mpiTolerance && math.Abs(ev2[task][m]-v) > mpiTolerance {
				t.Errorf("%s %s: 2 ranks %v, one process %v", task, m, ev2[task][m], v)
			}
		}
	}
	t.Logf("50 steps: losses within %.2g relative of one process's; evaluation %v", worst, ev2)

	// kill -9 of the whole job after a checkpoint, then --resume on 2 ranks.
	cmd := mpirun(t, 2, append([]string{"train", rec, "--out", killed}, sets...)...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, _ := os.ReadFile(filepath.Join(killed, job.LogFile))
		if strings.Count(string(b), `"kind":"train"`) >= 22 {
			break
		}
		if time.Now().After(deadline) {
			killJob(cmd.Process.Pid)
			t.Fatalf("the 2-rank run made no progress:\n%s", buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	killJob(cmd.Process.Pid)
	cmd.Wait()
	if n := len(trainLosses(t, killed)); n >= 50 {
		t.Fatalf("the run finished (%d steps) before it was killed: make it longer", n)
	}
	out = runMPI(t, 2, "train", "--out", killed, "--resume", "--threads", "1")
	if !strings.Contains(out, "resuming "+killed+" at step ") || strings.Contains(out, "resumes on") {
		t.Errorf("resume output:\n%s", out)
	}
	resumed := trainLosses(t, killed)
	if len(resumed) != 50 {
		t.Fatalf("the resumed run logged %d steps, want 50", len(resumed))
	}
	for s, w := range got {
		if resumed[s] != w {
			t.Errorf("step %d: killed and resumed %v, uninterrupted 2-rank run %v", s, resumed[s], w)
		}
	}

	// Resuming on another rank count says what that changes.
	if code, stdout, stderr := hg(t, "train", "--out", two, "--resume", "--steps", "52", "--threads", "1"); code != 0 ||
		!strings.Contains(stdout, "the run trained on 2 rank(s) and resumes on 1") {
		t.Errorf("resume on 1 rank: exit %d\n%s%s", code, stdout, stderr)
	}
}

// A rank that fails ends the whole job with an error naming the rank, not a hang: rank
// 1 is given a data folder that does not exist (mpirun's MPMD form, "A : B"), so it
// fails while rank 0 waits for it in the weights' broadcast.
func TestMPIFailedRankEndsTheJob(t *testing.T) {
	skipShort(t)
	path, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
	}
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", mpiRecipe)
	out := filepath.Join(dir, "run")
	args := []string{"train", rec, "--out", out, "--threads", "1"}
	full := []string{"--oversubscribe", "--allow-run-as-root", "--bind-to", "none", "-x", "HYPERGRID_MAIN=1", "-x", "HYPERGRID_MPI_TIMEOUT=60s",
		"-np", "1", os.Args[0]}
	full = append(full, args...)
	full = append(full, ":", "-np", "1", os.Args[0])
	full = append(full, append(args, "--data", filepath.Join(dir, "missing"))...)
	cmd := exec.Command(path, full...)
	cmd.Env = append(os.Environ(), "HYPERGRID_MAIN=1")
	start := time.Now()
	b, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the job succeeded:\n%s", b)
	}
	if !strings.Contains(string(b), "hypergrid: rank 1 of 2: ") || !strings.Contains(string(b), "missing") {
		t.Errorf("rank 1's error is not reported:\n%s", b)
	}
	if d := time.Since(start); d > 50*time.Second {
		t.Errorf("the failed job took %v to end", d)
	}
}

// A rank that hangs (stopped with SIGSTOP) makes the other rank's collective time out
// (HYPERGRID_MPI_TIMEOUT): it names itself and the call, and the job ends.
func TestMPIHungRankEndsTheJob(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	rec := writeRecipe(t, dir, "tiny.yaml", mpiRecipe)
	cmd := mpirunTimeout(t, 2, "5s", "train", rec, "--out", filepath.Join(dir, "run"), "--threads", "1", "--steps", "100000")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer killJob(cmd.Process.Pid)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Wait for training, then stop one rank (a child of mpirun).
	deadline := time.Now().Add(time.Minute)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, "run", job.LogFile))
		if strings.Count(string(b), `"kind":"train"`) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no training:\n%s", buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	kids, err := os.ReadFile(filepath.Join("/proc", itoa(cmd.Process.Pid), "task", itoa(cmd.Process.Pid), "children"))
	pids := strings.Fields(string(kids))
	if err != nil || len(pids) < 2 {
		t.Skipf("cannot find the ranks among mpirun's children (%q, %v)", kids, err)
	}
	stopped := pids[len(pids)-1]
	var pid int
	if _, err := fmt.Sscan(stopped, &pid); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(pid, syscall.SIGSTOP)
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("the job succeeded:\n%s", buf.String())
		}
		if !strings.Contains(buf.String(), "did not complete in 5s") {
			t.Errorf("no rank reported the time-out:\n%s", buf.String())
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("the job with a stopped rank still runs after 45s:\n%s", buf.String())
	}
}

func itoa(n int) string { return fmt.Sprint(n) }

// killJob kills mpirun (pid) and every process under it with SIGKILL: the ranks may
// sit in process groups of their own, so killing mpirun's group is not enough.
func killJob(pid int) {
	var all []int
	var walk func(p int)
	walk = func(p int) {
		all = append(all, p)
		b, _ := os.ReadFile(filepath.Join("/proc", itoa(p), "task", itoa(p), "children"))
		for _, f := range strings.Fields(string(b)) {
			var c int
			if _, err := fmt.Sscan(f, &c); err == nil {
				walk(c)
			}
		}
	}
	walk(pid)
	for _, p := range all {
		syscall.Kill(p, syscall.SIGKILL)
	}
	syscall.Kill(-pid, syscall.SIGKILL)
}
