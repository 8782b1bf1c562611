package hf

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/model"
)

// python is the interpreter of the reference: Debian's, where python3-torch installs.
const python = "/usr/bin/python3"

var (
	torchOnce sync.Once
	torchErr  string
)

// findTorch exits 0 when torch is installed, without importing it (seconds).
const findTorch = "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None and 'no module named torch')"

// needTorch skips t unless python3 can import torch (Debian: apt-get install
// python3-torch), which the independent reference needs.
func needTorch(t testing.TB) {
	t.Helper()
	torchOnce.Do(func() {
		out, err := exec.Command(python, "-c", findTorch).CombinedOutput()
		if err != nil {
			torchErr = strings.TrimSpace(string(out))
			if torchErr == "" {
				torchErr = err.Error()
			}
		}
	})
	if torchErr != "" {
		t.Skipf("the PyTorch reference needs %s with torch (apt-get install python3-torch): %s", python, torchErr)
	}
}

// refResult is what the reference prints for one run.
type refResult struct {
	IDs      []int32   `json:"ids"`
	Logprobs []float64 `json:"logprobs"`
}

// reference runs testdata/t5_reference.py once in batch mode: it makes the folders of
// makes (each a list of "make" arguments) and returns the results of runs (each a
// list of "run" arguments).
func reference(t testing.TB, makes, runs [][]string) []refResult {
	t.Helper()
	needTorch(t)
	job, err := json.Marshal(map[string]any{"make": makes, "run": runs})
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "t5_reference.py"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script, "batch")
	cmd.Stdin = bytes.NewReader(job)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the reference failed: %v\n%s", err, stderr.String())
	}
	var res []refResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("the reference printed %q: %v", out, err)
	}
	if len(res) != len(runs) {
		t.Fatalf("the reference gave %d results for %d runs", len(res), len(runs))
	}
	return res
}

// build returns the model of an imported folder with its weights.
func build(t testing.TB, m *Model) *model.Model {
	t.Helper()
	mm, err := model.New(m.Spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := infer.LoadWeights(mm.Params(), m.Tensors, "import", infer.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	return mm
}

// goLogprobs returns the per-token log-probabilities of target given input (the
// differences of the target's prefix scores) and the greedy output of input.
func goRun(t testing.TB, m *model.Model, input, target []int32, maxLen int, task int32) refResult {
	t.Helper()
	b := &model.Batch{Size: 1, Inputs: input, InputLen: len(input), Tasks: []int32{task}}
	var res refResult
	if len(target) > 0 {
		prefixes := make([][]int32, len(target))
		for i := range target {
			prefixes[i] = target[:i+1]
		}
		scores, err := m.ScoreCandidates(autograd.NewTape(), b, prefixes)
		if err != nil {
			t.Fatal(err)
		}
		prev := 0.0
		for _, s := range scores[0] {
			res.Logprobs = append(res.Logprobs, s-prev)
			prev = s
		}
	}
	seqs, err := m.Generate(autograd.NewTape(), b, maxLen, 1)
	if err != nil {
		t.Fatal(err)
	}
	res.IDs = append(res.IDs, seqs[0]...)
	if len(res.IDs) < maxLen {
		res.IDs = append(res.IDs, 1)
	}
	return res
}

// compare fails t unless got matches want: logprobs within 1e-4, ids exactly.
func compare(t *testing.T, what string, got, want refResult) {
	t.Helper()
	if len(got.Logprobs) != len(want.Logprobs) {
		t.Fatalf("%s: %d logprobs, want %d", what, len(got.Logprobs), len(want.Logprobs))
	}
	for i := range want.Logprobs {
		if d := math.Abs(got.Logprobs[i] - want.Logprobs[i]); !(d <= 1e-4) {
			t.Errorf("%s: logprob %d = %.7f, reference %.7f (|Δ| = %.2g > 1e-4)", what, i, got.Logprobs[i], want.Logprobs[i], d)
		}
	}
	if !slices.Equal(got.IDs, want.IDs) {
		t.Errorf("%s: greedy ids %v, reference %v", what, got.IDs, want.IDs)
	}
}

func ids(s string) []int32 {
	var out []int32
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' }) {
		var v int32
		for _, c := range f {
			v = v*10 + int32(c-'0')
		}
		out = append(out, v)
	}
	return out
}

// parityCases are the folders of the parity tests: both flavours, F32, BF16 and F16,
// with and without the duplicated embeddings, encoder depth ≠ decoder depth, sharded.
var parityCases = []struct {
	name string
	make []string
}{
	{"v1.0 f32", []string{"--flavour", "v1.0", "--dtype", "F32", "--eos-boost", "5", "--seed", "1"}},
	{"v1.0 bf16 dup-embed", []string{"--flavour", "v1.0", "--dtype", "BF16", "--dup-embed", "--encoder-layers", "3", "--decoder-layers", "1", "--seed", "2"}},
	{"v1.1 f32 dup-embed", []string{"--flavour", "v1.1", "--dtype", "F32", "--dup-embed", "--eos-boost", "8", "--seed", "3"}},
	{"v1.1 bf16 sharded", []string{"--flavour", "v1.1", "--dtype", "BF16", "--shards", "3", "--eos-boost", "5", "--seed", "4"}},
	{"v1.1 f16 deep decoder", []string{"--flavour", "v1.1", "--dtype", "F16", "--encoder-layers", "1", "--decoder-layers", "4", "--seed", "5"}},
}

// parityInputs are the inputs and targets each folder is run on.
var parityInputs = []struct{ input, target string }{
	{"5,6,7,1", "8,9,1"},
	{"9,3,4,2,17,30,11,1", "4,4,12,60,1"},
	{"40,1", "3,1"},
}

const parityMaxLen = 20

func runArgs(dir, input, target string) []string {
	return []string{dir, "--input-ids", input, "--target-ids", target, "--max-len", "20"}
}

// TestParityWithReference imports folders the reference makes and checks logprobs
// and greedy ids against it; then exports each and checks that the exported folder
// gives the reference the same results, and (F32) that export returns the imported
// tensors bit for bit.
func TestParityWithReference(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the PyTorch reference twice (seconds); skipped with -short")
	}
	needTorch(t)
	root := t.TempDir()
	var makes, runs [][]string
	for i, c := range parityCases {
		dir := filepath.Join(root, "src", string(rune('a'+i)))
		makes = append(makes, append([]string{dir}, c.make...))
		for _, in := range parityInputs {
			runs = append(runs, runArgs(dir, in.input, in.target))
		}
	}
	want := reference(t, makes, runs)
	var exportRuns [][]string
	sawEOS, sawLimit := false, false
	for i, c := range parityCases {
		src := filepath.Join(root, "src", string(rune('a'+i)))
		m, err := Read(src)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		mm := build(t, m)
		for j, in := range parityInputs {
			w := want[i*len(parityInputs)+j]
			compare(t, c.name+" input "+in.input, goRun(t, mm, ids(in.input), ids(in.target), parityMaxLen, 0), w)
			if n := len(w.IDs); n < parityMaxLen && n > 1 {
				sawEOS = true
			} else if n == parityMaxLen {
				sawLimit = true
			}
		}
		out := filepath.Join(root, "out", string(rune('a'+i)))
		if err := Export(mm, out, ExportOptions{}); err != nil {
			t.Fatalf("%s: export: %v", c.name, err)
		}
		for _, in := range parityInputs {
			exportRuns = append(exportRuns, runArgs(out, in.input, in.target))
		}
		if strings.Contains(c.name, "f32") {
			checkBitForBit(t, c.name, src, filepath.Join(out, WeightsFile))
		}
	}
	if !sawEOS || !sawLimit {
		t.Errorf("the cases should include greedy outputs that stop at EOS after some tokens (%v) and that reach --max-len (%v)", sawEOS, sawLimit)
	}
	again := reference(t, nil, exportRuns)
	for i, r := range again {
		c := parityCases[i/len(parityInputs)]
		compare(t, c.name+" exported, input "+parityInputs[i%len(parityInputs)].input, r, want[i])
	}
}

// checkBitForBit checks that the exported file holds the source folder's tensors,
// bit for bit, leaving out the copies of shared.weight and the unused cross bias.
func checkBitForBit(t *testing.T, name, srcDir, exported string) {
	t.Helper()
	src, _, err := checkpoint.ReadSafetensorsFile(filepath.Join(srcDir, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	got, meta, err := checkpoint.ReadSafetensorsFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" {
		t.Errorf("%s: exported metadata %v, want format pt (transformers requires it)", name, meta)
	}
	byName := map[string]checkpoint.Tensor{}
	for _, g := range got {
		byName[g.Name] = g
	}
	n := 0
	for _, s := range src {
		switch s.Name {
		case EncoderEmbedName, DecoderEmbedName, crossBiasName:
			continue
		}
		g, ok := byName[s.Name]
		if !ok {
			t.Errorf("%s: export lacks %s", name, s.Name)
			continue
		}
		n++
		for k := range s.Data {
			if math.Float32bits(s.Data[k]) != math.Float32bits(g.Data[k]) {
				t.Errorf("%s: exported %s[%d] = %v, imported %v", name, s.Name, k, g.Data[k], s.Data[k])
				break
			}
		}
	}
	if n != len(got) {
		t.Errorf("%s: export has %d tensors, %d of them from the source", name, len(got), n)
	}
}
