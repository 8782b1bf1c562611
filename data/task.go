package data

import (
	"errors"
	"fmt"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
)

// File formats a task can be stored in.
const (
	// FormatTSV is the GLUE layout: tab-separated values, one row per line, no quoting.
	FormatTSV = "tsv"
	// FormatJSONL is the SuperGLUE layout: one JSON object per line.
	FormatJSONL = "jsonl"
	// FormatCSV is comma-separated values with RFC 4180 quoting and a header line.
	FormatCSV = "csv"
)

// Task types.
const (
	// Classification tasks have a fixed set of classes, each with a label word.
	Classification = "classification"
	// Regression tasks have a real-valued target (for example STS-B's similarity score).
	Regression = "regression"
)

// Metric names a task definition may list. The metric code itself lives with the
// evaluation code; these names are the contract between the two.
const (
	MetricAccuracy     = "accuracy"      // fraction of exact matches
	MetricF1           = "f1"            // binary F1 of class 1 (two-class tasks only)
	MetricF1Macro      = "f1_macro"      // unweighted mean of the per-class F1 scores
	MetricMatthewsCorr = "matthews_corr" // Matthews correlation coefficient
	MetricPearson      = "pearson"       // Pearson correlation (regression)
	MetricSpearman     = "spearman"      // Spearman rank correlation (regression)
)

// classificationMetrics and regressionMetrics are the metric names valid for each
// task type.
var (
	classificationMetrics = []string{MetricAccuracy, MetricF1, MetricF1Macro, MetricMatthewsCorr}
	regressionMetrics     = []string{MetricPearson, MetricSpearman}
)

// Header modes of a TSV file.
const (
	// HeaderPresent: the first line names the columns (the default).
	HeaderPresent = "present"
	// HeaderAbsent: no header line; TSVLayout.Columns names the columns.
	HeaderAbsent = "absent"
	// HeaderAuto: the first line is a header when it names every column the task
	// reads (CoLA: train and dev have no header, test has one); otherwise the columns
	// are named by TSVLayout.Columns.
	HeaderAuto = "auto"
)

// TaskDef describes one task: where its data comes from and how a row becomes a
// text-to-text example. It is plain data, decodable from YAML; call Validate before
// using a definition that did not come from the registry.
type TaskDef struct {
	// Name identifies the task (in mixtures, reports and the registry).
	Name string `yaml:"name"`
	// Prefix starts every input text, as T5's task prefix ("sst2", "mnli", ...).
	// Empty means no prefix.
	Prefix string `yaml:"prefix,omitempty"`
	// Format is FormatTSV, FormatJSONL or FormatCSV.
	Format string `yaml:"format"`
	// TSV describes a TSV file's header; not allowed for JSONL and CSV (a CSV file
	// starts with its header).
	TSV TSVLayout `yaml:"tsv,omitempty"`
	// Dir is the folder holding the task's files, relative to a data root
	// (the GLUE folder name, e.g. "SST-2"). Empty means the root itself.
	Dir string `yaml:"dir,omitempty"`
	// Splits maps a split name to its file name inside Dir. Splits without an entry
	// use "<split>.tsv" or "<split>.jsonl".
	Splits map[string]string `yaml:"splits,omitempty"`
	// ID is the column (TSV) or key path (JSONL) holding the row's own id, if any.
	ID string `yaml:"id,omitempty"`
	// Inputs are the fields written into the input text, in order, each as
	// "name: value".
	Inputs []Field `yaml:"inputs"`
	// Extra fields are read and handed to the Transform, but not written into the
	// input text unless the transform does so.
	Extra []Field `yaml:"extra,omitempty"`
	// Transform names a registered transform (see RegisterTransform) applied to the
	// field values before formatting, e.g. "wsc_spans". Empty means none.
	Transform string `yaml:"transform,omitempty"`
	// Label is the column (TSV) or key path (JSONL) holding the label. A TSV file
	// without this column, or a JSONL line without this key, is unlabelled
	// (a test split).
	Label string `yaml:"label"`
	// Type is Classification (the default) or Regression.
	Type string `yaml:"type,omitempty"`
	// LabelWords are the target texts of the classes, indexed by class id
	// (classification only).
	LabelWords []string `yaml:"label_words,omitempty"`
	// LabelValues says how each class is written in the file, indexed by class id.
	// When empty, a label is written as its class id ("0", "1", ...) or its label word.
	LabelValues []string `yaml:"label_values,omitempty"`
	// Round, for regression, rounds the target text to the nearest multiple of Round
	// (T5 uses 0.2 for STS-B), ties to even. Zero writes the score unrounded.
	Round float64 `yaml:"round,omitempty"`
	// Range, for regression, is the allowed [min, max] of a score; a score outside
	// it is a malformed row. Empty means any finite score.
	Range []float64 `yaml:"range,omitempty"`
	// Metrics lists the metrics the task is scored with (the Metric* names).
	Metrics []string `yaml:"metrics"`
	// Kind is empty for a labelled task, or KindSpanCorruption for T5's
	// span-corruption pretraining on the plain text at Dir (a file, one document per
	// line, or a folder of .txt files); such a task has no format, inputs, label or
	// metrics (see span.go).
	Kind string `yaml:"kind,omitempty"`
	// Span sets a span-corruption task's noise; T5's values when absent.
	Span *SpanOptions `yaml:"span,omitempty"`
}

// TSVLayout describes the header of a TSV file.
type TSVLayout struct {
	// Header is HeaderPresent (default), HeaderAbsent or HeaderAuto.
	Header string `yaml:"header,omitempty"`
	// Columns names the columns of a file that has no header line, in order.
	Columns []string `yaml:"columns,omitempty"`
}

// Field maps a source column to a named part of the input text.
type Field struct {
	// Name is the field's name in the input text ("sentence1" gives "sentence1: …").
	Name string `yaml:"name"`
	// Column is the TSV column name or the JSONL key path ("target.span1_text")
	// holding the value. Empty means the same as Name.
	Column string `yaml:"column,omitempty"`
}

// Source returns the column or key path the field is read from.
func (f Field) Source() string {
	if f.Column != "" {
		return f.Column
	}
	return f.Name
}

// TaskType returns the task's type, defaulting to Classification.
func (d *TaskDef) TaskType() string {
	if d.Type == "" {
		return Classification
	}
	return d.Type
}

// IsRegression reports whether the task has a real-valued target.
func (d *TaskDef) IsRegression() bool { return d.TaskType() == Regression }

// NumClasses returns the number of classes of a classification task, 0 for regression.
func (d *TaskDef) NumClasses() int {
	if d.IsRegression() {
		return 0
	}
	return len(d.LabelWords)
}

// SplitPath returns the path, relative to a data root and with forward slashes, of the
// file holding the given split ("train", "dev", "test", ...).
func (d *TaskDef) SplitPath(split string) string {
	file, ok := d.Splits[split]
	if !ok {
		file = split + "." + d.Format
	}
	if d.Dir == "" {
		return file
	}
	return path.Join(d.Dir, file)
}

// Validate checks the definition and returns all problems found, joined, each naming
// the task and the setting and saying how to fix it.
func (d *TaskDef) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		name := d.Name
		if name == "" {
			name = "(unnamed)"
		}
		errs = append(errs, fmt.Errorf("task %q: "+format, append([]any{name}, args...)...))
	}
	if d.Name == "" {
		bad("name is empty: give the task a name")
	} else if strings.ContainsAny(d.Name, " \t\r\n") {
		bad("name contains white space: use a name like %q", strings.Join(strings.Fields(d.Name), "_"))
	}
	if strings.ContainsAny(d.Prefix, "\t\r\n") {
		bad("prefix contains a tab or line break")
	}
	switch d.Kind {
	case "":
		if d.Span != nil {
			bad("span is set, but kind is not %s: set kind: %s or remove span", KindSpanCorruption, KindSpanCorruption)
		}
	case KindSpanCorruption:
		d.validateSpan(bad)
		return errors.Join(errs...)
	default:
		bad("kind is %q; want %s (or leave it out for a labelled task)", d.Kind, KindSpanCorruption)
		return errors.Join(errs...)
	}
	switch d.Format {
	case FormatTSV:
		switch d.TSV.Header {
		case "", HeaderPresent:
			if len(d.TSV.Columns) > 0 {
				bad("tsv.columns is set but the file has a header, which names the columns: remove tsv.columns or set tsv.header to %q or %q", HeaderAbsent, HeaderAuto)
			}
		case HeaderAbsent, HeaderAuto:
			if len(d.TSV.Columns) == 0 {
				bad("tsv.header is %q but tsv.columns is empty: list the file's column names in order", d.TSV.Header)
			}
		default:
			bad("tsv.header is %q: use %q, %q or %q", d.TSV.Header, HeaderPresent, HeaderAbsent, HeaderAuto)
		}
		if dup := firstDuplicate(d.TSV.Columns); dup != "" {
			bad("tsv.columns names %q twice", dup)
		}
	case FormatJSONL, FormatCSV:
		if d.TSV.Header != "" || len(d.TSV.Columns) > 0 {
			bad("tsv settings given for a %s task: remove them", d.Format)
		}
	case "":
		bad("format is empty: use %q, %q or %q", FormatTSV, FormatJSONL, FormatCSV)
	default:
		bad("format is %q: use %q, %q or %q", d.Format, FormatTSV, FormatJSONL, FormatCSV)
	}
	for split, file := range d.Splits {
		if split == "" || file == "" || strings.Contains(file, "..") {
			bad("splits: entry %q: %q must be a split name and a file name inside dir", split, file)
		}
	}
	if len(d.Inputs) == 0 {
		bad("inputs is empty: list at least one input field")
	}
	names := map[string]bool{}
	checkFields := func(what string, fields []Field) {
		for i, f := range fields {
			switch {
			case f.Name == "":
				bad("%s[%d].name is empty: name the field", what, i)
			case strings.ContainsAny(f.Name, " \t\r\n:"):
				bad("%s[%d].name %q contains white space or a colon", what, i, f.Name)
			case names[f.Name]:
				bad("%s[%d].name %q is used twice: field names must be unique", what, i, f.Name)
			}
			names[f.Name] = true
			d.checkColumn(bad, fmt.Sprintf("%s[%d]", what, i), f.Source())
		}
	}
	checkFields("inputs", d.Inputs)
	checkFields("extra", d.Extra)
	if d.ID != "" {
		d.checkColumn(bad, "id", d.ID)
	}
	if d.Transform != "" {
		if _, ok := lookupTransform(d.Transform); !ok {
			bad("transform %q is not registered (known: %s)", d.Transform, strings.Join(transformNames(), ", "))
		}
	}
	if d.Label == "" {
		bad("label is empty: name the column or key holding the label")
	} else if d.Format == FormatTSV && d.TSV.Header != "" && d.TSV.Header != HeaderPresent && !slices.Contains(d.TSV.Columns, d.Label) {
		bad("label column %q is not in tsv.columns %v", d.Label, d.TSV.Columns)
	}
	switch d.TaskType() {
	case Classification:
		d.validateClassification(bad)
	case Regression:
		d.validateRegression(bad)
	default:
		bad("type is %q: use %q or %q", d.Type, Classification, Regression)
	}
	return errors.Join(errs...)
}

// checkColumn reports a column that a header-less TSV layout does not name.
func (d *TaskDef) checkColumn(bad func(string, ...any), what, col string) {
	if d.Format == FormatTSV && (d.TSV.Header == HeaderAbsent || d.TSV.Header == HeaderAuto) && !slices.Contains(d.TSV.Columns, col) {
		bad("%s: column %q is not in tsv.columns %v", what, col, d.TSV.Columns)
	}
}

func (d *TaskDef) validateClassification(bad func(string, ...any)) {
	if len(d.LabelWords) < 2 {
		bad("label_words has %d entries: a classification task needs at least two", len(d.LabelWords))
	}
	for i, w := range d.LabelWords {
		if strings.TrimSpace(w) == "" || strings.ContainsAny(w, "\t\r\n") {
			bad("label_words[%d] is %q: a label word must be non-empty text on one line", i, w)
		}
		if len(d.LabelValues) == 0 {
			if n, err := strconv.Atoi(w); err == nil && n != i {
				bad("label_words[%d] is %q, which reads as class id %d: give label_values to say how labels are written", i, w, n)
			}
		}
	}
	if dup := firstDuplicate(d.LabelWords); dup != "" {
		bad("label_words has %q twice", dup)
	}
	if len(d.LabelValues) > 0 {
		if len(d.LabelValues) != len(d.LabelWords) {
			bad("label_values has %d entries but label_words has %d: give one value per class", len(d.LabelValues), len(d.LabelWords))
		}
		if dup := firstDuplicate(d.LabelValues); dup != "" {
			bad("label_values has %q twice", dup)
		}
	}
	if d.Round != 0 || len(d.Range) > 0 {
		bad("round and range apply to regression tasks only: remove them or set type: regression")
	}
	d.validateMetrics(bad, classificationMetrics)
	if slices.Contains(d.Metrics, MetricF1) && len(d.LabelWords) != 2 {
		bad("metric %q is binary F1 and needs exactly two classes: use %q", MetricF1, MetricF1Macro)
	}
}

func (d *TaskDef) validateRegression(bad func(string, ...any)) {
	if len(d.LabelWords) > 0 || len(d.LabelValues) > 0 {
		bad("label_words and label_values apply to classification tasks only: remove them")
	}
	if d.Round < 0 || math.IsNaN(d.Round) || math.IsInf(d.Round, 0) {
		bad("round is %v: use a positive step such as 0.2, or 0 for no rounding", d.Round)
	} else if d.Round > 0 {
		if _, _, ok := roundingPlan(d.Round); !ok {
			bad("round is %v: use a step that divides 1 (0.1, 0.2, 0.25, 0.5) or a whole number", d.Round)
		}
	}
	if len(d.Range) != 0 && (len(d.Range) != 2 || !(d.Range[0] < d.Range[1])) {
		bad("range is %v: give [min, max] with min < max, or leave it out", d.Range)
	}
	d.validateMetrics(bad, regressionMetrics)
}

func (d *TaskDef) validateMetrics(bad func(string, ...any), allowed []string) {
	if len(d.Metrics) == 0 {
		bad("metrics is empty: list at least one of %s", strings.Join(allowed, ", "))
	}
	for _, m := range d.Metrics {
		if !slices.Contains(allowed, m) {
			bad("metric %q is not valid for a %s task: use %s", m, d.TaskType(), strings.Join(allowed, ", "))
		}
	}
	if dup := firstDuplicate(d.Metrics); dup != "" {
		bad("metrics lists %q twice", dup)
	}
}

// firstDuplicate returns the first string that occurs twice in list, or "".
func firstDuplicate(list []string) string {
	seen := make(map[string]bool, len(list))
	for _, s := range list {
		if seen[s] {
			return s
		}
		seen[s] = true
	}
	return ""
}

// InputText builds the text-to-text input of one example from its input field values
// (keyed by field name), as the readers do: the prefix, then "name: value" per input
// field. Tasks whose inputs are rewritten by a transform (WSC) cannot be formatted from
// plain values.
func (d *TaskDef) InputText(values map[string]string) (string, error) {
	if d.Transform != "" {
		return "", fmt.Errorf("task %s rewrites its inputs with the %q transform; give it examples in its file format instead", d.Name, d.Transform)
	}
	var b strings.Builder
	b.WriteString(d.Prefix)
	var missing []string
	for _, fl := range d.Inputs {
		v, ok := values[fl.Name]
		if !ok {
			missing = append(missing, fl.Name)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fl.Name)
		b.WriteString(": ")
		b.WriteString(v)
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("task %s needs the input fields %s; missing: %s", d.Name, strings.Join(d.InputNames(), ", "), strings.Join(missing, ", "))
	}
	for k := range values {
		if !slices.ContainsFunc(d.Inputs, func(f Field) bool { return f.Name == k }) {
			return "", fmt.Errorf("task %s has no input field %q; its fields are %s", d.Name, k, strings.Join(d.InputNames(), ", "))
		}
	}
	return b.String(), nil
}

// InputNames lists the names of the task's input fields.
func (d *TaskDef) InputNames() []string {
	names := make([]string, len(d.Inputs))
	for i, f := range d.Inputs {
		names[i] = f.Name
	}
	return names
}
