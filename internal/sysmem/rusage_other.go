//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sysmem

// PeakRSS returns the largest resident set size this process has had so far, in bytes,
// from getrusage(RUSAGE_SELF). ok is false when the system does not report it: on
// systems other than Linux, macOS and the BSDs (Windows among them, as here), or if the
// call fails.
func PeakRSS() (bytes uint64, ok bool) { return 0, false }
