package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind says what a [Record] describes.
type Kind string

// The kinds of record in a metrics log.
const (
	// KindTrain is one training step: loss, learning rate, throughput.
	KindTrain Kind = "train"
	// KindEval is one task's evaluation metrics at a step.
	KindEval Kind = "eval"
)

// Record is one line of the metrics log.
//
// Non-finite float values (a diverged loss) are written as the JSON strings "NaN",
// "+Inf" and "-Inf", since JSON numbers cannot hold them; the reader turns them back.
type Record struct {
	// Kind is KindTrain or KindEval.
	Kind Kind
	// Step is the number of optimizer steps done when the record was made (>= 0).
	Step int
	// Time is when the record was made; [Log.Write] fills a zero Time with the
	// current time. It is written in UTC with nanosecond precision (RFC 3339).
	Time time.Time

	// Loss is the training loss of the step (train records).
	Loss float64
	// LR is the learning rate of the step (train records).
	LR float64
	// TokensPerS is the training throughput in tokens per second (train records).
	TokensPerS float64

	// Task names the evaluated task (eval records; required there, empty otherwise).
	Task string
	// Metrics holds the task's metrics (eval records; at least one), as
	// [metrics.TaskResult] holds them (GLUE metrics on the 0-100 scale), or, for train
	// records, optional extra scalars such as a gradient norm.
	Metrics map[string]float64
}

// Validate reports whether r can be written to and read back from a log.
func (r Record) Validate() error {
	if r.Step < 0 {
		return fmt.Errorf("step %d is negative", r.Step)
	}
	if y := r.Time.UTC().Year(); !r.Time.IsZero() && (y < 0 || y > 9999) {
		return fmt.Errorf("time %v is outside the years 0000-9999 that RFC 3339 can write", r.Time)
	}
	switch r.Kind {
	case KindTrain:
		if r.Task != "" {
			return fmt.Errorf("train record at step %d has a task (%q); only eval records name a task", r.Step, r.Task)
		}
	case KindEval:
		if r.Task == "" {
			return fmt.Errorf("eval record at step %d has no task", r.Step)
		}
		if len(r.Metrics) == 0 {
			return fmt.Errorf("eval record for task %q at step %d has no metrics", r.Task, r.Step)
		}
	default:
		return fmt.Errorf("unknown record kind %q (want %q or %q)", r.Kind, KindTrain, KindEval)
	}
	for name := range r.Metrics {
		if name == "" {
			return fmt.Errorf("%s record at step %d has a metric with an empty name", r.Kind, r.Step)
		}
	}
	return nil
}

// AppendJSON appends r as one JSON object, without a newline, to b. Keys come in a
// fixed order (step, time, kind, then the kind's fields; metric names sorted), so the
// same record always gives the same bytes. It does not validate r.
func (r Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"step":`...)
	b = strconv.AppendInt(b, int64(r.Step), 10)
	if !r.Time.IsZero() {
		b = append(b, `,"time":"`...)
		b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, `,"kind":`...)
	b = appendString(b, string(r.Kind))
	if r.Kind == KindTrain {
		b = append(b, `,"loss":`...)
		b = appendFloat(b, r.Loss)
		b = append(b, `,"lr":`...)
		b = appendFloat(b, r.LR)
		b = append(b, `,"tokens_per_s":`...)
		b = appendFloat(b, r.TokensPerS)
	}
	if r.Task != "" {
		b = append(b, `,"task":`...)
		b = appendString(b, r.Task)
	}
	if len(r.Metrics) > 0 {
		b = append(b, `,"metrics":{`...)
		names := make([]string, 0, len(r.Metrics))
		for name := range r.Metrics {
			names = append(names, name)
		}
		slices.Sort(names)
		for i, name := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, name)
			b = append(b, ':')
			b = appendFloat(b, r.Metrics[name])
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendString appends s as a JSON string (invalid UTF-8 becomes U+FFFD).
func appendString(b []byte, s string) []byte {
	q, err := json.Marshal(s)
	if err != nil { // cannot happen for a string
		panic(err)
	}
	return append(b, q...)
}

// appendFloat appends v as a JSON number, or as a quoted "NaN", "+Inf" or "-Inf".
func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"+Inf"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Inf"`...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// jsonFloat is a float64 that also decodes the strings written for non-finite values.
type jsonFloat float64

// UnmarshalJSON implements json.Unmarshaler.
func (f *jsonFloat) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return errors.New("null is not a number")
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			*f = jsonFloat(math.NaN())
		case "+Inf", "Inf":
			*f = jsonFloat(math.Inf(1))
		case "-Inf":
			*f = jsonFloat(math.Inf(-1))
		default:
			return fmt.Errorf("%q is not a number (want a JSON number, \"NaN\", \"+Inf\" or \"-Inf\")", s)
		}
		return nil
	}
	var v float64
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("%s is not a number", data)
	}
	*f = jsonFloat(v)
	return nil
}

// wireRecord is the decoded form of one line; pointers tell absent keys apart.
type wireRecord struct {
	Step       *int                 `json:"step"`
	Time       *string              `json:"time"`
	Kind       *string              `json:"kind"`
	Loss       *jsonFloat           `json:"loss"`
	LR         *jsonFloat           `json:"lr"`
	TokensPerS *jsonFloat           `json:"tokens_per_s"`
	Task       *string              `json:"task"`
	Metrics    map[string]jsonFloat `json:"metrics"`
}

// ParseRecord decodes one line of a metrics log (without its newline). Unknown keys,
// a missing "kind" or "step", a train record without "loss" and an eval record without
// "task" or "metrics" are errors.
func ParseRecord(line []byte) (Record, error) {
	var w wireRecord
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Record{}, describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Record{}, errors.New("text after the JSON object (one record per line)")
	}
	if w.Kind == nil {
		return Record{}, errors.New(`missing "kind" (want "train" or "eval")`)
	}
	if w.Step == nil {
		return Record{}, errors.New(`missing "step"`)
	}
	r := Record{Kind: Kind(*w.Kind), Step: *w.Step}
	if w.Time != nil {
		t, err := time.Parse(time.RFC3339Nano, *w.Time)
		if err != nil {
			return Record{}, fmt.Errorf(`"time" %q is not an RFC 3339 time such as "2025-01-02T03:04:05.678Z"`, *w.Time)
		}
		r.Time = t
	}
	if w.Task != nil {
		r.Task = *w.Task
	}
	if w.Metrics != nil {
		r.Metrics = make(map[string]float64, len(w.Metrics))
		for k, v := range w.Metrics {
			r.Metrics[k] = float64(v)
		}
	}
	switch r.Kind {
	case KindTrain:
		if w.Loss == nil {
			return Record{}, errors.New(`train record without "loss"`)
		}
		r.Loss = float64(*w.Loss)
		if w.LR != nil {
			r.LR = float64(*w.LR)
		}
		if w.TokensPerS != nil {
			r.TokensPerS = float64(*w.TokensPerS)
		}
	case KindEval:
		for key, present := range map[string]bool{"loss": w.Loss != nil, "lr": w.LR != nil, "tokens_per_s": w.TokensPerS != nil} {
			if present {
				return Record{}, fmt.Errorf("eval record with %q (a train field)", key)
			}
		}
	}
	if err := r.Validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}

// describeJSONError rewords encoding/json errors for a person reading a log file.
func describeJSONError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("not valid JSON at byte %d: %v", syn.Offset, err)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Errorf("%q has the wrong type (%s where %s is needed)", typ.Field, typ.Value, typ.Type)
		}
		return fmt.Errorf("a line must be a JSON object, not a JSON %s", typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("incomplete JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return fmt.Errorf("%s (known keys: step, time, kind, loss, lr, tokens_per_s, task, metrics)", strings.TrimPrefix(err.Error(), "json: "))
	}
	return err
}
