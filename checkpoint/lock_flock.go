//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package checkpoint

import (
	"os"
	"syscall"
)

// lockDir takes an advisory lock (flock(2)) on the directory dir, shared or
// exclusive. With wait it blocks until the lock is free; without, it gives up at once
// when another holder conflicts. It returns the function that releases the lock
// (never nil) and whether the lock is held: false when it is busy or cannot be taken
// here (the directory cannot be opened, the file system does not lock).
//
// flock locks belong to an open file description, so two opens in one process
// conflict like two processes do, and the kernel releases the lock of a process that
// dies, however it dies.
func lockDir(dir string, exclusive, wait bool) (unlock func(), locked bool) {
	f, err := os.Open(dir)
	if err != nil {
		return func() {}, false
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if !wait {
		how |= syscall.LOCK_NB
	}
	fd := int(f.Fd())
	for {
		err = syscall.Flock(fd, how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return func() {}, false
	}
	return func() {
		syscall.Flock(fd, syscall.LOCK_UN)
		f.Close()
	}, true
}
