// Package dist is the communication of data-parallel training: a small Comm interface
// (rank, size, sums of float32 and float64 buffers across ranks, broadcasts, barrier,
// abort), the single-process Comm every build has, and — in binaries built with
// `-tags mpi` — a thin cgo layer over libmpi (found with pkg-config's mpi: Debian's
// OpenMPI) that implements it over MPI_COMM_WORLD.
//
// The default build is pure Go and cgo-free: Open then returns Single, and refuses,
// with an error saying how to build with MPI, a process that was started by mpirun or
// srun with more than one rank. It imports nothing of the framework.
package dist

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Comm is the communicator of one process of a job of Size processes (ranks). Every
// collective call (AllreduceSum, AllreduceSum64, Broadcast, BroadcastBytes, Barrier)
// must be made by every rank, in the same order, with buffers of the same length.
// Errors name the rank and the MPI call (see Error).
type Comm interface {
	// Rank is this process's rank, 0 to Size-1; rank 0 writes the job's files.
	Rank() int
	// Size is the number of ranks.
	Size() int
	// AllreduceSum replaces buf, on every rank, with the element-wise sum of every
	// rank's buf.
	AllreduceSum(buf []float32) error
	// AllreduceSum64 is AllreduceSum for float64 values.
	AllreduceSum64(buf []float64) error
	// Broadcast copies root's buf into every rank's buf.
	Broadcast(buf []float32, root int) error
	// BroadcastBytes copies root's buf into every rank's buf.
	BroadcastBytes(buf []byte, root int) error
	// Barrier returns when every rank has called it.
	Barrier() error
	// Abort ends every rank of the job with exit status code; it does not return.
	Abort(code int)
	// Close ends this process's part in the job (MPI_Finalize); the Comm is unusable
	// after it.
	Close() error
}

// Error is an error of a collective call, naming the rank that saw it and the call.
type Error struct {
	// Rank is the rank that saw the error; Call the MPI function (e.g. MPI_Allreduce).
	Rank int
	Call string
	// Code is MPI's error code (0 when the error is not MPI's: a timeout, a bad
	// argument).
	Code int
	// Msg is MPI's error string, or what went wrong.
	Msg string
}

// Error writes "rank R: CALL: message (MPI error N)".
func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("rank %d: %s: %s (MPI error %d)", e.Rank, e.Call, e.Msg, e.Code)
	}
	return fmt.Sprintf("rank %d: %s: %s", e.Rank, e.Call, e.Msg)
}

// ErrNoMPI is returned (wrapped) by Open when the process was started as one rank of
// several but the binary was built without MPI.
var ErrNoMPI = errors.New("this hypergrid was built without MPI")

// BuildHint says how to build a binary with MPI.
const BuildHint = "install OpenMPI (Debian: apt-get install openmpi-bin libopenmpi-dev) and build with: go build -tags mpi ./cmd/hypergrid"

// Available reports whether this binary was built with MPI (-tags mpi).
func Available() bool { return mpiBuilt }

// TimeoutEnv is the environment variable that bounds how long a collective call may
// wait for the other ranks (a Go duration such as 90s or 10m; default DefaultTimeout)
// before this rank reports which call timed out and ends the job: a rank that died or
// hangs never leaves the others waiting forever.
const TimeoutEnv = "HYPERGRID_MPI_TIMEOUT"

// DefaultTimeout is the collective timeout when TimeoutEnv is unset.
const DefaultTimeout = 10 * time.Minute

// MaxTimeout bounds TimeoutEnv.
const MaxTimeout = 7 * 24 * time.Hour

// Timeout reads TimeoutEnv from getenv (os.Getenv when nil).
func Timeout(getenv func(string) string) (time.Duration, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	s := getenv(TimeoutEnv)
	if s == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > MaxTimeout {
		return 0, fmt.Errorf("environment variable %s is %q; want a duration such as 90s or 10m, at most %v", TimeoutEnv, s, MaxTimeout)
	}
	return d, nil
}

// LaunchedSize returns the number of ranks a launcher started this process as one of,
// read from the environment that mpirun (OMPI_COMM_WORLD_SIZE), an MPI process manager
// (PMI_SIZE) or Slurm's srun (SLURM_STEP_NUM_TASKS) sets, with the variable's name; 1
// when none says more than one. getenv is os.Getenv when nil.
func LaunchedSize(getenv func(string) string) (int, string) {
	if getenv == nil {
		getenv = os.Getenv
	}
	for _, name := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"} {
		if n, err := strconv.Atoi(getenv(name)); err == nil && n > 1 {
			return n, name
		}
	}
	return 1, ""
}

// Open returns this process's communicator. When the environment says the process is
// one of several ranks (LaunchedSize), that is MPI_COMM_WORLD in a binary built with
// -tags mpi (MPI is initialised; Close finalises it) and an error wrapping ErrNoMPI,
// saying how to build with MPI, in one built without. Otherwise it is Single: a
// process started on its own (or by mpirun -np 1) does not initialise MPI.
func Open() (Comm, error) {
	n, name := LaunchedSize(nil)
	if mpiBuilt && n > 1 {
		return openMPI()
	}
	if n > 1 {
		return nil, fmt.Errorf("%w, but it was started as one of %d ranks (%s=%d): distributed training needs MPI; %s", ErrNoMPI, n, name, n, BuildHint)
	}
	return Single{}, nil
}

// Single is the communicator of a job of one process: every collective is a no-op.
type Single struct{}

// Rank is 0.
func (Single) Rank() int { return 0 }

// Size is 1.
func (Single) Size() int { return 1 }

// AllreduceSum leaves buf as it is: the sum over one rank.
func (Single) AllreduceSum([]float32) error { return nil }

// AllreduceSum64 leaves buf as it is.
func (Single) AllreduceSum64([]float64) error { return nil }

// Broadcast leaves buf as it is; root must be 0.
func (Single) Broadcast(_ []float32, root int) error { return singleRoot("MPI_Bcast", root) }

// BroadcastBytes leaves buf as it is; root must be 0.
func (Single) BroadcastBytes(_ []byte, root int) error { return singleRoot("MPI_Bcast", root) }

func singleRoot(call string, root int) error {
	if root != 0 {
		return &Error{Rank: 0, Call: call, Msg: fmt.Sprintf("root rank %d of a job of 1 rank", root)}
	}
	return nil
}

// Barrier returns at once.
func (Single) Barrier() error { return nil }

// Abort exits the process with status code.
func (Single) Abort(code int) { os.Exit(code) }

// Close does nothing.
func (Single) Close() error { return nil }

// BroadcastString sends root's s to every rank and returns it (the others' s is
// ignored): the length first, then the bytes. s is bounded by limit bytes (at most
// 1<<24).
func BroadcastString(c Comm, s string, root, limit int) (string, error) {
	limit = min(limit, 1<<24) // lengths travel as float32, exact up to 2^24
	n := []float32{float32(len(s))}
	if c.Rank() != root {
		n[0] = 0
	}
	if c.Rank() == root && len(s) > limit {
		return "", &Error{Rank: c.Rank(), Call: "MPI_Bcast", Msg: fmt.Sprintf("string of %d bytes, more than %d", len(s), limit)}
	}
	if err := c.Broadcast(n, root); err != nil {
		return "", err
	}
	size := int(n[0])
	if size < 0 || size > limit || float32(size) != n[0] {
		return "", &Error{Rank: c.Rank(), Call: "MPI_Bcast", Msg: fmt.Sprintf("received a string length of %v, want 0 to %d", n[0], limit)}
	}
	buf := make([]byte, size)
	if c.Rank() == root {
		copy(buf, s)
	}
	if err := c.BroadcastBytes(buf, root); err != nil {
		return "", err
	}
	return string(buf), nil
}
