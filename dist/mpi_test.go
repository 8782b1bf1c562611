//go:build mpi

package dist

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// TestMPICollectives runs under mpirun (.ci/mpi.sh: mpirun -np 2 dist.test): every
// collective of the MPI Comm, on every rank; run alone it checks the one-rank case.
func TestMPICollectives(t *testing.T) {
	c, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n, r := c.Size(), c.Rank()
	if n, _ := LaunchedSize(nil); n > 1 {
		if _, ok := c.(*mpiComm); !ok {
			t.Fatalf("started as one of %d ranks, Open gave %T", n, c)
		}
	}
	buf := []float32{1, float32(r), float32(r * r)}
	if err := c.AllreduceSum(buf); err != nil {
		t.Fatal(err)
	}
	s, ss := 0, 0
	for i := range n {
		s, ss = s+i, ss+i*i
	}
	if buf[0] != float32(n) || buf[1] != float32(s) || buf[2] != float32(ss) {
		t.Errorf("rank %d of %d: AllreduceSum gave %v", r, n, buf)
	}
	d := []float64{0.1 * float64(r+1)}
	if err := c.AllreduceSum64(d); err != nil {
		t.Fatal(err)
	}
	w := []float32{float32(r + 7)}
	if err := c.Broadcast(w, n-1); err != nil || w[0] != float32(n-1+7) {
		t.Errorf("rank %d: Broadcast gave %v, %v", r, w, err)
	}
	got, err := BroadcastString(c, fmt.Sprintf("from rank %d", r), 0, 100)
	if err != nil || got != "from rank 0" {
		t.Errorf("rank %d: BroadcastString gave %q, %v", r, got, err)
	}
	// A bad root is an error naming the rank and the call, on every rank alike.
	var e *Error
	if err := c.Broadcast(w, n); !errors.As(err, &e) || e.Rank != r || e.Call != "MPI_Bcast" {
		t.Errorf("rank %d: Broadcast from rank %d: %v", r, n, err)
	}
	if err := c.Barrier(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkMPIAllreduce times AllreduceSum of HYPERGRID_BENCH_FLOATS values (default
// 4 Mi: 16 MiB) under mpirun (e.g. mpirun -np 2 dist.test -test.bench MPIAllreduce);
// it reports the bytes summed per call.
func BenchmarkMPIAllreduce(b *testing.B) {
	c, err := Open()
	if err != nil {
		b.Fatal(err)
	}
	n := 4 << 20
	if s := os.Getenv("HYPERGRID_BENCH_FLOATS"); s != "" {
		if n, err = strconv.Atoi(s); err != nil || n <= 0 || n > 1<<30 {
			b.Fatalf("HYPERGRID_BENCH_FLOATS=%q: want a count of values up to 2^30", s)
		}
	}
	buf := make([]float32, n)
	b.SetBytes(int64(4 * n))
	b.ResetTimer()
	for b.Loop() {
		if err := c.AllreduceSum(buf); err != nil {
			b.Fatal(err)
		}
	}
}
