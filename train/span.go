package train

import (
	"fmt"
	"hash/fnv"

	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/infer"
	"github.com/hypergrid-go/hypergrid/tokenizer"
)

// readSpanTask reads a span-corruption task: its documents (data.ReadDocuments of its
// Dir) are its training split, one example per document (Inputs holds the text, which
// also feeds a tokenizer trained on the tasks' text); it has no dev split and is not
// evaluated. train_limit caps the documents.
func readSpanTask(def data.TaskDef, dc DataConfig) (TaskData, error) {
	docs, err := data.ReadDocuments(def.Dir)
	if err != nil {
		return TaskData{}, fmt.Errorf("task %s: %w", def.Name, err)
	}
	if dc.TrainLimit > 0 && len(docs) > dc.TrainLimit {
		docs = docs[:dc.TrainLimit]
	}
	exs := make([]data.Example, len(docs))
	for i, d := range docs {
		exs[i] = data.Example{Task: def.Name, Index: i, Line: i + 1, Inputs: d}
	}
	return TaskData{Def: def, Train: exs}, nil
}

// labelledTasks returns the tasks that are not span corruption: those the predictor
// answers and evaluation scores.
func labelledTasks(tasks []TaskData) []TaskData {
	var out []TaskData
	for _, t := range tasks {
		if !t.Def.IsSpanCorruption() {
			out = append(out, t)
		}
	}
	return out
}

// SpanExamples turns the documents of a span-corruption task into training examples,
// T5's way: each document is tokenized and cut into chunks of
// data.SpanChunkLength(max_input_len, max_target_len) tokens (a last chunk of fewer
// than 2 tokens is dropped), and each chunk is corrupted with a noise mask
// (data.NoiseMask with the task's span settings) drawn from train.seed, the task's
// name, the document and the chunk — so the examples, and a resumed run, are the same
// every time — then data.SpanCorrupt with the tokenizer's sentinels; inputs and
// targets end with EOS. These are the examples of the first pass over the task; the
// trainer draws a new mask for every later pass (T5 corrupts each epoch afresh). The
// tokenizer must have sentinels (tokenizer.extra_ids), as many as a chunk has spans.
// It returns the encoded examples and, for the sampler, one data.Example per chunk
// (Index is the chunk's position).
func SpanExamples(tok *tokenizer.Model, task TaskData, cfg Config) ([]*infer.Encoded, []data.Example, error) {
	sc, err := newSpanCorpus(tok, task, cfg)
	if err != nil {
		return nil, nil, err
	}
	return sc.first, sc.examples, nil
}

// spanCorpus holds a span-corruption task's chunks, and corrupts them for any pass.
type spanCorpus struct {
	opts     data.SpanOptions
	seed     uint64 // train.seed
	salt     uint64 // from the task's name
	eos      int32
	sentinel func(i int) int32
	chunks   []spanChunk
	first    []*infer.Encoded // the chunks corrupted for pass 0 (computed once)
	examples []data.Example   // one per chunk, for the sampler
}

// spanChunk is one chunk of a document: its tokens and where it comes from.
type spanChunk struct {
	toks       []int32
	doc, index int
}

func newSpanCorpus(tok *tokenizer.Model, task TaskData, cfg Config) (*spanCorpus, error) {
	name := task.Def.Name
	opts := data.SpanOptions{}
	if task.Def.Span != nil {
		opts = *task.Def.Span
	}
	opts = opts.WithDefaults()
	if tok.ExtraIDs() == 0 {
		return nil, fmt.Errorf("task %s: span_corruption replaces spans by sentinels, but the tokenizer has none: set tokenizer.extra_ids (T5: 100)", name)
	}
	chunk := data.SpanChunkLength(cfg.MaxInputLen, cfg.MaxTargetLen, opts)
	if chunk < 2 {
		return nil, fmt.Errorf("task %s: max_input_len %d and max_target_len %d leave no room for a span-corrupted example: raise them (T5: 512 and 114)", name, cfg.MaxInputLen, cfg.MaxTargetLen)
	}
	eos := int32(tok.EOSID())
	if eos < 0 {
		return nil, fmt.Errorf("task %s: the tokenizer has no EOS piece", name)
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	sc := &spanCorpus{opts: opts, seed: cfg.Seed, salt: h.Sum64(), eos: eos, sentinel: func(i int) int32 { return tok.Sentinel(i) }}
	for d, ex := range task.Train {
		ids := tok.Encode(ex.Inputs)
		for c := 0; c+2 <= len(ids); c += chunk {
			piece := ids[c:min(c+chunk, len(ids))]
			toks := make([]int32, len(piece))
			for i, id := range piece {
				toks[i] = int32(id)
			}
			sc.chunks = append(sc.chunks, spanChunk{toks: toks, doc: d, index: c / chunk})
			i := len(sc.chunks) - 1
			// The number of spans, so of sentinels, depends only on the length: the
			// check on pass 0's mask holds for every pass.
			mask := sc.mask(i, 0)
			if need := data.SpanSentinels(mask); need > tok.ExtraIDs() {
				return nil, fmt.Errorf("task %s: a chunk of %d tokens needs %d sentinels, but tokenizer.extra_ids is %d: raise it, or lower max_input_len", name, len(piece), need, tok.ExtraIDs())
			}
			sc.first = append(sc.first, sc.encode(i, mask))
			sc.examples = append(sc.examples, data.Example{Task: name, Index: i, Line: ex.Line, Inputs: ex.Inputs})
		}
	}
	if len(sc.chunks) == 0 {
		return nil, fmt.Errorf("task %s: no document has 2 tokens or more to corrupt", name)
	}
	return sc, nil
}

// mask returns the noise mask of chunk i for pass epoch over the task: drawn from
// (seed, task, document, chunk) for pass 0; later passes add the pass number.
func (sc *spanCorpus) mask(i int, epoch uint64) []bool {
	c := sc.chunks[i]
	seed := mixSeed(sc.seed, sc.salt, uint64(c.doc), uint64(c.index))
	if epoch > 0 {
		seed = mixSeed(seed, epoch)
	}
	return data.NoiseMask(len(c.toks), sc.opts, seed)
}

// encode returns chunk i corrupted with mask, inputs and targets ending with EOS.
func (sc *spanCorpus) encode(i int, mask []bool) *infer.Encoded {
	in, out := data.SpanCorrupt(sc.chunks[i].toks, mask, sc.sentinel)
	return &infer.Encoded{In: append(in, sc.eos), Out: append(out, sc.eos), Task: -1}
}

// example returns the encoded example of ex, drawn by the sampler.
func (sc *spanCorpus) example(ex data.Example) *infer.Encoded {
	if ex.Epoch == 0 {
		return sc.first[ex.Index]
	}
	return sc.encode(ex.Index, sc.mask(ex.Index, ex.Epoch))
}

// mixSeed combines the seed of one chunk's noise mask (SplitMix64's finaliser).
func mixSeed(vals ...uint64) uint64 {
	var z uint64 = 0x9e3779b97f4a7c15
	for _, v := range vals {
		z ^= v
		z += 0x9e3779b97f4a7c15
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
	}
	return z
}
