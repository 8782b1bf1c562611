package tokenizer

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests compare this package with the reference SentencePiece tools (Debian
// package "sentencepiece": spm_train, spm_encode, spm_decode). They skip when the tools
// are not on PATH.

func needTool(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s not on PATH (install Debian package sentencepiece)", n)
		}
	}
}

// glueDir finds the development GLUE data: $HYPERGRID_GLUE_DIR, else ../shared/data/glue
// relative to the module root. It skips the test when neither exists.
func glueDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("HYPERGRID_GLUE_DIR"); d != "" {
		if _, err := os.Stat(d); err == nil {
			return d
		}
		t.Skipf("HYPERGRID_GLUE_DIR=%s does not exist", d)
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "data", "glue")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("GLUE data not found at %s (set HYPERGRID_GLUE_DIR)", d)
	}
	return d
}

// tsvColumns returns the named columns of a GLUE TSV file, one string per cell.
func tsvColumns(t *testing.T, path string, cols ...string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%v", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	header := strings.Split(lines[0], "\t")
	var idx []int
	for _, c := range cols {
		found := false
		for i, h := range header {
			if h == c {
				idx, found = append(idx, i), true
			}
		}
		if !found {
			t.Fatalf("%s: no column %q", path, c)
		}
	}
	var out []string
	for _, l := range lines[1:] {
		f := strings.Split(l, "\t")
		for _, i := range idx {
			if i < len(f) {
				out = append(out, f[i])
			}
		}
	}
	return out
}

func glueText(t *testing.T) []string {
	d := glueDir(t)
	lines := tsvColumns(t, filepath.Join(d, "SST-2", "train.tsv"), "sentence")
	return append(lines, tsvColumns(t, filepath.Join(d, "STS-B", "train.tsv"), "sentence1", "sentence2")...)
}

func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runTool(t *testing.T, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func outputLines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func joinInts(ids []int) string {
	var sb strings.Builder
	for i, id := range ids {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprint(&sb, id)
	}
	return sb.String()
}

// compareWithSPM encodes lines with spm_encode and with m and returns the fraction of
// lines whose ids and pieces both agree, and up to 5 examples of differences. It also
// checks Decode against spm_decode.
func compareWithSPM(t *testing.T, modelPath string, m *Model, lines []string) (float64, []string) {
	t.Helper()
	input := []byte(strings.Join(lines, "\n") + "\n")
	ids := outputLines(runTool(t, input, "spm_encode", "--model="+modelPath, "--output_format=id"))
	pieces := outputLines(runTool(t, input, "spm_encode", "--model="+modelPath, "--output_format=piece"))
	if len(ids) != len(lines) || len(pieces) != len(lines) {
		t.Fatalf("spm_encode wrote %d/%d lines for %d inputs", len(ids), len(pieces), len(lines))
	}
	same := 0
	var diffs []string
	var ourIDs []string
	for i, l := range lines {
		gotIDs := joinInts(m.Encode(l))
		gotPieces := strings.Join(m.EncodePieces(l), " ")
		ourIDs = append(ourIDs, gotIDs)
		if gotIDs == ids[i] && gotPieces == pieces[i] {
			same++
		} else if len(diffs) < 5 {
			diffs = append(diffs, fmt.Sprintf("line %d %q:\n  spm: %s\n  go:  %s", i+1, l, pieces[i], gotPieces))
		}
	}
	// Decoding: spm_decode of spm's ids against our Decode of the same ids.
	dec := outputLines(runTool(t, []byte(strings.Join(ids, "\n")+"\n"), "spm_decode", "--model="+modelPath, "--input_format=id"))
	for i, l := range ids {
		var v []int
		for _, f := range strings.Fields(l) {
			var id int
			fmt.Sscan(f, &id)
			v = append(v, id)
		}
		if got := m.Decode(v); i < len(dec) && got != dec[i] {
			t.Errorf("line %d: Decode = %q, spm_decode = %q", i+1, got, dec[i])
			break
		}
	}
	return float64(same) / float64(len(lines)), diffs
}

// TestSPMTrainedModelsMatchSPMEncode trains unigram and BPE models with spm_train on the
// GLUE development text and checks that this package encodes the text as spm_encode.
func TestSPMTrainedModelsMatchSPMEncode(t *testing.T) {
	needTool(t, "spm_train", "spm_encode", "spm_decode")
	lines := glueText(t)
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	writeLines(t, corpus, lines)
	for _, typ := range []string{"unigram", "bpe"} {
		t.Run("spm_train-"+typ, func(t *testing.T) {
			prefix := filepath.Join(dir, typ)
			runTool(t, nil, "spm_train", "--input="+corpus, "--model_prefix="+prefix,
				"--vocab_size=8000", "--model_type="+typ, "--minloglevel=2")
			m, err := Load(prefix + ".model")
			if err != nil {
				t.Fatal(err)
			}
			rate, diffs := compareWithSPM(t, prefix+".model", m, lines)
			t.Logf("%s: %d lines, %.4f%% identical to spm_encode", typ, len(lines), 100*rate)
			for _, d := range diffs {
				t.Log(d)
			}
			if rate < 0.999 {
				t.Errorf("match rate %.4f%% < 99.9%%", 100*rate)
			}
			// The model survives a round trip through Marshal byte for byte.
			orig, _ := os.ReadFile(prefix + ".model")
			if !bytes.Equal(m.Marshal(), orig) {
				t.Errorf("Marshal does not reproduce the spm_train file")
			}
		})
	}
	// And models this package trains on the same text, read by spm_encode.
	for _, typ := range []ModelType{Unigram, BPE} {
		t.Run("Train-"+typ.String(), func(t *testing.T) {
			start := time.Now()
			m, err := Train(TrainOptions{Inputs: []string{corpus}, VocabSize: 8000, Type: typ})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("Train(%v, vocab 8000) took %v", typ, time.Since(start).Round(time.Millisecond))
			path := filepath.Join(dir, "ours-"+typ.String()+".model")
			if err := m.Save(path); err != nil {
				t.Fatal(err)
			}
			rate, diffs := compareWithSPM(t, path, m, lines)
			t.Logf("%v: %.4f%% identical to spm_encode", typ, 100*rate)
			for _, d := range diffs {
				t.Log(d)
			}
			if rate < 1 {
				t.Errorf("spm_encode encodes our %v model differently", typ)
			}
		})
	}
}

// TestTrainedModelsLoadInSPM saves models made by Train and checks that spm_encode
// loads them and encodes (and spm_decode decodes) exactly as this package does.
func TestTrainedModelsLoadInSPM(t *testing.T) {
	needTool(t, "spm_encode", "spm_decode")
	dir := t.TempDir()
	lines := append(corpusLines(t), trickyLines...)
	for _, name := range []string{"unigram", "bpe", "unigram-bytes", "bpe-bytes"} {
		t.Run(name, func(t *testing.T) {
			m := testModel(t, name)
			path := filepath.Join(dir, name+".model")
			if err := m.Save(path); err != nil {
				t.Fatal(err)
			}
			rate, diffs := compareWithSPM(t, path, m, lines)
			for _, d := range diffs {
				t.Log(d)
			}
			if rate != 1 {
				t.Errorf("%s: only %.2f%% of lines encode as spm_encode does", name, 100*rate)
			}
		})
	}
}
