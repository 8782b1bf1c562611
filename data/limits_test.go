package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// writeSplit writes content as the file of a split of the task under root.
func writeSplit(t *testing.T, root string, def TaskDef, split, content string) string {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(def.SplitPath(split)))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Training and dev files must be labelled; test files may not be.
func TestReadSplitRequiresLabels(t *testing.T) {
	root := t.TempDir()
	sst2, cola, boolq := mustLookup(t, "sst2"), mustLookup(t, "cola"), mustLookup(t, "boolq")
	unlabelledTSV := "sentence\nit is good .\n"
	unlabelledJSONL := `{"question":"q","passage":"p","idx":0}` + "\n"
	tests := []struct {
		def     TaskDef
		split   string
		content string
		wantErr string // with the file's path in front; "" means no error
	}{
		{sst2, "train", unlabelledTSV, `:1: header has no label column "label" (header: sentence): a training or dev file needs labels, only test files may lack them`},
		{sst2, "dev", unlabelledTSV, `:1: header has no label column "label"`},
		{sst2, "test", unlabelledTSV, ""},
		{sst2, "train", "sentence\tlabel\ngood .\t1\n", ""},
		{cola, "train", "index\tsentence\n0\tok .\n", `:1: header has no label column "label"`},
		{cola, "test", "index\tsentence\n0\tok .\n", ""},
		{boolq, "train", unlabelledJSONL, `:1: no label: the object has no key "label" (or it is null); a training or dev file needs labels`},
		{boolq, "dev", `{"question":"q","passage":"p","label":null,"idx":0}` + "\n", `:1: no label`},
		{boolq, "test", unlabelledJSONL, ""},
		// A label that is not one of the task's names the file and line.
		{sst2, "train", "sentence\tlabel\ngood .\t1\nbad .\tmaybe\n", `:3: label "maybe" in "label" is not one of "0" or "negative", "1" or "positive"`},
		{boolq, "dev", `{"question":"q","passage":"p","label":true,"idx":0}` + "\n" + `{"question":"q","passage":"p","label":"yes","idx":1}` + "\n", `:2: label "yes" in "label" is not one of "false", "true"`},
	}
	for _, tt := range tests {
		t.Run(tt.def.Name+"/"+tt.split, func(t *testing.T) {
			path := writeSplit(t, root, tt.def, tt.split, tt.content)
			exs, stats, err := ReadSplit(tt.def, root, tt.split, ReadOptions{})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.split != "test" && stats.Labeled != len(exs) {
					t.Errorf("%d of %d examples labelled", stats.Labeled, len(exs))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), path+tt.wantErr) {
				t.Fatalf("error %v, want %q", err, path+tt.wantErr)
			}
		})
	}
	// Read and ReadFile leave unlabelled files alone unless asked.
	if _, stats, err := Read(sst2, strings.NewReader(unlabelledTSV), "x.tsv", ReadOptions{}); err != nil || stats.Labeled != 0 {
		t.Errorf("Read of an unlabelled file: %v, %+v", err, stats)
	}
	// SkipMalformed skips the unlabelled rows of a JSONL file as malformed.
	_, stats, err := Read(boolq, strings.NewReader(unlabelledJSONL+`{"question":"q","passage":"p","label":true,"idx":1}`+"\n"), "x.jsonl", ReadOptions{RequireLabels: true, SkipMalformed: true})
	if err != nil || stats.Examples != 1 || stats.Skipped != 1 {
		t.Errorf("SkipMalformed with RequireLabels: %v, %+v", err, stats)
	}
}

func TestReadLineEndsAndNUL(t *testing.T) {
	sst2 := mustLookup(t, "sst2")
	tests := []struct {
		name, task, input, wantErr string
	}{
		{"CR line ends", "sst2", "sentence\tlabel\rgood .\t1\rbad .\t0\r", "in.tsv:1: the file has carriage returns (CR) but no line feed (LF), so it reads as one line: the file uses CR (old Mac) line ends, which are not line breaks here; convert them to LF, e.g. tr '\\r' '\\n' < old > new"},
		{"CR in the first line", "sst2", "sentence\tlabel\rgood .\t1\nbad .\t0\n", "in.tsv:1: the first line holds a carriage return (CR): the file uses CR (old Mac) line ends"},
		{"CR line ends jsonl", "boolq", `{"question":"q","passage":"p","idx":0}` + "\r" + `{"question":"q","passage":"p","idx":1}` + "\r", "in.tsv:1: the file has carriage returns (CR) but no line feed (LF)"},
		{"CRLF is fine", "sst2", "sentence\tlabel\r\ngood .\t1\r\n", ""},
		{"NUL in text", "sst2", "sentence\tlabel\ngood .\t1\nba\x00d .\t0\n", "in.tsv:3: line holds a NUL byte (byte 3 of the line), which no text has: if the file is UTF-16, save it as UTF-8 (iconv -f UTF-16 -t UTF-8); otherwise remove the NUL bytes (tr -d '\\000')"},
		{"NUL in header", "sst2", "sente\x00nce\tlabel\ngood .\t1\n", "in.tsv:1: line holds a NUL byte"},
		{"NUL in jsonl", "boolq", `{"question":"q` + "\x00" + `","passage":"p","idx":0}` + "\n", "in.tsv:1: line holds a NUL byte"},
		{"escaped NUL in jsonl", "boolq", `{"question":"q\u0000","passage":"p","idx":0}` + "\n", `in.tsv:1: key "question" holds a NUL character (\u0000), which no text has: remove it`},
		{"UTF-16", "sst2", "\xff\xfes\x00e\x00\n\x00", "in.tsv:1: the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := mustLookup(t, tt.task)
			_, _, err := Read(def, strings.NewReader(tt.input), "in.tsv", ReadOptions{})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			// A file with CR or UTF-16 line ends cannot be read on: skipping its
			// "rows" must not hide that.
			if strings.HasPrefix(tt.name, "CR line ends") || tt.name == "UTF-16" {
				if _, _, err := Read(def, strings.NewReader(tt.input), "in.tsv", ReadOptions{SkipMalformed: true}); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("SkipMalformed: error %v, want %q", err, tt.wantErr)
				}
			}
		})
	}
	// A CR-only training split is refused naming its file, not read as empty.
	root := t.TempDir()
	path := writeSplit(t, root, sst2, "dev", "sentence\tlabel\rgood .\t1\r")
	if _, _, err := ReadSplit(sst2, root, "dev", ReadOptions{}); err == nil || !strings.Contains(err.Error(), path+":1: the file has carriage returns (CR)") {
		t.Errorf("ReadSplit of a CR-only file: %v", err)
	}
}

func TestLineReaderLimits(t *testing.T) {
	read := func(in string, limit int64, maxLine int) ([]string, error) {
		lr := newLineReaderLimits(strings.NewReader(in), "f.tsv", limit, maxLine)
		var lines []string
		for {
			s, _, err := lr.next()
			if err != nil {
				if err.Error() == "EOF" {
					return lines, nil
				}
				return lines, err
			}
			lines = append(lines, s)
		}
	}
	if lines, err := read("0123456789\r\nabc\n", 16, 10); err != nil || len(lines) != 2 {
		t.Errorf("at the limits: %q, %v", lines, err)
	}
	if _, err := read("0123456789\nabcdefg", 16, 10); err == nil || !strings.Contains(err.Error(), "f.tsv:2: the file is larger than 16 bytes, the limit for a data file") {
		t.Errorf("past the file limit: %v", err)
	}
	if _, err := read("abc\n0123456789a\n", 100, 10); err == nil || !strings.Contains(err.Error(), "f.tsv:2: the line is longer than 10 bytes, the limit for one row") {
		t.Errorf("past the line limit: %v", err)
	}
	if _, err := read("abc\n"+strings.Repeat("x", 200<<10), 1<<20, 100<<10); err == nil || !strings.Contains(err.Error(), "f.tsv:2: the line is longer than 100 KiB") {
		t.Errorf("a long last line: %v", err)
	}
	if _, err := read(strings.Repeat("a\tb\r", 100), 1<<20, 64); err == nil || !strings.Contains(err.Error(), "f.tsv:1: the file has carriage returns (CR)") {
		t.Errorf("CR line ends past the line limit: %v", err)
	}
}

func TestReadFileRefusesFolder(t *testing.T) {
	def := mustLookup(t, "sst2")
	dir := t.TempDir()
	if _, _, err := ReadFile(def, dir, ReadOptions{}); err == nil || !strings.Contains(err.Error(), dir+": the data file is a folder, not a regular file") {
		t.Errorf("ReadFile(folder): %v", err)
	}
	fsys := fstest.MapFS{"SST-2/train.tsv": {Data: []byte("sentence\tlabel\na\t1\n")}, "SST-2/dev.tsv": {Mode: 0o755 | os.ModeDir}}
	if _, _, err := ReadFS(def, fsys, "SST-2/dev.tsv", ReadOptions{}); err == nil || !strings.Contains(err.Error(), "SST-2/dev.tsv: the data file is a folder") {
		t.Errorf("ReadFS(folder): %v", err)
	}
	if exs, _, err := ReadFS(def, fsys, "SST-2/train.tsv", ReadOptions{}); err != nil || len(exs) != 1 {
		t.Errorf("ReadFS: %v", err)
	}
}

func TestReadFileRefusesLargeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.tsv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil { // sparse: no disk space used
		t.Skipf("cannot make a sparse file: %v", err)
	}
	f.Close()
	_, _, err = ReadFile(mustLookup(t, "sst2"), path, ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), path+": the data file is 4294967297 bytes, more than the limit of 4 GiB") {
		t.Errorf("ReadFile of a 4 GiB file: %v", err)
	}
}
