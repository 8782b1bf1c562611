//go:build linux || freebsd || netbsd || openbsd || dragonfly

package sysmem

// maxrssUnit is the unit of ru_maxrss: KiB on Linux and the BSDs.
const maxrssUnit = 1024
