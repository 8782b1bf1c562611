package monitor

import (
	"io"
	"os"
	"strconv"
	"strings"
)

// DefaultWidth is the terminal width assumed when $COLUMNS does not give one.
const DefaultWidth = 80

// minWidth is the narrowest terminal line Progress lays out.
const minWidth = 20

// IsTerminal reports whether w is an interactive terminal that can redraw a line: an
// *os.File on a character device, with $TERM not "dumb".
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	info, err := f.Stat()
	if err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	return os.Getenv("TERM") != "dumb"
}

// TerminalWidth returns the width in columns from $COLUMNS, or [DefaultWidth] when it
// is unset or not a positive integer. Widths under 20 are raised to 20.
func TerminalWidth() int {
	n, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS")))
	if err != nil || n <= 0 {
		return DefaultWidth
	}
	return max(n, minWidth)
}
