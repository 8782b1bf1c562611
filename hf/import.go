package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/internal/fileio"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/tokenizer"
)

// The files of a Hugging Face model folder that Read and Write use.
const (
	ConfigFile          = "config.json"
	WeightsFile         = "model.safetensors"
	WeightsIndexFile    = "model.safetensors.index.json"
	TokenizerFile       = "spiece.model"
	TokenizerConfigFile = "tokenizer_config.json"
	SpecialTokensFile   = "special_tokens_map.json"
)

// MaxIndexSize bounds model.safetensors.index.json (64 MiB; t5-11b's is about 40 KB).
const MaxIndexSize = 64 << 20

// DefaultExtraIDs is the number of sentinels of Hugging Face's T5 tokenizer.
const DefaultExtraIDs = 100

// Model is a Hugging Face T5 read into this program's layout.
type Model struct {
	// Config is the folder's config.json.
	Config Config
	// Spec is the architecture (ffn.glu, attn.t5); GLU is its feed-forward layer.
	Spec model.Spec
	GLU  layers.GLUConfig
	// Tensors are the weights under this program's names and in its layout ([in, out]
	// linear weights), in the model's parameter order, as float32.
	Tensors []checkpoint.Tensor
	// Tokenizer is the folder's spiece.model (nil when it has none), and ExtraIDs the
	// number of sentinels its tokenizer adds (tokenizer_config.json's extra_ids, or
	// its <extra_id_N> tokens, else 100).
	Tokenizer []byte
	ExtraIDs  int
	// Ignored lists the tensors of the files that were read and left out: copies of
	// shared.weight, and the unused cross-attention relative bias of the original
	// checkpoints.
	Ignored []string
}

// Read reads the Hugging Face T5 folder dir: config.json, the weights
// (model.safetensors, or the shards listed by model.safetensors.index.json), and
// spiece.model with tokenizer_config.json when present. Tensors may be F32, F16 or
// BF16 (converted exactly) or F64 (rounded). Every missing, unexpected or mis-shaped
// tensor is reported, all together, in one error; pytorch_model.bin is refused with
// how to convert it.
func Read(dir string) (*Model, error) {
	b, err := fileio.ReadRegular(filepath.Join(dir, ConfigFile), "config", MaxConfigSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has no %s: name a Hugging Face model folder (config.json, model.safetensors, spiece.model)", dir, ConfigFile)
	}
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(filepath.Join(dir, ConfigFile), b)
	if err != nil {
		return nil, err
	}
	spec, err := cfg.Spec()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	m := &Model{Config: cfg, Spec: spec, GLU: *spec.FFN.(*layers.GLUConfig), ExtraIDs: DefaultExtraIDs}
	files, err := weightFiles(dir)
	if err != nil {
		return nil, err
	}
	src, err := openSources(dir, files)
	if err != nil {
		return nil, err
	}
	defer src.close()
	if err := m.readTensors(dir, src); err != nil {
		return nil, err
	}
	if err := m.readTokenizer(dir); err != nil {
		return nil, err
	}
	return m, nil
}

// weightFiles returns the safetensors files of dir: model.safetensors, or the shards
// that model.safetensors.index.json names, each named once, with the index's weight
// map (nil for one file).
func weightFiles(dir string) (*shards, error) {
	exists := func(name string) bool {
		_, err := os.Lstat(filepath.Join(dir, name))
		return err == nil
	}
	if exists(WeightsFile) {
		return &shards{files: []string{WeightsFile}}, nil
	}
	if exists(WeightsIndexFile) {
		return readIndex(dir)
	}
	for _, other := range []string{"pytorch_model.bin", "pytorch_model.bin.index.json"} {
		if exists(other) {
			return nil, fmt.Errorf("%s holds %s (PyTorch pickle), which this program does not read (unpickling runs code); convert it to safetensors first, in the folder: "+
				"python3 -c \"from transformers import T5ForConditionalGeneration as M; M.from_pretrained('.').save_pretrained('.', safe_serialization=True)\" "+
				"(or, without transformers: python3 -c \"import torch; from safetensors.torch import save_file; sd = torch.load('pytorch_model.bin', map_location='cpu'); save_file({k: v.clone().contiguous() for k, v in sd.items()}, 'model.safetensors', metadata={'format': 'pt'})\")", dir, other)
		}
	}
	for _, other := range []string{"tf_model.h5", "flax_model.msgpack"} {
		if exists(other) {
			return nil, fmt.Errorf("%s holds only %s; this program reads model.safetensors: convert it with transformers (from_pretrained(..., from_tf=True or from_flax=True), then save_pretrained(..., safe_serialization=True))", dir, other)
		}
	}
	return nil, fmt.Errorf("%s has no %s nor %s: name a Hugging Face model folder with safetensors weights", dir, WeightsFile, WeightsIndexFile)
}

// shards is the list of safetensors files of a model and, when sharded, which file
// holds each tensor.
type shards struct {
	files     []string
	weightMap map[string]string
}

// readIndex reads model.safetensors.index.json.
func readIndex(dir string) (*shards, error) {
	path := filepath.Join(dir, WeightsIndexFile)
	b, err := fileio.ReadRegular(path, "safetensors index", MaxIndexSize)
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: not a safetensors index (a JSON object with a weight_map of tensor name to file): %v", path, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: the weight_map is empty or missing", path)
	}
	s := &shards{weightMap: idx.WeightMap}
	seen := map[string]bool{}
	for name, file := range idx.WeightMap {
		if file == "" || file != filepath.Base(file) || file == "." || file == ".." || strings.ContainsAny(file, `/\`) {
			return nil, fmt.Errorf("%s: tensor %q is in %q; a shard must be a file name in the same folder", path, name, file)
		}
		if !seen[file] {
			seen[file] = true
			s.files = append(s.files, file)
		}
	}
	sort.Strings(s.files)
	return s, nil
}

// source is one tensor of the opened files.
type source struct {
	r    *checkpoint.SafetensorsReader
	file string
	info checkpoint.SafetensorsInfo
}

// sources are the tensors of a model's files, by name.
type sources struct {
	readers []*checkpoint.SafetensorsReader
	byName  map[string]source
}

func (s *sources) close() {
	for _, r := range s.readers {
		r.Close()
	}
}

// openSources opens every file of sh and indexes its tensors; a tensor in two files,
// or in another file than the index says, is an error.
func openSources(dir string, sh *shards) (*sources, error) {
	s := &sources{byName: map[string]source{}}
	var problems []string
	for _, f := range sh.files {
		r, err := checkpoint.OpenSafetensors(filepath.Join(dir, f))
		if errors.Is(err, fs.ErrNotExist) {
			s.close()
			return nil, fmt.Errorf("%s names the shard %s, which is missing", filepath.Join(dir, WeightsIndexFile), f)
		}
		if err != nil {
			s.close()
			return nil, err
		}
		s.readers = append(s.readers, r)
		for _, info := range r.Tensors() {
			if prev, dup := s.byName[info.Name]; dup {
				problems = append(problems, fmt.Sprintf("tensor %s is in both %s and %s", info.Name, prev.file, f))
				continue
			}
			if sh.weightMap != nil && sh.weightMap[info.Name] != f {
				problems = append(problems, fmt.Sprintf("tensor %s is in %s, but the index puts it in %q", info.Name, f, sh.weightMap[info.Name]))
			}
			s.byName[info.Name] = source{r: r, file: f, info: info}
		}
	}
	for name, f := range sh.weightMap {
		if _, ok := s.byName[name]; !ok {
			problems = append(problems, fmt.Sprintf("tensor %s is listed in the index under %s, which does not hold it", name, f))
		}
	}
	if len(problems) > 0 {
		s.close()
		sort.Strings(problems)
		return nil, fmt.Errorf("%s: the shards do not match %s:\n  %s", dir, WeightsIndexFile, strings.Join(problems, "\n  "))
	}
	return s, nil
}

// floatDtypes are the element types accepted for weights.
var floatDtypes = []string{"F32", "F16", "BF16", "F64"}

// readTensors checks the files' tensors against the spec's layout, all problems
// together, then reads and converts them.
func (m *Model) readTensors(dir string, src *sources) error {
	layout := Layout(m.Spec, m.GLU.DFF, m.GLU.Gated)
	want := map[string][]int{}
	for _, t := range layout {
		want[t.HF] = t.HFShape
	}
	// Tensors a file may hold besides the layout's.
	optional := map[string][]int{
		EncoderEmbedName: {m.Spec.Vocab, m.Spec.DModel},
		DecoderEmbedName: {m.Spec.Vocab, m.Spec.DModel},
		crossBiasName:    {m.Spec.RelativeAttention.Buckets, m.Spec.Heads},
	}
	if m.Spec.TieEmbeddings {
		optional[LMHeadName] = []int{m.Spec.Vocab, m.Spec.DModel}
	}
	var missing, unexpected, misshaped, badType []string
	for _, t := range layout {
		if _, ok := src.byName[t.HF]; !ok {
			missing = append(missing, fmt.Sprintf("%s %v", t.HF, t.HFShape))
		}
	}
	for name, s := range src.byName {
		shape, ok := want[name]
		if !ok {
			shape, ok = optional[name]
		}
		if !ok {
			unexpected = append(unexpected, fmt.Sprintf("%s %v", name, s.info.Shape))
			continue
		}
		if !slices.Equal(shape, s.info.Shape) {
			misshaped = append(misshaped, fmt.Sprintf("%s is %v, want %v", name, s.info.Shape, shape))
		}
		if !slices.Contains(floatDtypes, s.info.Dtype) {
			badType = append(badType, fmt.Sprintf("%s is %s, want F32, F16, BF16 or F64", name, s.info.Dtype))
		}
	}
	if len(missing)+len(unexpected)+len(misshaped)+len(badType) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "%s: the weights do not match config.json (%s, %d+%d layers, d_model %d, d_ff %d, feed_forward_proj %q, tie_word_embeddings %v):",
			dir, m.Config.ModelType, m.Spec.EncoderLayers, m.Spec.DecoderLayers, m.Spec.DModel, m.GLU.DFF, m.Config.FeedForwardProj, m.Spec.TieEmbeddings)
		for _, g := range []struct {
			what  string
			names []string
		}{{"missing", missing}, {"unexpected", unexpected}, {"wrong shape", misshaped}, {"wrong dtype", badType}} {
			if len(g.names) == 0 {
				continue
			}
			sort.Strings(g.names)
			fmt.Fprintf(&b, "\n  %s (%d): %s", g.what, len(g.names), strings.Join(g.names, "; "))
		}
		return errors.New(b.String())
	}
	var scratch []float32
	grow := func(n int) []float32 {
		if cap(scratch) < n {
			scratch = make([]float32, n)
		}
		return scratch[:n]
	}
	m.Tensors = make([]checkpoint.Tensor, 0, len(layout))
	var shared []float32
	for _, t := range layout {
		s := src.byName[t.HF]
		n := s.info.Elements()
		data := make([]float32, n)
		if t.Transposed {
			buf := grow(n)
			if err := s.r.Read(t.HF, buf); err != nil {
				return err
			}
			transpose(data, buf, t.HFShape[0], t.HFShape[1])
		} else if err := s.r.Read(t.HF, data); err != nil {
			return err
		}
		if t.HF == SharedName {
			shared = data
		}
		m.Tensors = append(m.Tensors, checkpoint.Tensor{Name: t.Name, Shape: slices.Clone(t.Shape), Data: data})
	}
	// Copies of shared.weight must be copies.
	for _, name := range []string{EncoderEmbedName, DecoderEmbedName, LMHeadName, crossBiasName} {
		s, ok := src.byName[name]
		if !ok {
			continue
		}
		if _, inLayout := want[name]; inLayout {
			continue
		}
		m.Ignored = append(m.Ignored, name)
		if name == crossBiasName {
			continue
		}
		buf := grow(s.info.Elements())
		if err := s.r.Read(name, buf); err != nil {
			return err
		}
		for i := range buf {
			if math.Float32bits(buf[i]) != math.Float32bits(shared[i]) {
				return fmt.Errorf("%s: %s differs from %s (first at index %d: %v, not %v); transformers ties them, so the file is inconsistent: drop %s or make it a copy",
					s.file, name, SharedName, i, buf[i], shared[i], name)
			}
		}
	}
	return nil
}

// readTokenizer reads spiece.model and the number of sentinels.
func (m *Model) readTokenizer(dir string) error {
	path := filepath.Join(dir, TokenizerFile)
	b, err := fileio.ReadRegular(path, "tokenizer", tokenizer.MaxModelSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	tok, err := tokenizer.Parse(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	m.Tokenizer = b
	if n, ok, err := extraIDs(dir); err != nil {
		return err
	} else if ok {
		m.ExtraIDs = n
	}
	if tok.Pieces()+m.ExtraIDs > m.Spec.Vocab {
		return fmt.Errorf("%s has %d pieces and %d extra ids, more than config.json's vocab_size %d", path, tok.Pieces(), m.ExtraIDs, m.Spec.Vocab)
	}
	return nil
}

// extraIDs reads the number of sentinels from tokenizer_config.json: its extra_ids,
// else the number of <extra_id_N> among its additional_special_tokens; ok is false
// when the file is absent or says neither.
func extraIDs(dir string) (int, bool, error) {
	path := filepath.Join(dir, TokenizerConfigFile)
	b, err := fileio.ReadRegular(path, "tokenizer config", MaxConfigSize)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	var tc struct {
		ExtraIDs   *int  `json:"extra_ids"`
		Additional []any `json:"additional_special_tokens"`
	}
	if err := json.Unmarshal(b, &tc); err != nil {
		return 0, false, fmt.Errorf("%s: %v", path, err)
	}
	if tc.ExtraIDs != nil {
		if *tc.ExtraIDs < 0 || *tc.ExtraIDs > tokenizer.MaxExtraIDs {
			return 0, false, fmt.Errorf("%s: extra_ids is %d; want 0 to %d", path, *tc.ExtraIDs, tokenizer.MaxExtraIDs)
		}
		if *tc.ExtraIDs > 0 {
			return *tc.ExtraIDs, true, nil
		}
	}
	n := 0
	for _, a := range tc.Additional {
		s, _ := a.(string)
		if m, ok := a.(map[string]any); ok { // an AddedToken: {"content": "<extra_id_0>", ...}
			s, _ = m["content"].(string)
		}
		if strings.HasPrefix(s, "<extra_id_") {
			n++
		}
	}
	if n > 0 {
		return n, true, nil
	}
	if tc.ExtraIDs != nil {
		return 0, true, nil
	}
	return 0, false, nil
}
