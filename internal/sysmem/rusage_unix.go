//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sysmem

import (
	"syscall"
	"time"
)

// PeakRSS returns the largest resident set size this process has had so far, in bytes,
// from getrusage(RUSAGE_SELF). ok is false when the system does not report it: on
// systems other than Linux, macOS and the BSDs (Windows among them), or if the call fails.
func PeakRSS() (bytes uint64, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil || ru.Maxrss <= 0 {
		return 0, false
	}
	return uint64(ru.Maxrss) * maxrssUnit, true
}

// CPUTime returns the CPU time this process has used so far, user and system together,
// from getrusage(RUSAGE_SELF). ok is false where the system does not report it.
func CPUTime() (d time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
