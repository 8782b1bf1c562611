package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/dist"
)

// maxOutPath bounds the output folder's path that rank 0 sends the other ranks.
const maxOutPath = 1 << 16

// runTrain runs "hypergrid train" as this process's part of its job: one process, or
// (in a binary built with -tags mpi, started by mpirun or srun) one rank of a
// data-parallel run. A rank that fails prints its error, naming the rank, and ends
// the whole job (MPI_Abort), so no other rank is left waiting.
func runTrain(args []string, stdout, stderr io.Writer) error {
	comm, err := dist.Open()
	if err != nil {
		return err
	}
	if comm.Size() == 1 {
		defer comm.Close()
		return trainOn(comm, args, stdout, stderr)
	}
	err = trainOn(comm, args, stdout, stderr)
	if err != nil && !errors.Is(err, errHelp) && !errors.Is(err, errInterrupted) {
		fmt.Fprintf(stderr, "hypergrid: rank %d of %d: %v\nhypergrid: rank %d ends the job\n", comm.Rank(), comm.Size(), err, comm.Rank())
		comm.Abort(exitStatus(err, io.Discard))
	}
	if cerr := comm.Close(); err == nil {
		err = cerr
	}
	return err
}

// loadResolvedRanked loads the run's checkpoint in out on every rank: rank 0 first
// (checkpoint.LoadResolved finishes a replacement that a crash interrupted), then the
// others, so that only one process ever repairs the folder.
func loadResolvedRanked(comm dist.Comm, out string) (*checkpoint.Checkpoint, string, error) {
	var (
		c   *checkpoint.Checkpoint
		dir string
		err error
	)
	if comm.Rank() == 0 {
		c, dir, err = checkpoint.LoadResolved(out)
	}
	// Every rank passes the barrier (rank 0 even after an error, which it then
	// returns and ends the job with).
	if berr := comm.Barrier(); berr != nil && err == nil {
		err = berr
	}
	if comm.Rank() != 0 && err == nil {
		c, dir, err = checkpoint.LoadResolved(out)
	}
	return c, dir, err
}
