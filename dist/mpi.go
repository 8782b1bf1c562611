//go:build mpi

package dist

/*
#cgo pkg-config: mpi
#include <stdlib.h>
#include <mpi.h>

static int hg_init(int *provided) {
	int done = 0;
	MPI_Initialized(&done);
	if (done) {
		return MPI_Query_thread(provided);
	}
	return MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, provided);
}
static int hg_errors_return(void) { return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN); }
static int hg_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int hg_size(int *n) { return MPI_Comm_size(MPI_COMM_WORLD, n); }
static int hg_allreduce_f32(float *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static int hg_allreduce_f64(double *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static int hg_bcast_f32(float *buf, int n, int root) { return MPI_Bcast(buf, n, MPI_FLOAT, root, MPI_COMM_WORLD); }
static int hg_bcast_bytes(void *buf, int n, int root) { return MPI_Bcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD); }
static int hg_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int hg_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static int hg_finalize(void) { return MPI_Finalize(); }
static void hg_error_string(int code, char *buf, int *len) {
	if (MPI_Error_string(code, buf, len) != MPI_SUCCESS) {
		*len = 0;
	}
}
static int hg_thread_multiple(void) { return MPI_THREAD_MULTIPLE; }
static int hg_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"time"
	"unsafe"
)

const mpiBuilt = true

// maxCount is the most elements one MPI call moves (MPI counts are C ints); longer
// buffers go in several calls.
const maxCount = 1 << 30

// mpiComm is MPI_COMM_WORLD. Its calls are serialised (mu), so MPI_THREAD_SERIALIZED
// is enough; a watchdog ends the job when a collective outlasts the timeout.
type mpiComm struct {
	rank, size int
	timeout    time.Duration
	multiple   bool // MPI_THREAD_MULTIPLE: the watchdog may call MPI_Abort
	mu         sync.Mutex
	closed     bool
}

var opened struct {
	sync.Mutex
	c *mpiComm
}

func openMPI() (Comm, error) {
	opened.Lock()
	defer opened.Unlock()
	if opened.c != nil && !opened.c.closed {
		return opened.c, nil
	}
	if opened.c != nil {
		return nil, &Error{Rank: opened.c.rank, Call: "MPI_Init_thread", Msg: "MPI was finalised: it cannot be started again in this process"}
	}
	timeout, err := Timeout(nil)
	if err != nil {
		return nil, err
	}
	var provided C.int
	if code := C.hg_init(&provided); code != 0 {
		return nil, mpiError(-1, "MPI_Init_thread", code)
	}
	c := &mpiComm{rank: -1, timeout: timeout, multiple: provided >= C.hg_thread_multiple()}
	if code := C.hg_errors_return(); code != 0 {
		return nil, mpiError(-1, "MPI_Comm_set_errhandler", code)
	}
	var r, n C.int
	if code := C.hg_rank(&r); code != 0 {
		return nil, mpiError(-1, "MPI_Comm_rank", code)
	}
	if code := C.hg_size(&n); code != 0 {
		return nil, mpiError(int(r), "MPI_Comm_size", code)
	}
	c.rank, c.size = int(r), int(n)
	if provided < C.hg_thread_serialized() {
		C.hg_finalize()
		return nil, &Error{Rank: c.rank, Call: "MPI_Init_thread", Msg: fmt.Sprintf("the MPI library gives thread level %d; hypergrid needs MPI_THREAD_SERIALIZED or better (Go moves goroutines between threads): use an MPI built with thread support", int(provided))}
	}
	opened.c = c
	return c, nil
}

// mpiError turns MPI's error code into an *Error with MPI's own message.
func mpiError(rank int, call string, code C.int) error {
	buf := make([]byte, C.MPI_MAX_ERROR_STRING+1)
	var n C.int
	C.hg_error_string(code, (*C.char)(unsafe.Pointer(&buf[0])), &n)
	msg := string(buf[:max(0, min(int(n), len(buf)))])
	if msg == "" {
		msg = "MPI error"
	}
	return &Error{Rank: rank, Call: call, Code: int(code), Msg: msg}
}

func (c *mpiComm) Rank() int { return c.rank }
func (c *mpiComm) Size() int { return c.size }

// collective runs f (one MPI call over MPI_COMM_WORLD) under the lock and the
// watchdog: when f has not returned after the timeout, the rank says which call
// waited too long and ends the job (MPI_Abort, then exit status 1).
func (c *mpiComm) collective(call string, f func() C.int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return &Error{Rank: c.rank, Call: call, Msg: "the communicator is closed"}
	}
	t := time.AfterFunc(c.timeout, func() {
		fmt.Fprintf(os.Stderr, "hypergrid: rank %d of %d: %s did not complete in %v (%s): another rank failed or hangs; ending the job\n",
			c.rank, c.size, call, c.timeout, TimeoutEnv)
		if c.multiple {
			C.hg_abort(1)
		}
		os.Exit(1)
	})
	code := f()
	t.Stop()
	if code != 0 {
		return mpiError(c.rank, call, code)
	}
	return nil
}

func (c *mpiComm) AllreduceSum(buf []float32) error {
	for lo := 0; lo < len(buf); lo += maxCount {
		part := buf[lo:min(lo+maxCount, len(buf))]
		if err := c.collective("MPI_Allreduce", func() C.int {
			return C.hg_allreduce_f32((*C.float)(unsafe.Pointer(&part[0])), C.int(len(part)))
		}); err != nil {
			return err
		}
	}
	return nil
}

func (c *mpiComm) AllreduceSum64(buf []float64) error {
	for lo := 0; lo < len(buf); lo += maxCount {
		part := buf[lo:min(lo+maxCount, len(buf))]
		if err := c.collective("MPI_Allreduce", func() C.int {
			return C.hg_allreduce_f64((*C.double)(unsafe.Pointer(&part[0])), C.int(len(part)))
		}); err != nil {
			return err
		}
	}
	return nil
}

func (c *mpiComm) checkRoot(root int) error {
	if root < 0 || root >= c.size {
		return &Error{Rank: c.rank, Call: "MPI_Bcast", Msg: fmt.Sprintf("root rank %d of a job of %d ranks", root, c.size)}
	}
	return nil
}

func (c *mpiComm) Broadcast(buf []float32, root int) error {
	if err := c.checkRoot(root); err != nil {
		return err
	}
	for lo := 0; lo < len(buf); lo += maxCount {
		part := buf[lo:min(lo+maxCount, len(buf))]
		if err := c.collective("MPI_Bcast", func() C.int {
			return C.hg_bcast_f32((*C.float)(unsafe.Pointer(&part[0])), C.int(len(part)), C.int(root))
		}); err != nil {
			return err
		}
	}
	return nil
}

func (c *mpiComm) BroadcastBytes(buf []byte, root int) error {
	if err := c.checkRoot(root); err != nil {
		return err
	}
	for lo := 0; lo < len(buf); lo += maxCount {
		part := buf[lo:min(lo+maxCount, len(buf))]
		if err := c.collective("MPI_Bcast", func() C.int {
			return C.hg_bcast_bytes(unsafe.Pointer(&part[0]), C.int(len(part)), C.int(root))
		}); err != nil {
			return err
		}
	}
	return nil
}

func (c *mpiComm) Barrier() error {
	return c.collective("MPI_Barrier", func() C.int { return C.hg_barrier() })
}

func (c *mpiComm) Abort(code int) {
	C.hg_abort(C.int(code))
	os.Exit(code)
}

func (c *mpiComm) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if code := C.hg_finalize(); code != 0 {
		return mpiError(c.rank, "MPI_Finalize", code)
	}
	return nil
}
