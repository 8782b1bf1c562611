//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sysmem

import "time"

// PeakRSS returns the largest resident set size this process has had so far, in bytes,
// from getrusage(RUSAGE_SELF). ok is false when the system does not report it: on
// systems other than Linux, macOS and the BSDs (Windows among them, as here), or if the
// call fails.
func PeakRSS() (bytes uint64, ok bool) { return 0, false }

// CPUTime returns the CPU time this process has used so far, user and system together,
// from getrusage(RUSAGE_SELF). ok is false where the system does not report it (as here).
func CPUTime() (d time.Duration, ok bool) { return 0, false }
