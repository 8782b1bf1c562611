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
// targets end with EOS. The tokenizer must have sentinels (tokenizer.extra_ids), as
// many as a chunk has spans. It returns the encoded examples and, for the sampler,
// one data.Example per chunk (Index is the chunk's position).
func SpanExamples(tok *tokenizer.Model, task TaskData, cfg Config) ([]*infer.Encoded, []data.Example, error) {
	name := task.Def.Name
	opts := data.SpanOptions{}
	if task.Def.Span != nil {
		opts = *task.Def.Span
	}
	opts = opts.WithDefaults()
	if tok.ExtraIDs() == 0 {
		return nil, nil, fmt.Errorf("task %s: span_corruption replaces spans by sentinels, but the tokenizer has none: set tokenizer.extra_ids (T5: 100)", name)
	}
	chunk := data.SpanChunkLength(cfg.MaxInputLen, cfg.MaxTargetLen, opts)
	if chunk < 2 {
		return nil, nil, fmt.Errorf("task %s: max_input_len %d and max_target_len %d leave no room for a span-corrupted example: raise them (T5: 512 and 114)", name, cfg.MaxInputLen, cfg.MaxTargetLen)
	}
	eos := int32(tok.EOSID())
	if eos < 0 {
		return nil, nil, fmt.Errorf("task %s: the tokenizer has no EOS piece", name)
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	salt := h.Sum64()
	sentinel := func(i int) int32 { return tok.Sentinel(i) }
	var encs []*infer.Encoded
	var exs []data.Example
	for d, ex := range task.Train {
		ids := tok.Encode(ex.Inputs)
		for c := 0; c+2 <= len(ids); c += chunk {
			piece := ids[c:min(c+chunk, len(ids))]
			if len(piece) < 2 {
				break
			}
			seed := mixSeed(cfg.Seed, salt, uint64(d), uint64(c/chunk))
			mask := data.NoiseMask(len(piece), opts, seed)
			if need := data.SpanSentinels(mask); need > tok.ExtraIDs() {
				return nil, nil, fmt.Errorf("task %s: a chunk of %d tokens needs %d sentinels, but tokenizer.extra_ids is %d: raise it, or lower max_input_len", name, len(piece), need, tok.ExtraIDs())
			}
			toks := make([]int32, len(piece))
			for i, id := range piece {
				toks[i] = int32(id)
			}
			in, out := data.SpanCorrupt(toks, mask, sentinel)
			encs = append(encs, &infer.Encoded{In: append(in, eos), Out: append(out, eos), Task: -1})
			exs = append(exs, data.Example{Task: name, Index: len(exs), Line: ex.Line, Inputs: ex.Inputs})
		}
	}
	if len(encs) == 0 {
		return nil, nil, fmt.Errorf("task %s: no document has 2 tokens or more to corrupt", name)
	}
	return encs, exs, nil
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
