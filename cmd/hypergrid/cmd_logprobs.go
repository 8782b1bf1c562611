package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/ops"
	"github.com/hypergrid-go/hypergrid/tokenizer"
	"github.com/hypergrid-go/hypergrid/train"
)

// maxSeqFlag bounds --input-ids, --target-ids and --max-len: T5's own limits are 512
// input tokens; this leaves room without letting a typo allocate gigabytes.
const maxSeqFlag = 8192

// maxLogprobTargets bounds the target of logprobs, which runs the decoder over each of
// the target's prefixes (quadratic in its length).
const maxLogprobTargets = 1024

func init() {
	register(&command{
		name:    "logprobs",
		summary: "per-token log-probabilities of a target under teacher forcing (decoder start 0): logprobs CKPT --input-ids 5,6,1 --target-ids 8,1",
		run:     runLogprobs,
	})
	register(&command{
		name:    "generate",
		summary: "greedy decoding of one input, stopping after EOS: generate CKPT --input-ids 5,6,1 [--max-len N]",
		run:     runGenerate,
	})
}

// seqFlags are the input flags logprobs and generate share.
type seqFlags struct {
	inputIDs, input, task *string
	threads               *int
}

func addSeqFlags(fs interface {
	String(name, value, usage string) *string
	Int(name string, value int, usage string) *int
}) seqFlags {
	return seqFlags{
		inputIDs: fs.String("input-ids", "", "the input as token ids, comma- or space-separated, with its EOS (1): 5,6,7,1"),
		input:    fs.String("input", "", "the input as text, encoded with the checkpoint's tokenizer (EOS appended)"),
		task:     fs.String("task", "", "the task whose HyperGrid gates to use (task_embedding gates of a multi-task model)"),
		threads:  fs.Int("threads", runtime.GOMAXPROCS(0), "goroutines for the matrix kernels"),
	}
}

// parseIDList reads token ids separated by commas and/or white space, each in
// [0, vocab); flag names the flag in errors. An empty list is an error.
func parseIDList(flag, s string, vocab int) ([]int32, error) {
	if len(s) > 16*maxSeqFlag {
		return nil, usageError("%s is %d characters long; want at most %d ids", flag, len(s), maxSeqFlag)
	}
	ids, err := tokenizer.ParseIDs(strings.ReplaceAll(s, ",", " "), vocab)
	if err != nil {
		return nil, usageError("%s: %v", flag, err)
	}
	if len(ids) == 0 {
		return nil, usageError("%s is empty; give token ids such as 5,6,7,1", flag)
	}
	if len(ids) > maxSeqFlag {
		return nil, usageError("%s has %d ids; want at most %d", flag, len(ids), maxSeqFlag)
	}
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out, nil
}

// seqSetup is an opened checkpoint with one input encoded.
type seqSetup struct {
	tr    *job.Trained
	tok   *tokenizer.Model
	batch *model.Batch
}

// open opens the checkpoint and encodes the input of f (ids or text).
func (f seqFlags) open(cmd string, rest []string) (*seqSetup, error) {
	if len(rest) != 1 {
		return nil, usageError("%s takes one checkpoint (a run's output folder, its checkpoint folder, or an imported one)", cmd)
	}
	if (*f.inputIDs == "") == (*f.input == "") {
		return nil, usageError("%s needs the input: --input-ids 5,6,7,1 or --input TEXT (one of them)", cmd)
	}
	if *f.threads <= 0 {
		return nil, usageError("%s: --threads is %d; want a positive number", cmd, *f.threads)
	}
	tr, err := job.Open(rest[0], job.OpenOptions{})
	if err != nil {
		return nil, err
	}
	if tr.Model.Spec.Arch != model.ArchT5 {
		return nil, fmt.Errorf("checkpoint %s is an encoder-only model (arch %s); %s needs an encoder-decoder (t5)", tr.Dir, tr.Model.Spec.Arch, cmd)
	}
	tok, err := train.WithExtraIDs(tr.Tokenizer, tr.Recipe.Tokenizer.ExtraIDs)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", tr.Dir, err)
	}
	s := &seqSetup{tr: tr, tok: tok}
	var in []int32
	if *f.inputIDs != "" {
		in, err = parseIDList("--input-ids", *f.inputIDs, tr.Model.Spec.Vocab)
	} else {
		in, err = s.encode("--input", *f.input)
	}
	if err != nil {
		return nil, err
	}
	ti, err := taskIndex(tr, *f.task)
	if err != nil {
		return nil, err
	}
	s.batch = &model.Batch{Size: 1, Inputs: in, InputLen: len(in), Tasks: []int32{int32(ti)}}
	return s, nil
}

// encode turns text into ids with the checkpoint's tokenizer, EOS appended.
func (s *seqSetup) encode(flag, text string) ([]int32, error) {
	ids := s.tok.Encode(text)
	if eos := s.tok.EOSID(); eos >= 0 {
		ids = append(ids, eos)
	}
	if len(ids) > maxSeqFlag {
		return nil, usageError("%s encodes to %d tokens; want at most %d", flag, len(ids), maxSeqFlag)
	}
	out := make([]int32, len(ids))
	for i, id := range ids {
		if id >= s.tr.Model.Spec.Vocab {
			return nil, fmt.Errorf("%s: the tokenizer gives id %d, outside the model's vocabulary of %d", flag, id, s.tr.Model.Spec.Vocab)
		}
		out[i] = int32(id)
	}
	return out, nil
}

// taskIndex returns the index of --task among the model's tasks: required only when
// the HyperGrid gates depend on the task and there are several.
func taskIndex(tr *job.Trained, task string) (int, error) {
	names := make([]string, len(tr.Model.Spec.Tasks))
	for i, t := range tr.Model.Spec.Tasks {
		names[i] = t.Name
	}
	if task != "" {
		i := slices.Index(names, task)
		if i < 0 {
			return 0, usageError("--task %q: the checkpoint's tasks are %v", task, names)
		}
		return i, nil
	}
	if g, ok := tr.Model.Spec.FFN.(*hyper.GridConfig); ok && g.Conditioning == hyper.TaskEmbedding && g.Composition != hyper.GG && len(names) > 1 {
		return 0, usageError("the checkpoint's HyperGrid gates depend on the task: name one with --task (one of %v)", names)
	}
	return 0, nil
}

func runLogprobs(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("logprobs", "CKPT (--input-ids IDS | --input TEXT) (--target-ids IDS | --target TEXT) [--task T]", stderr)
	f := addSeqFlags(fs)
	targetIDs := fs.String("target-ids", "", "the target as token ids, with its EOS (1): 8,9,1; no 0 (the decoder start and padding)")
	target := fs.String("target", "", "the target as text, encoded with the checkpoint's tokenizer (EOS appended)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if (*targetIDs == "") == (*target == "") {
		return usageError("logprobs needs the target: --target-ids 8,9,1 or --target TEXT (one of them)")
	}
	s, err := f.open("logprobs", rest)
	if err != nil {
		return err
	}
	defer ops.SetThreads(ops.SetThreads(*f.threads))
	var tgt []int32
	if *targetIDs != "" {
		tgt, err = parseIDList("--target-ids", *targetIDs, s.tr.Model.Spec.Vocab)
	} else {
		tgt, err = s.encode("--target", *target)
	}
	if err != nil {
		return err
	}
	if len(tgt) > maxLogprobTargets {
		return usageError("the target has %d tokens; logprobs scores at most %d (it runs the decoder once per target prefix)", len(tgt), maxLogprobTargets)
	}
	if i := slices.Index(tgt, 0); i >= 0 {
		return usageError("--target-ids: id %d is 0, the decoder start and padding id, which is never a target", i+1)
	}
	lp, err := teacherForced(s.tr.Model, s.batch, tgt)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]any{"logprobs": lp})
}

// teacherForced returns the log-probability of each token of target given the input
// and the target's earlier tokens (the decoder reads start 0 then the target shifted
// right): the differences of the scores of the target's prefixes, which the model's
// candidate scoring computes in one encoder pass.
func teacherForced(m *model.Model, b *model.Batch, target []int32) ([]float64, error) {
	prefixes := make([][]int32, len(target))
	for i := range target {
		prefixes[i] = target[:i+1]
	}
	scores, err := m.ScoreCandidates(autograd.NewTape(), b, prefixes)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(target))
	prev := 0.0
	for i, s := range scores[0] {
		out[i] = s - prev
		prev = s
	}
	return out, nil
}

func runGenerate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("generate", "CKPT (--input-ids IDS | --input TEXT) [--max-len N] [--task T]", stderr)
	f := addSeqFlags(fs)
	maxLen := fs.Int("max-len", 64, "the most tokens to generate, EOS included")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *maxLen <= 0 || *maxLen > maxSeqFlag {
		return usageError("generate: --max-len is %d; want 1 to %d", *maxLen, maxSeqFlag)
	}
	s, err := f.open("generate", rest)
	if err != nil {
		return err
	}
	defer ops.SetThreads(ops.SetThreads(*f.threads))
	const eos = 1
	seqs, err := s.tr.Model.Generate(autograd.NewTape(), s.batch, *maxLen, eos)
	if err != nil {
		return err
	}
	ids := slices.Clone(seqs[0])
	if len(ids) < *maxLen { // it stopped at EOS, which Generate leaves out
		ids = append(ids, eos)
	}
	out := map[string]any{"ids": ids}
	if *f.input != "" {
		dec := make([]int, 0, len(ids))
		for _, id := range ids {
			dec = append(dec, int(id))
		}
		out["text"] = s.tok.Decode(dec)
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false) // "<extra_id_0>", not "\u003cextra_id_0\u003e"
	return enc.Encode(out)
}
