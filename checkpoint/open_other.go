//go:build !unix

package checkpoint

// This system has no O_NONBLOCK or O_NOFOLLOW to add when opening a file to read; the
// check before opening stands alone.
const (
	openNonblock = 0
	openNoFollow = 0
)
