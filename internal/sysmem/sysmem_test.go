package sysmem

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const meminfo16G = `MemTotal:       16777216 kB
MemFree:         1234567 kB
MemAvailable:    8765432 kB
`

// fakeFS serves file contents from a map; a missing path does not exist.
func fakeFS(files map[string]string) readFunc {
	return func(path string) ([]byte, error) {
		s, ok := files[path]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
		return []byte(s), nil
	}
}

func TestTotal(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name   string
		files  map[string]string
		want   uint64
		source string
		ok     bool
	}{
		{"meminfo only", map[string]string{ProcMeminfo: meminfo16G}, 16 * gib, ProcMeminfo, true},
		{"cgroup v2 limit", map[string]string{CgroupV2Max: "4294967296\n", ProcMeminfo: meminfo16G}, 4 * gib, CgroupV2Max, true},
		{"cgroup v2 unlimited", map[string]string{CgroupV2Max: "max\n", ProcMeminfo: meminfo16G}, 16 * gib, ProcMeminfo, true},
		{"cgroup v2 above the machine", map[string]string{CgroupV2Max: "68719476736\n", ProcMeminfo: meminfo16G}, 16 * gib, ProcMeminfo, true},
		{"cgroup v2 zero ignored", map[string]string{CgroupV2Max: "0\n", ProcMeminfo: meminfo16G}, 16 * gib, ProcMeminfo, true},
		{"cgroup v2 garbage ignored", map[string]string{CgroupV2Max: "lots\n", ProcMeminfo: meminfo16G}, 16 * gib, ProcMeminfo, true},
		{"cgroup v1 limit", map[string]string{CgroupV1Limit: "2147483648\n", ProcMeminfo: meminfo16G}, 2 * gib, CgroupV1Limit, true},
		{"cgroup v1 unlimited", map[string]string{CgroupV1Limit: "9223372036854771712\n", ProcMeminfo: meminfo16G}, 16 * gib, ProcMeminfo, true},
		{"cgroup v1 max int64", map[string]string{CgroupV1Limit: "9223372036854775807", ProcMeminfo: meminfo16G}, 16 * gib, ProcMeminfo, true},
		{"cgroup v1 and v2: smallest", map[string]string{CgroupV2Max: "3221225472", CgroupV1Limit: "2147483648", ProcMeminfo: meminfo16G}, 2 * gib, CgroupV1Limit, true},
		{"cgroup v2 and v1: smallest", map[string]string{CgroupV2Max: "1073741824", CgroupV1Limit: "2147483648", ProcMeminfo: meminfo16G}, 1 * gib, CgroupV2Max, true},
		{"cgroup without meminfo", map[string]string{CgroupV2Max: "1073741824"}, 1 * gib, CgroupV2Max, true},
		{"meminfo in another order", map[string]string{ProcMeminfo: "MemFree: 1 kB\nMemTotal: 1024 kB\n"}, 1 << 20, ProcMeminfo, true},
		{"meminfo without MemTotal", map[string]string{ProcMeminfo: "MemFree: 1 kB\n"}, 0, "", false},
		{"meminfo with another unit", map[string]string{ProcMeminfo: "MemTotal: 1024 MB\n"}, 0, "", false},
		{"meminfo overflowing", map[string]string{ProcMeminfo: "MemTotal: 18446744073709551615 kB\n"}, 0, "", false},
		{"nothing readable", map[string]string{}, 0, "", false},
		{"only unlimited cgroups", map[string]string{CgroupV2Max: "max", CgroupV1Limit: "9223372036854771712"}, 0, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, source, ok := total(fakeFS(tc.files))
			if got != tc.want || source != tc.source || ok != tc.ok {
				t.Errorf("total() = %d, %q, %v; want %d, %q, %v", got, source, ok, tc.want, tc.source, tc.ok)
			}
		})
	}
}

func TestTotalIgnoresReadErrors(t *testing.T) {
	read := func(path string) ([]byte, error) {
		if path == ProcMeminfo {
			return []byte(meminfo16G), nil
		}
		return nil, errors.New("too large")
	}
	if got, source, ok := total(read); got != 16<<30 || source != ProcMeminfo || !ok {
		t.Errorf("total() = %d, %q, %v", got, source, ok)
	}
}

func TestReadLimited(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		limit   int64
		want    string
		wantErr bool
	}{
		{"under the limit", small, 10, "12345", false},
		{"at the limit", small, 5, "12345", false},
		{"over the limit", small, 4, "", true},
		{"missing", filepath.Join(dir, "missing"), 10, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readLimited(tc.path, tc.limit)
			if (err != nil) != tc.wantErr || string(got) != tc.want {
				t.Errorf("readLimited = %q, %v; want %q, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestTotalHere checks the real files on Linux, and ok=false elsewhere.
func TestTotalHere(t *testing.T) {
	got, source, ok := Total()
	if runtime.GOOS != "linux" {
		if ok {
			t.Errorf("Total() = %d, %q, true on %s", got, source, runtime.GOOS)
		}
		return
	}
	if !ok || got == 0 {
		t.Fatalf("Total() = %d, %q, %v on linux", got, source, ok)
	}
	if source != CgroupV2Max && source != CgroupV1Limit && source != ProcMeminfo {
		t.Errorf("source %q", source)
	}
	t.Logf("Total() = %d MiB from %s", got>>20, source)
}

// TestPeakRSS checks PeakRSS is reported where it should be, and on Linux its unit
// against VmHWM in /proc/self/status (KiB there). ru_maxrss also counts what the process
// had before its last exec (the go command that started it), so it may be larger.
func TestPeakRSS(t *testing.T) {
	switch runtime.GOOS {
	case "linux", "darwin", "ios", "freebsd", "netbsd", "openbsd", "dragonfly":
	default:
		if got, ok := PeakRSS(); ok {
			t.Errorf("PeakRSS() = %d, true on %s", got, runtime.GOOS)
		}
		return
	}
	// Touch 64 MiB, so the peak is well above what any unit mix-up could pass for.
	const touched = 64 << 20
	buf := make([]byte, touched)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	var hwm uint64
	if runtime.GOOS == "linux" {
		hwm = vmHWM(t)
	}
	got, ok := PeakRSS()
	runtime.KeepAlive(buf)
	t.Logf("PeakRSS() = %d MiB", got>>20)
	if !ok || got < touched {
		t.Fatalf("PeakRSS() = %d, %v after touching %d bytes", got, ok, touched)
	}
	if runtime.GOOS != "linux" {
		return
	}
	// The two are counted a little differently; a wrong unit is off by 1024.
	if got < hwm/2 || got > 64*hwm {
		t.Errorf("PeakRSS() = %d bytes, VmHWM = %d bytes: wrong unit?", got, hwm)
	}
}

// vmHWM reads the peak resident set size of this process image from /proc/self/status.
func vmHWM(t *testing.T) uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if rest, found := strings.CutPrefix(sc.Text(), "VmHWM:"); found {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if kib, err := strconv.ParseUint(f[0], 10, 64); err == nil {
					return kib * 1024
				}
			}
		}
	}
	t.Skip("no VmHWM in /proc/self/status")
	return 0
}

func TestCPUTime(t *testing.T) {
	before, ok := CPUTime()
	if !ok {
		if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
			t.Fatalf("CPUTime not reported on %s", runtime.GOOS)
		}
		t.Skipf("CPUTime not reported on %s", runtime.GOOS)
	}
	// Burn about 50 ms of CPU; getrusage counts in ticks of at most a few milliseconds.
	x := 1.0
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		for range 1000 {
			x = x*1.0000001 + 1e-9
		}
	}
	after, _ := CPUTime()
	if d := after - before; d < 20*time.Millisecond {
		t.Fatalf("CPUTime grew by %v over 50 ms of work (x=%v)", d, x)
	}
}
