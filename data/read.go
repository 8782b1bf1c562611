package data

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/hypergrid-go/hypergrid/internal/fileio"
)

// Example is one row of a task in text-to-text form, with its label for encoder
// models.
type Example struct {
	// Task is the name of the task the example belongs to.
	Task string
	// Index is the 0-based position of the row among the data rows of its file
	// (skipped rows count, the header does not).
	Index int
	// ID is the row's own id (the task's id column or key), "" when the task has none.
	ID string
	// File is the file's name as given to Read.
	File string
	// Line is the row's 1-based line number in the file.
	Line int
	// Fields holds the values of the task's input fields, in the order of
	// TaskDef.Inputs, after the transform (for encoders that segment sentence pairs).
	Fields []string
	// Inputs is the text-to-text input: the task prefix, then "name: value" per field.
	Inputs string
	// Targets is the text-to-text target: the class's label word, or the rounded
	// score of a regression task. Empty when HasLabel is false.
	Targets string
	// HasLabel is false for rows without a label (test splits).
	HasLabel bool
	// Label is the class id of a classification example, -1 when unlabelled or for
	// a regression task.
	Label int
	// Score is the regression target as written in the file (not rounded); 0 when
	// unlabelled or for a classification task.
	Score float64
	// Epoch is the number of completed passes over the example's task when a Sampler
	// drew it (0 otherwise): data drawn anew every epoch, such as span corruption's
	// noise, depends on it.
	Epoch uint64
}

// Pos returns "file:line" for the example.
func (e *Example) Pos() string { return fmt.Sprintf("%s:%d", e.File, e.Line) }

// Limits of the readers. A data file is read whole into examples, so these bound
// what a damaged file (or a device such as /dev/zero given as a file) can make a read
// take; real files are far smaller (GLUE's largest, MNLI's training file, is a few
// hundred megabytes, and its longest line a few kilobytes).
const (
	// MaxFileSize is the largest data file Read accepts: 4 GiB.
	MaxFileSize int64 = 4 << 30
	// MaxLineSize is the longest line (one row) Read accepts: 16 MiB.
	MaxLineSize = 16 << 20
)

// ReadOptions controls how a file is read.
type ReadOptions struct {
	// SkipMalformed skips rows that cannot be read (wrong number of columns, unknown
	// label, bad JSON, ...) instead of failing; they are counted in ReadStats.
	SkipMalformed bool
	// Limit stops after this many examples; 0 reads the whole file.
	Limit int
	// RequireLabels makes a missing label an error: a TSV file whose header lacks the
	// label column, or a JSONL row without the label key. Without it such rows are
	// read as unlabelled (test splits). ReadSplit sets it for every split but the
	// test splits.
	RequireLabels bool
}

// MaxReportedSkips is how many skipped rows ReadStats keeps the errors of.
const MaxReportedSkips = 20

// ReadStats summarises a read.
type ReadStats struct {
	// Examples is the number of examples returned; Labeled how many of them have a
	// label.
	Examples, Labeled int
	// Skipped is the number of malformed rows skipped (ReadOptions.SkipMalformed).
	Skipped int
	// SkippedRows holds the errors of the first MaxReportedSkips skipped rows.
	SkippedRows []*RowError
}

// RowError is a problem with one row of a file. Its message names the file and line.
type RowError struct {
	File string // the file's name as given to Read
	Line int    // 1-based line number
	Msg  string // what is wrong and how to fix it
}

func (e *RowError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ReadFile reads the file at path as data of the task. The path must name a regular
// file (not a FIFO, a device or a folder, which could block or never end) of at most
// MaxFileSize bytes.
func ReadFile(def TaskDef, path string, opts ReadOptions) ([]Example, ReadStats, error) {
	f, _, err := fileio.OpenRegular(path, "data file", MaxFileSize)
	if err != nil {
		return nil, ReadStats{}, fmt.Errorf("task %s: %w", def.Name, err)
	}
	defer f.Close()
	return Read(def, f, path, opts)
}

// ReadFS reads the file at name in fsys as data of the task, with the checks of
// ReadFile.
func ReadFS(def TaskDef, fsys fs.FS, name string, opts ReadOptions) ([]Example, ReadStats, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, ReadStats{}, fmt.Errorf("task %s: %w", def.Name, err)
	}
	if err := checkRegular(name, fi); err != nil {
		return nil, ReadStats{}, fmt.Errorf("task %s: %w", def.Name, err)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, ReadStats{}, fmt.Errorf("task %s: %w", def.Name, err)
	}
	defer f.Close()
	return Read(def, f, name, opts)
}

// checkRegular refuses what is not a regular file, and files over MaxFileSize.
func checkRegular(name string, fi fs.FileInfo) error {
	return fileio.CheckRegular(name, "data file", fi, MaxFileSize)
}

// ReadSplit reads one split ("train", "dev", "test", ...) of the task from a data root
// folder laid out as the GLUE and SuperGLUE downloads are (root/<Dir>/<file>; see
// TaskDef.SplitPath). Every split but the test splits (named "test" or starting with
// "test") must be labelled: ReadSplit sets opts.RequireLabels for them, so a training
// or dev file without labels is an error instead of examples that teach nothing.
func ReadSplit(def TaskDef, root, split string, opts ReadOptions) ([]Example, ReadStats, error) {
	if !strings.HasPrefix(split, "test") {
		opts.RequireLabels = true
	}
	return ReadFile(def, filepath.Join(root, filepath.FromSlash(def.SplitPath(split))), opts)
}

// Read reads r, named name in errors, as data of the task. A malformed row is a
// *RowError unless opts.SkipMalformed is set; an invalid definition, a file whose
// header lacks a needed column, and a file that cannot be read as lines of text (over
// MaxFileSize, a line over MaxLineSize, CR or UTF-16 line ends) are always errors.
func Read(def TaskDef, r io.Reader, name string, opts ReadOptions) ([]Example, ReadStats, error) {
	var stats ReadStats
	if err := def.Validate(); err != nil {
		return nil, stats, fmt.Errorf("%s: invalid task definition: %w", name, err)
	}
	var src rowSource
	var err error
	switch def.Format {
	case FormatTSV:
		src, err = newTSVSource(&def, r, name, opts.RequireLabels)
	case FormatJSONL:
		src = newJSONLSource(r, name)
	case FormatCSV:
		src, err = newCSVSource(&def, r, name, opts.RequireLabels)
	}
	if err != nil {
		return nil, stats, err
	}
	fm, err := newFormatter(&def)
	fm.requireLabels = opts.RequireLabels
	if err != nil {
		return nil, stats, err
	}
	var out []Example
	for index := 0; opts.Limit <= 0 || len(out) < opts.Limit; index++ {
		rec, err := src.next()
		if err == io.EOF {
			break
		}
		var ex Example
		if err == nil {
			ex, err = fm.example(rec, index)
		}
		if err != nil {
			var rowErr *RowError
			if !errors.As(err, &rowErr) || !opts.SkipMalformed {
				return nil, stats, err
			}
			stats.Skipped++
			if len(stats.SkippedRows) < MaxReportedSkips {
				stats.SkippedRows = append(stats.SkippedRows, rowErr)
			}
			continue
		}
		ex.File = name
		out = append(out, ex)
		stats.Examples++
		if ex.HasLabel {
			stats.Labeled++
		}
	}
	return out, stats, nil
}

// rowSource yields the data rows of a file. next returns io.EOF after the last row;
// a *RowError for a malformed row, after which reading can go on; any other error is
// fatal.
type rowSource interface {
	next() (record, error)
}

// record is one data row.
type record interface {
	// line is the row's 1-based line number.
	line() int
	// get returns the value of a column or key path; present is false when the row
	// has no such column or key (or a JSON null).
	get(col string) (value string, present bool, err error)
	// describe names where a column is missing from, for error messages.
	missing(col string) string
}
