package dist

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLaunchedSize(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want int
		name string
	}{
		{nil, 1, ""},
		{map[string]string{"OMPI_COMM_WORLD_SIZE": "1"}, 1, ""},
		{map[string]string{"OMPI_COMM_WORLD_SIZE": "4"}, 4, "OMPI_COMM_WORLD_SIZE"},
		{map[string]string{"PMI_SIZE": "2"}, 2, "PMI_SIZE"},
		{map[string]string{"OMPI_COMM_WORLD_SIZE": "x"}, 1, ""},
	} {
		n, name := LaunchedSize(env(tc.env))
		if n != tc.want || name != tc.name {
			t.Errorf("LaunchedSize(%v) = %d, %q; want %d, %q", tc.env, n, name, tc.want, tc.name)
		}
	}
}

func TestTimeout(t *testing.T) {
	for _, tc := range []struct {
		val     string
		want    time.Duration
		wantErr bool
	}{
		{"", DefaultTimeout, false},
		{"90s", 90 * time.Second, false},
		{"0s", 0, true},
		{"-1m", 0, true},
		{"soon", 0, true},
		{"10000h", 0, true},
	} {
		d, err := Timeout(env(map[string]string{TimeoutEnv: tc.val}))
		if (err != nil) != tc.wantErr || (!tc.wantErr && d != tc.want) {
			t.Errorf("Timeout(%q) = %v, %v; want %v (error %v)", tc.val, d, err, tc.want, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), TimeoutEnv) {
			t.Errorf("error %q does not name %s", err, TimeoutEnv)
		}
	}
}

func FuzzTimeout(f *testing.F) {
	for _, s := range []string{"", "90s", "1h30m", "-5s", "x", "1e400h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Timeout(env(map[string]string{TimeoutEnv: s}))
		if err == nil && (d <= 0 || d > MaxTimeout) {
			t.Fatalf("Timeout(%q) = %v with no error", s, d)
		}
	})
}

func TestSingle(t *testing.T) {
	var c Comm = Single{}
	buf := []float32{1, 2}
	if err := c.AllreduceSum(buf); err != nil || buf[0] != 1 || buf[1] != 2 {
		t.Fatalf("AllreduceSum: %v %v", buf, err)
	}
	if err := c.Broadcast(buf, 1); err == nil || !strings.Contains(err.Error(), "rank 0: MPI_Bcast") {
		t.Errorf("Broadcast from rank 1 of 1: %v", err)
	}
	if s, err := BroadcastString(c, "runs/x", 0, 100); err != nil || s != "runs/x" {
		t.Errorf("BroadcastString = %q, %v", s, err)
	}
}

func TestOpenWithoutMPI(t *testing.T) {
	if Available() {
		t.Skip("built with -tags mpi")
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	_, err := Open()
	if !errors.Is(err, ErrNoMPI) || !strings.Contains(err.Error(), "-tags mpi") {
		t.Fatalf("Open under mpirun without MPI: %v", err)
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "")
	if c, err := Open(); err != nil || c.Size() != 1 {
		t.Fatalf("Open: %v, %v", c, err)
	}
}

// each runs f on every rank of a local job of n ranks and returns their errors.
func each(t *testing.T, n int, timeout time.Duration, f func(c Comm) error) []error {
	t.Helper()
	cs, err := NewLocal(n, timeout)
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { errs[i] = f(c) })
	}
	wg.Wait()
	return errs
}

func TestLocalCollectives(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		errs := each(t, n, 10*time.Second, func(c Comm) error {
			r := float32(c.Rank())
			buf := []float32{1, r, 2 * r}
			if err := c.AllreduceSum(buf); err != nil {
				return err
			}
			s := float32(n * (n - 1) / 2)
			if buf[0] != float32(n) || buf[1] != s || buf[2] != 2*s {
				t.Errorf("rank %d of %d: sum %v", c.Rank(), n, buf)
			}
			w := []float32{r + 10}
			if err := c.Broadcast(w, n-1); err != nil {
				return err
			}
			if w[0] != float32(n-1+10) {
				t.Errorf("rank %d: broadcast gave %v", c.Rank(), w)
			}
			got, err := BroadcastString(c, strings.Repeat("ab", c.Rank()+1), 0, 1<<10)
			if err != nil {
				return err
			}
			if got != "ab" {
				t.Errorf("rank %d: BroadcastString gave %q", c.Rank(), got)
			}
			return c.Barrier()
		})
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	}
}

// A rank that never joins makes the others' collective fail with an error naming the
// rank and the call, not hang.
func TestLocalTimeout(t *testing.T) {
	errs := each(t, 2, 50*time.Millisecond, func(c Comm) error {
		if c.Rank() == 1 {
			return nil
		}
		return c.AllreduceSum([]float32{1})
	})
	var e *Error
	if !errors.As(errs[0], &e) || e.Rank != 0 || e.Call != "MPI_Allreduce" {
		t.Fatalf("rank 0 got %v; want a timeout of MPI_Allreduce", errs[0])
	}
}

// Buffers of different lengths on different ranks are an error naming the rank and
// the call (MPI would truncate or fail).
func TestLocalLengthMismatch(t *testing.T) {
	errs := each(t, 2, 10*time.Second, func(c Comm) error {
		return c.AllreduceSum(make([]float32, 1+c.Rank()))
	})
	for r, err := range errs {
		var e *Error
		if !errors.As(err, &e) || e.Rank != r || e.Call != "MPI_Allreduce" {
			t.Errorf("rank %d: %v", r, err)
		}
	}
}
