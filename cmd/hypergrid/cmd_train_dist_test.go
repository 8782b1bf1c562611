//go:build !mpi

package main

import (
	"strings"
	"testing"
)

// Without -tags mpi, a train started as one of several ranks (by mpirun or srun) is
// refused, saying how to build with MPI — never N copies training alone.
func TestTrainUnderMPIRunNeedsMPIBuild(t *testing.T) {
	for _, env := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "2")
			code, _, stderr := hg(t, "train", "--out", t.TempDir())
			if code != 1 || !strings.Contains(stderr, "go build -tags mpi") || !strings.Contains(stderr, env+"=2") {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
		})
	}
}
