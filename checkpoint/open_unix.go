//go:build unix

package checkpoint

import "syscall"

// Flags added when opening a file to read: O_NONBLOCK, so that opening a named pipe
// that replaced a checked regular file returns at once instead of waiting for a
// writer (regular files ignore the flag); O_NOFOLLOW, so that a symbolic link swapped
// in after the check is refused.
const (
	openNonblock = syscall.O_NONBLOCK
	openNoFollow = syscall.O_NOFOLLOW
)
