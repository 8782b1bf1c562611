//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package checkpoint

// lockDir would lock dir; this system has no flock(2), so it never holds a lock and
// returns at once: saves and loads go unsynchronised, and Resolve only reads (see the
// package documentation).
func lockDir(dir string, exclusive, wait bool) (unlock func(), locked bool) {
	return func() {}, false
}
