// Package sysmem reports memory figures of the running process and of the machine or
// container it runs in, without cgo: the peak resident set size (PeakRSS) and the memory
// this process may use (Total); and, from getrusage as PeakRSS, the CPU time the process
// has used (CPUTime), which the benchmarks divide by wall time to show how many cores a
// run kept busy.
package sysmem

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Files Total reads on Linux. Its source result is one of these paths.
const (
	// CgroupV2Max is the memory limit of the process's cgroup v2 ("max" when unlimited).
	CgroupV2Max = "/sys/fs/cgroup/memory.max"
	// CgroupV1Limit is the memory limit of the process's cgroup v1 memory controller (a
	// huge number when unlimited).
	CgroupV1Limit = "/sys/fs/cgroup/memory/memory.limit_in_bytes"
	// ProcMeminfo holds the machine's physical memory (MemTotal).
	ProcMeminfo = "/proc/meminfo"
)

// maxFileSize bounds what Total reads of each file: all of them are a few lines.
const maxFileSize = 64 << 10

// unlimitedV1 is the smallest cgroup v1 limit taken to mean "no limit": the kernel writes
// 2^63-1 rounded down to a page (9223372036854771712) for an unset limit, and nothing
// reaches 1 EiB.
const unlimitedV1 = 1 << 60

// readFunc reads a whole file; tests swap in fake contents.
type readFunc func(path string) ([]byte, error)

// readLimited reads path, refusing files over limit bytes. It does not trust the size
// the file system reports: files under /proc and /sys report 0.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}

func readFile(path string) ([]byte, error) { return readLimited(path, maxFileSize) }

// total is Total over the files read returns: the smallest of the cgroup v2 limit, the
// cgroup v1 limit and MemTotal that are present and meaningful.
func total(read readFunc) (bytes uint64, source string, ok bool) {
	consider := func(v uint64, src string, err error) {
		if err == nil && v > 0 && (!ok || v < bytes) {
			bytes, source, ok = v, src, true
		}
	}
	consider(cgroupV2(read))
	consider(cgroupV1(read))
	consider(memTotal(read))
	return bytes, source, ok
}

var errNoLimit = errors.New("no limit")

// cgroupV2 reads memory.max: a byte count, or "max" for no limit.
func cgroupV2(read readFunc) (uint64, string, error) {
	data, err := read(CgroupV2Max)
	if err != nil {
		return 0, CgroupV2Max, err
	}
	s := string(bytes.TrimSpace(data))
	if s == "max" {
		return 0, CgroupV2Max, errNoLimit
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, CgroupV2Max, err
}

// cgroupV1 reads memory.limit_in_bytes, where an unset limit reads as a huge number.
func cgroupV1(read readFunc) (uint64, string, error) {
	data, err := read(CgroupV1Limit)
	if err != nil {
		return 0, CgroupV1Limit, err
	}
	v, err := strconv.ParseUint(string(bytes.TrimSpace(data)), 10, 64)
	if err == nil && v >= unlimitedV1 {
		err = errNoLimit
	}
	return v, CgroupV1Limit, err
}

// memTotal reads the MemTotal line of /proc/meminfo ("MemTotal:  16318480 kB").
func memTotal(read readFunc) (uint64, string, error) {
	data, err := read(ProcMeminfo)
	if err != nil {
		return 0, ProcMeminfo, err
	}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		rest, found := bytes.CutPrefix(line, []byte("MemTotal:"))
		if !found {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, ProcMeminfo, fmt.Errorf("%s: unexpected MemTotal line %q", ProcMeminfo, line)
		}
		kib, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, ProcMeminfo, err
		}
		if kib > (1<<64-1)/1024 {
			return 0, ProcMeminfo, fmt.Errorf("%s: MemTotal %d kB out of range", ProcMeminfo, kib)
		}
		return kib * 1024, ProcMeminfo, nil
	}
	return 0, ProcMeminfo, fmt.Errorf("%s: no MemTotal line", ProcMeminfo)
}
