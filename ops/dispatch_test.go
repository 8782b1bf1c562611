package ops

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// allowBadISAEnv lets a test binary start with a rejected HYPERGRID_ISA; only
// TestBadISAAtStartup sets it, for the child process it runs.
const allowBadISAEnv = "HYPERGRID_OPS_TEST_ALLOW_BAD_ISA"

// TestMain refuses to test when HYPERGRID_ISA was rejected: the package would have
// fallen back to the automatic choice, and the run would pass without testing the
// kernels that were asked for.
func TestMain(m *testing.M) {
	if err := ISAError(); err != nil && os.Getenv(allowBadISAEnv) == "" {
		fmt.Fprintf(os.Stderr, "ops tests: %v\nops tests: refusing to test the %s kernels instead\n", err, ActiveISA())
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// restoreISA puts back the selection in force when the test started.
func restoreISA(t *testing.T) {
	saved := ActiveISA()
	t.Cleanup(func() {
		if err := SetISA(saved); err != nil {
			t.Fatalf("restoring %s: %v", saved, err)
		}
	})
}

// selection selects isa and returns the variant each operation then uses.
func selection(t *testing.T, isa ISA) map[string]ISA {
	t.Helper()
	if err := SetISA(isa); err != nil {
		t.Fatal(err)
	}
	m := map[string]ISA{}
	for _, o := range allOps {
		m[o.opName()] = o.inUse()
	}
	return m
}

// unsupportedISA is a known instruction set this CPU or build cannot run, if any.
func unsupportedISA() (ISA, bool) {
	for _, isa := range KnownISAs {
		if !supported(isa) {
			return isa, true
		}
	}
	return "", false
}

func TestSelectStartupISA(t *testing.T) {
	restoreISA(t)
	valid := strings.Join([]string{"generic", "avx2", "avx512", "neon"}, ", ")
	tests := []struct {
		name    string
		value   string
		set     bool
		want    ISA    // ActiveISA afterwards
		wantErr string // the whole message; "" for no error
	}{
		{name: "unset", want: best()},
		{name: "empty", set: true, want: best()},
		{name: "generic", value: "generic", set: true, want: Generic},
		{name: "case and spaces", value: " Generic ", set: true, want: Generic},
		{name: "best", value: string(best()), set: true, want: best()},
		{name: "unknown", value: "bogus", set: true, want: best(),
			wantErr: `HYPERGRID_ISA=bogus: unknown instruction set "bogus": valid values are ` + valid + ` (unset it to choose automatically)`},
	}
	if isa, ok := unsupportedISA(); ok {
		tests = append(tests, struct {
			name    string
			value   string
			set     bool
			want    ISA
			wantErr string
		}{name: "unsupported", value: string(isa), set: true, want: best(),
			wantErr: fmt.Sprintf("HYPERGRID_ISA=%s: instruction set %q cannot run here (%s): this CPU and build support %s (unset it to choose automatically)",
				isa, isa, unsupportedReason(isa), isaList(SupportedISAs()))})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := selection(t, tc.want)
			// Start from a selection that differs from the expected one where possible, so a
			// fallback that selects nothing is caught.
			start := Generic
			if tc.want == Generic {
				start = best()
			}
			if err := SetISA(start); err != nil {
				t.Fatal(err)
			}
			err := selectStartupISA(tc.value, tc.set)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("no error, want %q", tc.wantErr)
			case tc.wantErr != "" && err.Error() != tc.wantErr:
				t.Fatalf("error:\n got %q\nwant %q", err, tc.wantErr)
			}
			if got := ActiveISA(); got != tc.want {
				t.Errorf("ActiveISA() = %s, want %s", got, tc.want)
			}
			for _, o := range allOps {
				if got := o.inUse(); got != want[o.opName()] {
					t.Errorf("%s uses %s, want %s", o.opName(), got, want[o.opName()])
				}
			}
		})
	}
}

func TestISAErrorUnwraps(t *testing.T) {
	restoreISA(t)
	err := selectStartupISA("bogus", true)
	if err == nil || errors.Unwrap(err) == nil {
		t.Fatalf("want a wrapped SetISA error, got %v", err)
	}
	if want := SetISA("bogus"); want == nil || errors.Unwrap(err).Error() != want.Error() {
		t.Errorf("wrapped error %q, want SetISA's %q", errors.Unwrap(err), want)
	}
}

// TestBadISAAtStartup runs this test binary with HYPERGRID_ISA=bogus: package
// initialisation must record the error and fall back rather than end the process, and
// TestMain must then refuse to run the tests.
func TestBadISAAtStartup(t *testing.T) {
	if os.Getenv(allowBadISAEnv) != "" {
		return // the child run of TestBadISAChild
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	run := func(allow bool) (string, error) {
		cmd := exec.Command(exe, "-test.run=^TestBadISAChild$", "-test.v")
		cmd.Env = append(os.Environ(), EnvISA+"=bogus")
		if allow {
			cmd.Env = append(cmd.Env, allowBadISAEnv+"=1")
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	out, err := run(true)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		// Under a user-mode emulator (arm64 tests under qemu) the binary may not start.
		t.Skipf("cannot run the test binary again: %v", err)
	}
	if err != nil {
		t.Fatalf("child with %s=bogus failed (%v):\n%s", EnvISA, err, out)
	}
	if !strings.Contains(out, "--- PASS: TestBadISAChild") {
		t.Fatalf("child did not run TestBadISAChild:\n%s", out)
	}
	out, err = run(false)
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("test binary with %s=bogus: got %v, want exit status 2:\n%s", EnvISA, err, out)
	}
	if !strings.Contains(out, `unknown instruction set "bogus": valid values are generic, avx2, avx512, neon`) {
		t.Errorf("refusal does not name the valid choices:\n%s", out)
	}
}

// TestBadISAChild is the child process of TestBadISAAtStartup.
func TestBadISAChild(t *testing.T) {
	if os.Getenv(allowBadISAEnv) == "" {
		t.Skip("run by TestBadISAAtStartup")
	}
	err := ISAError()
	if err == nil {
		t.Fatalf("ISAError() = nil with %s=%q", EnvISA, os.Getenv(EnvISA))
	}
	wantErr := fmt.Sprintf("%s=bogus: unknown instruction set \"bogus\": valid values are %s (unset it to choose automatically)", EnvISA, isaList(KnownISAs))
	if err.Error() != wantErr {
		t.Errorf("ISAError():\n got %q\nwant %q", err, wantErr)
	}
	if ActiveISA() != best() {
		t.Errorf("ActiveISA() = %s, want the automatic choice %s", ActiveISA(), best())
	}
	got := Kernels()
	restoreISA(t)
	want := selection(t, best())
	for _, k := range got {
		if k.ISA != want[k.Op] {
			t.Errorf("%s uses %s after the fallback, want %s", k.Op, k.ISA, want[k.Op])
		}
	}
}

func TestKernelsIsReadOnly(t *testing.T) {
	restoreISA(t)
	before := map[string]ISA{}
	for _, o := range allOps {
		before[o.opName()] = o.inUse()
	}
	// Change the recorded instruction set behind the selection's back: a Kernels that
	// selected again would follow it.
	saved := activeISA
	other := Generic
	if saved == Generic {
		other = best()
	}
	if other == saved {
		for _, isa := range KnownISAs {
			if isa != saved {
				other = isa // not supported here; Kernels must not select it either
				break
			}
		}
	}
	activeISA = other
	got := Kernels()
	activeISA = saved
	if len(got) != len(allOps) {
		t.Fatalf("Kernels() lists %d operations, want %d", len(got), len(allOps))
	}
	for _, k := range got {
		if k.ISA != before[k.Op] {
			t.Errorf("Kernels() reports %s for %s, which uses %s", k.ISA, k.Op, before[k.Op])
		}
	}
	for _, o := range allOps {
		if o.inUse() != before[o.opName()] {
			t.Errorf("Kernels() changed the variant of %s from %s to %s", o.opName(), before[o.opName()], o.inUse())
		}
	}
}

func TestKernelsFollowsSetISA(t *testing.T) {
	restoreISA(t)
	for _, isa := range SupportedISAs() {
		if err := SetISA(isa); err != nil {
			t.Fatal(err)
		}
		for _, k := range Kernels() {
			if isaRank(k.ISA) > isaRank(isa) || !supported(k.ISA) {
				t.Errorf("after SetISA(%s), %s uses %s", isa, k.Op, k.ISA)
			}
		}
		if g := findKernel(t, "gemm"); isa != Generic && g.ISA != isa {
			t.Errorf("after SetISA(%s), gemm uses %s", isa, g.ISA)
		}
	}
}

func findKernel(t *testing.T, name string) KernelChoice {
	t.Helper()
	for _, k := range Kernels() {
		if k.Op == name {
			return k
		}
	}
	t.Fatalf("no operation %q in Kernels()", name)
	return KernelChoice{}
}
