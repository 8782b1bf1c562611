package plots

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestStaleTempsAreRemoved: a write of an image deletes the temporary files that
// killed writes of the same image left over a minute ago, and nothing else.
func TestStaleTempsAreRemoved(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Minute)
	for _, f := range []struct {
		name string
		old  bool
		dir  bool
	}{
		{".loss.png.123456.tmp", true, false},    // a killed write of loss.png: deleted
		{".loss.png.7.tmp", true, false},         // another one: deleted
		{".loss.png.999.tmp", false, false},      // recent: perhaps a write running elsewhere
		{".loss.png.x1.tmp", true, false},        // not a name writePNG makes
		{".loss.png.tmp", true, false},           // not a name writePNG makes
		{".loss.png.5.tmp.keep", true, false},    // not a name writePNG makes
		{".metrics.png.123.tmp", true, false},    // another image's
		{".loss.png.x.png.123.tmp", true, false}, // the image loss.png.x.png's
		{".loss.png.42.tmp", true, true},         // a directory
		{"notes.txt", true, false},
	} {
		p := filepath.Join(dir, f.name)
		var err error
		if f.dir {
			err = os.Mkdir(p, 0o755)
		} else {
			err = os.WriteFile(p, []byte("partial"), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.old {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := (Options{Width: 120, Height: 90, DPI: 72}).Loss(runRecords(20), filepath.Join(dir, "loss.png")); err != nil {
		t.Fatal(err)
	}
	var names []string
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		names = append(names, e.Name())
	}
	want := []string{".loss.png.42.tmp", ".loss.png.5.tmp.keep", ".loss.png.999.tmp", ".loss.png.tmp", ".loss.png.x.png.123.tmp", ".loss.png.x1.tmp", ".metrics.png.123.tmp", "loss.png", "notes.txt"}
	if !slices.Equal(names, want) {
		t.Errorf("after the write the directory holds\n%v\nwant\n%v", names, want)
	}
}
