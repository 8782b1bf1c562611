package data

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// formatter turns records of one task into examples.
type formatter struct {
	def           *TaskDef
	requireLabels bool // a missing label is an error (training and dev splits)
	transform     Transform
	labels        map[string]int // file label text -> class id
	expected      string         // the label texts, for error messages
	decimals      int            // digits after the point of a regression target
	mult, div     float64        // rounding: round(x*mult)/mult, or round(x/div)*div
}

func newFormatter(def *TaskDef) (*formatter, error) {
	f := &formatter{def: def}
	if def.Transform != "" {
		f.transform, _ = lookupTransform(def.Transform) // Validate checked it exists
	}
	if def.IsRegression() {
		if def.Round > 0 {
			f.mult, f.div, _ = roundingPlan(def.Round)
			f.decimals = decimalsOf(def.Round)
		}
		return f, nil
	}
	f.labels = map[string]int{}
	var shown []string
	if len(def.LabelValues) > 0 {
		for i, v := range def.LabelValues {
			f.labels[v] = i
			shown = append(shown, strconv.Quote(v))
		}
	} else {
		for i, w := range def.LabelWords {
			id := strconv.Itoa(i)
			f.labels[id] = i
			f.labels[w] = i
			shown = append(shown, strconv.Quote(id)+" or "+strconv.Quote(w))
		}
	}
	f.expected = strings.Join(shown, ", ")
	return f, nil
}

// example builds the example of one record; index is its position among data rows.
func (f *formatter) example(rec record, index int) (Example, error) {
	def := f.def
	rowErr := func(format string, args ...any) error {
		return &RowError{def.srcName(rec), rec.line(), fmt.Sprintf(format, args...)}
	}
	ex := Example{Task: def.Name, Index: index, Line: rec.line(), Label: -1}
	values := make(map[string]string, len(def.Inputs)+len(def.Extra))
	for _, fl := range def.Inputs {
		if err := f.read(rec, fl, values); err != nil {
			return ex, err
		}
	}
	for _, fl := range def.Extra {
		if err := f.read(rec, fl, values); err != nil {
			return ex, err
		}
	}
	if def.ID != "" {
		id, ok, err := rec.get(def.ID)
		if err != nil {
			return ex, err
		}
		if !ok {
			return ex, rowErr("no id: %s", rec.missing(def.ID))
		}
		ex.ID = id
	}
	if f.transform != nil {
		if err := f.transform(values); err != nil {
			return ex, rowErr("%s: %v", def.Transform, err)
		}
	}
	var b strings.Builder
	b.WriteString(def.Prefix)
	ex.Fields = make([]string, len(def.Inputs))
	for i, fl := range def.Inputs {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(fl.Name)
		b.WriteString(": ")
		b.WriteString(values[fl.Name])
		ex.Fields[i] = values[fl.Name]
	}
	ex.Inputs = b.String()

	raw, ok, err := rec.get(def.Label)
	if err != nil {
		return ex, err
	}
	if !ok {
		if f.requireLabels {
			return ex, rowErr("no label: %s; a training or dev file needs labels, only test files may lack them", rec.missing(def.Label))
		}
		return ex, nil // unlabelled: a test split
	}
	ex.HasLabel = true
	if def.IsRegression() {
		score, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || math.IsNaN(score) || math.IsInf(score, 0) {
			return ex, rowErr("score %q in %q is not a finite number", raw, def.Label)
		}
		if len(def.Range) == 2 && (score < def.Range[0] || score > def.Range[1]) {
			return ex, rowErr("score %v in %q is outside the task's range [%v, %v]", score, def.Label, def.Range[0], def.Range[1])
		}
		ex.Score = score
		ex.Targets = f.scoreText(score)
		return ex, nil
	}
	id, known := f.labels[raw]
	if !known {
		return ex, rowErr("label %q in %q is not one of %s: fix the row or the task's label_values", raw, def.Label, f.expected)
	}
	ex.Label = id
	ex.Targets = def.LabelWords[id]
	return ex, nil
}

// read stores the value of one field of rec in values.
func (f *formatter) read(rec record, fl Field, values map[string]string) error {
	v, ok, err := rec.get(fl.Source())
	if err != nil {
		return err
	}
	if !ok {
		return &RowError{f.def.srcName(rec), rec.line(), fmt.Sprintf("field %s: %s", fl.Name, rec.missing(fl.Source()))}
	}
	values[fl.Name] = v
	return nil
}

// srcName returns the file name a record came from.
func (d *TaskDef) srcName(rec record) string {
	switch r := rec.(type) {
	case *tsvRecord:
		return r.src.lines.name
	case *jsonlRecord:
		return r.name
	case *csvRecord:
		return r.src.name
	}
	return d.Name
}

// ScoreText formats a regression score as the task's target text: rounded to the
// nearest multiple of Round (ties to even, computed in float32 as T5 does for STS-B)
// with as many decimals as Round needs, at least one; unrounded and shortest when
// Round is 0. It panics if the task is not a valid regression task.
func (d *TaskDef) ScoreText(score float64) string {
	if !d.IsRegression() {
		panic("data: ScoreText called on classification task " + d.Name)
	}
	f, err := newFormatter(d)
	if err != nil {
		panic(err)
	}
	return f.scoreText(score)
}

func (f *formatter) scoreText(score float64) string {
	switch {
	case f.mult > 0:
		m := float32(f.mult)
		r := float32(math.RoundToEven(float64(float32(score)*m))) / m
		return strconv.FormatFloat(float64(r), 'f', f.decimals, 32)
	case f.div > 0:
		r := math.RoundToEven(score/f.div) * f.div
		return strconv.FormatFloat(r, 'f', f.decimals, 64)
	}
	return strconv.FormatFloat(score, 'f', -1, 64)
}

// roundingPlan says how to round to multiples of step: multiply by mult (when 1/step
// is a whole number) or divide by div (when step is a whole number).
func roundingPlan(step float64) (mult, div float64, ok bool) {
	const eps = 1e-9
	if inv := 1 / step; math.Abs(inv-math.Round(inv)) < eps*inv {
		return math.Round(inv), 0, true
	}
	if math.Abs(step-math.Round(step)) < eps*step {
		return 0, math.Round(step), true
	}
	return 0, 0, false
}

// decimalsOf returns the number of decimals needed to write multiples of step, at
// least 1 (T5 writes STS-B targets as "3.0", not "3").
func decimalsOf(step float64) int {
	for d := 1; d < 9; d++ {
		x := step * math.Pow10(d)
		if math.Abs(x-math.Round(x)) < 1e-6 {
			return d
		}
	}
	return 9
}
