package tokenizer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// collectLines reads in with readTextLines and returns the lines and the error.
func collectLines(in string, maxLine int, limit int64) ([]string, int64, error) {
	var lines []string
	n, err := readTextLines(strings.NewReader(in), "in.txt", maxLine, limit, func(l string, n int) error {
		if n != len(lines)+1 {
			return errors.New("line numbers are not consecutive")
		}
		lines = append(lines, l)
		return nil
	})
	return lines, n, err
}

func TestReadTrainingText(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		maxLine int
		limit   int64
		want    []string
		wantErr string
	}{
		{"lines", "a b\n\nc\r\nlast", 10, 100, []string{"a b", "", "c\r", "last"}, ""},
		{"final newline", "a\nb\n", 10, 100, []string{"a", "b"}, ""},
		{"empty", "", 10, 100, nil, ""},
		{"line at the limit", "0123456789\nx", 10, 100, []string{"0123456789", "x"}, ""},
		{"last line at the limit", "x\n0123456789", 10, 100, []string{"x", "0123456789"}, ""},
		{"line too long", "x\n0123456789a\n", 10, 100, nil, "in.txt:2: line is longer than 10 bytes, the limit: training text has one sentence per line"},
		{"last line too long", "0123456789a", 10, 100, nil, "in.txt:1: line is longer than 10 bytes"},
		{"CR line ends", "a b\rc d\re f\rg", 5, 100, nil, "in.txt:1: line is longer than 5 bytes, the limit: it holds carriage returns (CR): if the file uses CR (old Mac) line ends, convert them, e.g. tr '\\r' '\\n'"},
		{"UTF-16", "a\x00b\x00c\x00d\x00", 5, 100, nil, "in.txt:1: line is longer than 5 bytes, the limit: it holds NUL bytes: the file is binary or UTF-16"},
		{"input at the limit", "ab\ncd\n", 10, 6, []string{"ab", "cd"}, ""},
		{"input too large", "ab\ncd\nef", 10, 6, nil, "in.txt:3: the training text is larger than the limit of 6 bytes: train on a sample of it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := collectLines(tt.in, tt.maxLine, tt.limit)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) || n != int64(len(tt.in)) {
				t.Fatalf("lines %q (%d bytes), want %q (%d)", got, n, tt.want, len(tt.in))
			}
		})
	}
	// The callback's error stops the read and comes back unchanged.
	stop := errors.New("stop")
	if _, err := ReadTrainingText(strings.NewReader("a\nb\n"), "x", 100, func(string, int) error { return stop }); err != stop {
		t.Errorf("callback error: got %v", err)
	}
}

func TestTrainInputLimits(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, "long.txt")
	if err := os.WriteFile(long, []byte("a fine line\n"+strings.Repeat("x", MaxTrainingLineSize+1)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Train(TrainOptions{Inputs: []string{long}, VocabSize: 100, Normalization: Identity})
	if err == nil || !strings.Contains(err.Error(), long+":2: line is longer than 1 MiB") {
		t.Errorf("Train with a 1 MiB line: %v", err)
	}
	_, err = Train(TrainOptions{Inputs: []string{"testdata/corpus.txt", "testdata/corpus.txt"}, VocabSize: 100, Normalization: Identity, MaxInputSize: 1000})
	if err == nil || !strings.Contains(err.Error(), "testdata/corpus.txt: the input files hold") || !strings.Contains(err.Error(), "more than the limit of 1000 bytes (TrainOptions.MaxInputSize)") {
		t.Errorf("Train past MaxInputSize: %v", err)
	}
	_, err = Train(TrainOptions{Inputs: []string{dir}, VocabSize: 100, Normalization: Identity})
	if err == nil || !strings.Contains(err.Error(), dir+": the input file is a folder, not a regular file") {
		t.Errorf("Train with a folder as input: %v", err)
	}
	_, err = Train(TrainOptions{Sentences: []string{"a"}, MaxSentenceLength: MaxTrainingLineSize + 1})
	if err == nil || !strings.Contains(err.Error(), "maximum sentence length") {
		t.Errorf("MaxSentenceLength above the line limit: %v", err)
	}
}

func TestParseIDs(t *testing.T) {
	tests := []struct {
		line    string
		want    []int
		wantErr string
	}{
		{"", []int{}, ""},
		{"  \t\r", []int{}, ""},
		{"0 1 2", []int{0, 1, 2}, ""},
		{" 9\t3  4\r", []int{9, 3, 4}, ""},
		{"1 x 2", nil, `item 2: "x" is not an id: ids are decimal integers separated by spaces`},
		{"1,2", nil, `item 1: "1,2" is not an id`},
		{"3 10", nil, "item 2: id 10 is out of range: the model has 10 pieces, ids run from 0 to 9"},
		{"-1", nil, "item 1: id -1 is out of range"},
		{"99999999999999999999", nil, "item 1: id 99999999999999999999 is out of range"},
	}
	for _, tt := range tests {
		got, err := ParseIDs(tt.line, 10)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseIDs(%q): error %v, want %q", tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) || joinInts(got) != joinInts(tt.want) {
			t.Errorf("ParseIDs(%q) = %v, %v; want %v", tt.line, got, err, tt.want)
		}
	}
	if _, err := ParseIDs("0", 0); err == nil || !strings.Contains(err.Error(), "the model has no pieces") {
		t.Errorf("empty vocabulary: %v", err)
	}
}
