package tokenizer

import (
	"container/heap"
	"strings"

	"github.com/hypergrid-go/hypergrid/tokenizer/internal/darts"
)

// unkPenalty is subtracted from the lowest piece score to score unknown characters.
const unkPenalty float32 = 10

// token is one piece of a segmentation: its text and its ID.
type token struct {
	piece string
	id    int
}

// Encode segments text into piece IDs exactly as spm_encode --output_format=id does:
// normalization, then Viterbi (unigram) or score-ordered merges (BPE), unknown
// characters as the unknown ID (a run of them as one) or as byte pieces with byte
// fallback. It adds no BOS or EOS; append EOSID() where a model expects it.
//
// A model with sentinels (WithExtraIDs) first splits the text at each sentinel
// "<extra_id_N>" (N < ExtraIDs(), written without leading zeros), strips the
// whitespace on both sides of it, encodes each stretch of text between sentinels on
// its own as above (each with its dummy prefix) and puts the sentinel's ID between
// them: the IDs of Hugging Face's T5Tokenizer (legacy mode, the default of the
// released T5 checkpoints), e.g. for t5-small "The <extra_id_0> walks in <extra_id_1>
// park" gives 37 32099 10681 16 32098 2447 (then EOS 1, which the caller appends).
// Other special pieces in the text ("</s>", "<pad>") are encoded as text, as
// spm_encode does.
func (m *Model) Encode(text string) []int {
	toks := m.encode(text)
	ids := make([]int, len(toks))
	for i, t := range toks {
		ids[i] = t.id
	}
	return ids
}

// EncodePieces segments text into pieces exactly as spm_encode --output_format=piece
// does. Unknown characters appear as themselves (a run of them as one piece), or as
// byte pieces <0xNN> with byte fallback.
func (m *Model) EncodePieces(text string) []string {
	toks := m.encode(text)
	ps := make([]string, len(toks))
	for i, t := range toks {
		ps[i] = t.piece
	}
	return ps
}

func (m *Model) encode(text string) []token {
	if m.extraIDs > 0 {
		return m.encodeSentinels(text)
	}
	return m.encodePlain(text)
}

// encodePlain is SentencePiece's encoding of text, without sentinels.
func (m *Model) encodePlain(text string) []token {
	normalized := m.norm.normalize(text)
	if normalized == "" {
		return nil
	}
	var seg []token
	if m.typ == BPE {
		seg = m.segmentBPE(normalized)
	} else {
		seg = m.segmentUnigram(normalized)
	}
	out := make([]token, 0, len(seg))
	prevUnk := false
	for _, t := range seg {
		isUnk := m.proto.pieces[t.id].typ == Unknown
		switch {
		case isUnk && m.byteFB:
			for i := 0; i < len(t.piece); i++ {
				c := t.piece[i]
				out = append(out, token{byteToPiece(c), m.byteIDs[c]})
			}
		case isUnk && prevUnk:
			out[len(out)-1].piece += t.piece
		default:
			out = append(out, t)
		}
		prevUnk = isUnk
	}
	return out
}

// segmentUnigram is SentencePiece's optimized Viterbi: for every byte position it keeps
// the best path ending there, scanning the pieces that start at each character. Scores
// are combined with the same float32/float64 mix as the C++ code so ties break alike.
func (m *Model) segmentUnigram(s string) []token {
	type best struct {
		id    int
		score float32
		start int
	}
	n := len(s)
	bp := make([]best, n+1)
	for i := range bp {
		bp[i].start = -1
	}
	unkScore := m.minScore - unkPenalty
	for start := 0; start < n; {
		till := bp[start].score
		hasSingle := false
		mblen := charLen(s[start:])
		var node uint32
		keyPos := start
		for keyPos < n {
			ret := m.trie.Traverse(s, &node, &keyPos, keyPos+1)
			if ret == darts.NoNode {
				break
			}
			if ret < 0 {
				continue
			}
			id := int(ret)
			p := &m.proto.pieces[id]
			if p.typ == Unused {
				continue
			}
			length := keyPos - start
			var score float64
			if p.typ == UserDefined {
				// User-defined pieces get a bonus so they are always chosen.
				score = float64(float32(float32(length)*m.maxScore)) - 0.1
			} else {
				score = float64(p.score)
			}
			cand := score + float64(till)
			t := &bp[keyPos]
			if t.start == -1 || cand > float64(t.score) {
				*t = best{id: id, score: float32(cand), start: start}
			}
			if length == mblen {
				hasSingle = true
			}
		}
		if !hasSingle {
			t := &bp[start+mblen]
			cand := float32(unkScore + till)
			if t.start == -1 || cand > t.score {
				*t = best{id: m.unkID, score: cand, start: start}
			}
		}
		start += mblen
	}
	var out []token
	for end := n; end > 0; {
		b := bp[end]
		if b.start < 0 || b.start >= end {
			break // unreachable for a well-formed lattice
		}
		out = append(out, token{s[b.start:end], b.id})
		end = b.start
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// bpePair is a candidate merge of two adjacent symbols.
type bpePair struct {
	left, right int
	score       float32
	size        int
}

type bpeAgenda []bpePair

func (a bpeAgenda) Len() int { return len(a) }
func (a bpeAgenda) Less(i, j int) bool {
	if a[i].score != a[j].score {
		return a[i].score > a[j].score
	}
	return a[i].left < a[j].left
}
func (a bpeAgenda) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *bpeAgenda) Push(x any)   { *a = append(*a, x.(bpePair)) }
func (a *bpeAgenda) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// segmentBPE splits s into characters (user-defined symbols stay whole and frozen) and
// repeatedly merges the adjacent pair whose union is the highest-scoring piece, leftmost
// first on ties, as SentencePiece's BPE model does. Merged UNUSED pieces are split back
// into the pieces they were made from.
func (m *Model) segmentBPE(s string) []token {
	type symbol struct {
		prev, next int
		freeze     bool
		start, end int // the symbol is s[start:end]; start == end once merged away
	}
	var buf [32]darts.Match
	syms := make([]symbol, 0, len(s))
	for pos := 0; pos < len(s); {
		l := longestUserDefined(m.norm.userDefined, s[pos:], buf[:])
		freeze := l > 0
		if !freeze {
			l = charLen(s[pos:])
		}
		i := len(syms)
		syms = append(syms, symbol{prev: i - 1, next: i + 1, freeze: freeze, start: pos, end: pos + l})
		pos += l
	}
	if len(syms) == 0 {
		return nil
	}
	syms[len(syms)-1].next = -1
	revMerge := map[string][2]string{}
	agenda := &bpeAgenda{}
	add := func(left, right int) {
		if left < 0 || right < 0 || syms[left].freeze || syms[right].freeze {
			return
		}
		piece := s[syms[left].start:syms[right].end]
		id, ok := m.pieces[piece]
		if !ok {
			return
		}
		heap.Push(agenda, bpePair{left, right, m.proto.pieces[id].score, len(piece)})
		if m.proto.pieces[id].typ == Unused {
			revMerge[piece] = [2]string{s[syms[left].start:syms[left].end], s[syms[right].start:syms[right].end]}
		}
	}
	for i := 1; i < len(syms); i++ {
		add(i-1, i)
	}
	for agenda.Len() > 0 {
		top := heap.Pop(agenda).(bpePair)
		l, r := &syms[top.left], &syms[top.right]
		if l.start == l.end || r.start == r.end || (l.end-l.start)+(r.end-r.start) != top.size {
			continue // stale: one side has changed since the pair was queued
		}
		l.end = r.end
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = top.left
		}
		r.start, r.end = 0, 0
		add(l.prev, top.left)
		add(top.left, l.next)
	}
	var out []token
	var resegment func(w string)
	resegment = func(w string) {
		id := m.PieceToID(w)
		if m.proto.pieces[id].typ != Unused {
			out = append(out, token{w, id})
			return
		}
		p, ok := revMerge[w]
		if !ok {
			out = append(out, token{w, id})
			return
		}
		resegment(p[0])
		resegment(p[1])
	}
	for i := 0; i >= 0; i = syms[i].next {
		resegment(s[syms[i].start:syms[i].end])
	}
	return out
}

// Decode turns IDs back into text as spm_decode does: control pieces vanish, U+2581
// becomes a space (the leading one, from the dummy prefix, is dropped), runs of byte
// pieces become the UTF-8 they spell (U+FFFD for malformed bytes) and the unknown
// piece becomes the model's unk_surface (" \u2047 " by default). IDs outside
// [0, VocabSize()) decode like the unknown ID. With sentinels (WithExtraIDs), each
// sentinel ID decodes as "<extra_id_N>", and the text between sentinels is decoded
// as above, the parts joined with one space (so decoding what Encode gave returns
// the text with single spaces around its sentinels).
func (m *Model) Decode(ids []int) string {
	pieces := make([]string, len(ids))
	pids := make([]int, len(ids))
	for i, id := range ids {
		if id < 0 || id >= m.VocabSize() {
			id = m.unkID
		}
		pieces[i] = m.IDToPiece(id)
		pids[i] = m.PieceToID(pieces[i])
	}
	if m.extraIDs > 0 {
		return m.decodeSentinels(pieces, pids)
	}
	return m.decode(pieces, pids)
}

// DecodePieces turns pieces back into text as spm_decode --input_format=piece does.
// A piece missing from the vocabulary is copied through unchanged.
func (m *Model) DecodePieces(pieces []string) string {
	ids := make([]int, len(pieces))
	for i, p := range pieces {
		ids[i] = m.PieceToID(p)
	}
	if m.extraIDs > 0 {
		return m.decodeSentinels(pieces, ids)
	}
	return m.decode(pieces, ids)
}

func (m *Model) decode(pieces []string, ids []int) string {
	var text strings.Builder
	var bytesRun []byte
	flush := func() {
		for len(bytesRun) > 0 {
			size, ok := validUTF8Prefix(string(bytesRun))
			if ok {
				text.Write(bytesRun[:size])
			} else {
				text.WriteString(replacementChar)
			}
			bytesRun = bytesRun[size:]
		}
		bytesRun = bytesRun[:0]
	}
	addDummy, removeWS := m.norm.addDummyPrefix, m.norm.removeExtraWS
	isBOSWS, bosWSSeen := true, false
	for i, p := range pieces {
		id := ids[i]
		typ := m.proto.pieces[id].typ
		if typ == Byte {
			c, _ := pieceToByte(p)
			bytesRun = append(bytesRun, c)
			continue
		}
		flush()
		if bosWSSeen || text.Len() > 0 {
			isBOSWS = false
		}
		var decoded string
		decoded, bosWSSeen = m.decodePiece(p, id, typ, isBOSWS, addDummy, removeWS)
		text.WriteString(decoded)
	}
	flush()
	out := text.String()
	if m.denorm != nil {
		out = m.denorm.normalize(out)
	}
	return out
}

func (m *Model) decodePiece(p string, id int, typ PieceType, isBOSWS, addDummy, removeWS bool) (string, bool) {
	switch typ {
	case Control:
		return "", false
	case Unknown:
		if m.proto.pieces[id].piece == p {
			return m.unkSurface, false
		}
		return p, false
	}
	hasBOSWS := false
	if isBOSWS && (addDummy || removeWS) {
		p, hasBOSWS = strings.CutPrefix(p, spaceSymbol)
		if removeWS {
			hasBOSWS = false
		}
	}
	return strings.ReplaceAll(p, spaceSymbol, " "), hasBOSWS
}
