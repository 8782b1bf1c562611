package tokenizer

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hypergrid-go/hypergrid/internal/fileio"

	"github.com/hypergrid-go/hypergrid/tokenizer/internal/darts"
	"github.com/hypergrid-go/hypergrid/tokenizer/internal/protowire"
)

// SpecialIDs places the special pieces of a trained model. An ID of -1 leaves the piece
// out; the unknown piece is required.
type SpecialIDs struct {
	Pad, EOS, Unk, BOS int
}

// T5SpecialIDs is T5's layout, the default of Train: <pad>=0, </s>=1, <unk>=2, no <s>.
var T5SpecialIDs = SpecialIDs{Pad: DefaultPadID, EOS: DefaultEOSID, Unk: DefaultUnkID, BOS: -1}

// SPMSpecialIDs is spm_train's default layout: <unk>=0, <s>=1, </s>=2, no <pad>.
var SPMSpecialIDs = SpecialIDs{Pad: -1, EOS: 2, Unk: 0, BOS: 1}

// TrainOptions configures Train. A zero field takes the default given in its comment;
// the defaults are spm_train's except for the special-piece layout, which is T5's.
type TrainOptions struct {
	// Inputs are text files with one sentence per line.
	Inputs []string
	// Sentences are trained on in addition to the lines of Inputs.
	Sentences []string
	// VocabSize is the number of pieces of the model, special pieces included
	// (default 8000).
	VocabSize int
	// SoftVocabLimit makes VocabSize an upper bound rather than an exact size, as
	// spm_train --hard_vocab_limit=false does: a text that yields fewer pieces gives a
	// smaller model instead of an error.
	SoftVocabLimit bool
	// Type is Unigram (default) or BPE.
	Type ModelType
	// Normalization is NmtNFKC (default), NFKC or Identity.
	Normalization string
	// CharacterCoverage is the fraction of the training characters the vocabulary must
	// cover, in [0.98, 1] (default 0.9995); rarer characters become unknown.
	CharacterCoverage float64
	// ByteFallback adds the 256 <0xNN> pieces, so unknown characters encode as bytes.
	ByteFallback bool
	// MaxPieceLength is the longest piece in characters (default 16).
	MaxPieceLength int
	// MaxSentenceLength skips longer input lines, in bytes (default 4192).
	MaxSentenceLength int
	// SeedPieces is how many frequent substrings seed unigram training (default 1e6).
	SeedPieces int
	// ShrinkingFactor is the fraction of pieces each unigram pruning round keeps, in
	// [0.5, 0.95] (default 0.75).
	ShrinkingFactor float64
	// SubIterations is the number of EM iterations between prunings, 1 to 10 (default 2).
	SubIterations int
	// SplitDigits makes every digit a piece of its own.
	SplitDigits bool
	// Special places <pad>, </s>, <unk> and <s>; nil means T5SpecialIDs.
	Special *SpecialIDs
	// ControlSymbols are extra CONTROL pieces (never produced by Encode).
	ControlSymbols []string
	// UserDefinedSymbols are pieces Encode always keeps whole, e.g. task prefixes.
	UserDefinedSymbols []string
	// MaxInputSize bounds the bytes read from Inputs, in all (default
	// DefaultMaxInputSize, 1 GiB); Sentences do not count. See also
	// MaxTrainingLineSize.
	MaxInputSize int64
	// Threads bounds the goroutines training uses (default GOMAXPROCS). The result does
	// not depend on it.
	Threads int
}

// unkChar replaces characters outside the covered alphabet during training.
const unkChar = '\u2585'

const unkCharStr = "\u2585"

type metaPiece struct {
	piece string
	typ   PieceType
}

// sentence is a normalized training sentence (or word) and how often it occurs.
type sentence struct {
	text string
	freq int64
}

// scoredPiece is a piece chosen by a trainer.
type scoredPiece struct {
	piece string
	score float32
}

// trainer holds what both algorithms share.
type trainer struct {
	opts      TrainOptions
	meta      map[int]metaPiece
	norm      *normalizer
	normSpec  message
	sentences []sentence
	required  []charCount // characters of the vocabulary, most frequent first
	threads   int
}

type charCount struct {
	c    rune
	freq int64
}

func (o *TrainOptions) setDefaults() error {
	if o.VocabSize == 0 {
		o.VocabSize = 8000
	}
	if o.Type == 0 {
		o.Type = Unigram
	}
	if o.Normalization == "" {
		o.Normalization = NmtNFKC
	}
	if o.CharacterCoverage == 0 {
		o.CharacterCoverage = 0.9995
	}
	if o.MaxPieceLength == 0 {
		o.MaxPieceLength = 16
	}
	if o.MaxSentenceLength == 0 {
		o.MaxSentenceLength = 4192
	}
	if o.SeedPieces == 0 {
		o.SeedPieces = 1000000
	}
	if o.ShrinkingFactor == 0 {
		o.ShrinkingFactor = 0.75
	}
	if o.SubIterations == 0 {
		o.SubIterations = 2
	}
	if o.Special == nil {
		s := T5SpecialIDs
		o.Special = &s
	}
	if o.MaxInputSize == 0 {
		o.MaxInputSize = DefaultMaxInputSize
	}
	if o.Threads <= 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	switch {
	case o.Type != Unigram && o.Type != BPE:
		return fmt.Errorf("model type %v cannot be trained: use unigram or bpe", o.Type)
	case o.VocabSize < 1:
		return fmt.Errorf("vocabulary size %d must be positive", o.VocabSize)
	case o.CharacterCoverage < 0.98 || o.CharacterCoverage > 1:
		return fmt.Errorf("character coverage %g must be in [0.98, 1]", o.CharacterCoverage)
	case o.MaxPieceLength < 1 || o.MaxPieceLength > 512:
		return fmt.Errorf("maximum piece length %d must be in [1, 512]", o.MaxPieceLength)
	case o.MaxSentenceLength < 10 || o.MaxSentenceLength > MaxTrainingLineSize:
		return fmt.Errorf("maximum sentence length %d must be in [10, %d]", o.MaxSentenceLength, MaxTrainingLineSize)
	case o.MaxInputSize < 0:
		return fmt.Errorf("maximum input size %d must be positive", o.MaxInputSize)
	case o.ShrinkingFactor < 0.5 || o.ShrinkingFactor > 0.95:
		return fmt.Errorf("shrinking factor %g must be in [0.5, 0.95]", o.ShrinkingFactor)
	case o.SubIterations < 1 || o.SubIterations > 10:
		return fmt.Errorf("sub-iterations %d must be in [1, 10]", o.SubIterations)
	case o.SeedPieces < 1:
		return fmt.Errorf("seed pieces %d must be positive", o.SeedPieces)
	case len(o.Inputs) == 0 && len(o.Sentences) == 0:
		return errors.New("no training text: give input files or sentences")
	}
	return nil
}

// Train learns a model from text. The result encodes like spm_encode with the same
// .model file (see Save), though its pieces differ from what spm_train would choose.
func Train(opts TrainOptions) (*Model, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, fmt.Errorf("tokenizer: train: %w", err)
	}
	tr := &trainer{opts: opts, threads: opts.Threads}
	if err := tr.initMeta(); err != nil {
		return nil, fmt.Errorf("tokenizer: train: %w", err)
	}
	if err := tr.initNormalizer(); err != nil {
		return nil, fmt.Errorf("tokenizer: train: %w", err)
	}
	if err := tr.loadSentences(); err != nil {
		return nil, fmt.Errorf("tokenizer: train: %w", err)
	}
	var pieces []scoredPiece
	var err error
	if opts.Type == BPE {
		pieces, err = tr.trainBPE()
	} else {
		pieces, err = tr.trainUnigram()
	}
	if err != nil {
		return nil, fmt.Errorf("tokenizer: train: %w", err)
	}
	m, err := tr.assemble(pieces)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: train: %w", err)
	}
	return m, nil
}

func (tr *trainer) initMeta() error {
	o := tr.opts
	tr.meta = map[int]metaPiece{}
	put := func(id int, piece string, typ PieceType, what string) error {
		if id < 0 {
			return nil
		}
		if id >= o.VocabSize {
			return fmt.Errorf("%s ID %d is outside the vocabulary of %d pieces", what, id, o.VocabSize)
		}
		if p, dup := tr.meta[id]; dup {
			return fmt.Errorf("%s ID %d is already taken by %q", what, id, p.piece)
		}
		tr.meta[id] = metaPiece{piece, typ}
		return nil
	}
	sp := o.Special
	if sp.Unk < 0 {
		return errors.New("the unknown piece needs an ID (Special.Unk)")
	}
	if err := put(sp.Unk, "<unk>", Unknown, "unknown piece"); err != nil {
		return err
	}
	if err := put(sp.BOS, "<s>", Control, "BOS piece"); err != nil {
		return err
	}
	if err := put(sp.EOS, "</s>", Control, "EOS piece"); err != nil {
		return err
	}
	if err := put(sp.Pad, "<pad>", Control, "pad piece"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range tr.meta {
		seen[p.piece] = true
	}
	next := 0
	add := func(piece string, typ PieceType) error {
		if piece == "" {
			return fmt.Errorf("empty %v symbol", typ)
		}
		if seen[piece] {
			return fmt.Errorf("symbol %q is defined twice", piece)
		}
		seen[piece] = true
		for {
			if _, ok := tr.meta[next]; !ok {
				break
			}
			next++
		}
		if next >= o.VocabSize {
			return fmt.Errorf("the special pieces do not fit in a vocabulary of %d", o.VocabSize)
		}
		tr.meta[next] = metaPiece{piece, typ}
		return nil
	}
	for _, s := range o.ControlSymbols {
		if err := add(s, Control); err != nil {
			return err
		}
	}
	for _, s := range o.UserDefinedSymbols {
		if err := add(s, UserDefined); err != nil {
			return err
		}
	}
	if o.ByteFallback {
		for c := 0; c < 256; c++ {
			if err := add(byteToPiece(byte(c)), Byte); err != nil {
				return err
			}
		}
	}
	return nil
}

func (tr *trainer) initNormalizer() error {
	cm, err := compiledCharsmap(tr.opts.Normalization)
	if err != nil {
		return err
	}
	tr.normSpec.set(protowire.String(fNormName, tr.opts.Normalization))
	if len(cm) > 0 {
		tr.normSpec.set(protowire.Bytes(fNormCharsmap, cm))
	}
	tr.normSpec.set(protowire.Bool(fNormAddDummyPrefix, true))
	tr.normSpec.set(protowire.Bool(fNormRemoveExtraSpaces, true))
	tr.normSpec.set(protowire.Bool(fNormEscapeSpaces, true))
	tr.norm, err = newNormalizer(&tr.normSpec, false)
	return err
}

// readInputs checks the input files (regular files, within MaxInputSize in all) before
// reading any, then calls fn with every line of each.
func (tr *trainer) readInputs(fn func(line string, n int) error) error {
	budget := tr.opts.MaxInputSize
	var total int64
	for _, path := range tr.opts.Inputs {
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		if err := fileio.CheckRegular(path, "input file", fi, math.MaxInt64); err != nil {
			return err
		}
		if total += fi.Size(); total > budget {
			return fmt.Errorf("%s: the input files hold %d bytes up to this one, more than the limit of %s (TrainOptions.MaxInputSize): train on a sample of the text", path, total, byteSize(budget))
		}
	}
	for _, path := range tr.opts.Inputs {
		f, _, err := fileio.OpenRegular(path, "input file", budget)
		if err != nil {
			return err
		}
		n, err := ReadTrainingText(f, path, budget, fn)
		f.Close()
		if err != nil {
			return err
		}
		budget -= n
	}
	return nil
}

// loadSentences reads and normalizes the training text, picks the alphabet by
// character coverage and replaces the other characters with unkChar.
func (tr *trainer) loadSentences() error {
	counts := map[string]int64{}
	var raw []string
	add := func(s string) {
		if s == "" || len(s) > tr.opts.MaxSentenceLength || strings.Contains(s, unkCharStr) {
			return
		}
		raw = append(raw, s)
	}
	if err := tr.readInputs(func(l string, _ int) error { add(l); return nil }); err != nil {
		return err
	}
	for _, s := range tr.opts.Sentences {
		add(s)
	}
	// Meta pieces in the text become boundaries (unknown characters) so no piece
	// spans them.
	var metaKeys []string
	for _, p := range tr.meta {
		metaKeys = append(metaKeys, p.piece)
	}
	slices.Sort(metaKeys)
	metaTrie, err := darts.Build(metaKeys, make([]int32, len(metaKeys)))
	if err != nil {
		return err
	}
	normed := make([]string, len(raw))
	tr.parallel(len(raw), func(lo, hi int) {
		var buf []darts.Match
		for i := lo; i < hi; i++ {
			s := tr.norm.normalize(raw[i])
			var b strings.Builder
			for j := 0; j < len(s); {
				best := 0
				buf = metaTrie.CommonPrefixSearch(s[j:], buf[:0])
				for _, m := range buf {
					best = max(best, m.Length)
				}
				if best > 0 {
					b.WriteByte('\t')
					j += best
					continue
				}
				l := charLen(s[j:])
				b.WriteString(s[j : j+l])
				j += l
			}
			normed[i] = b.String()
		}
	})
	for _, s := range normed {
		if s != "" {
			counts[s]++
		}
	}
	if len(counts) == 0 {
		return errors.New("the training text is empty after normalization")
	}
	chars := map[rune]int64{}
	var total int64
	for s, f := range counts {
		for _, c := range s {
			if c == utf8.RuneError || c == 0 {
				continue
			}
			chars[c] += f
			total += f
		}
	}
	all := make([]charCount, 0, len(chars))
	for c, f := range chars {
		all = append(all, charCount{c, f})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].freq != all[j].freq {
			return all[i].freq > all[j].freq
		}
		return all[i].c < all[j].c
	})
	keep := map[rune]bool{}
	var acc int64
	for _, cc := range all {
		if float64(acc)/float64(total) >= tr.opts.CharacterCoverage {
			break
		}
		acc += cc.freq
		if cc.c == '\t' || cc.c == unkChar {
			continue
		}
		keep[cc.c] = true
		tr.required = append(tr.required, cc)
	}
	if len(tr.required)+len(tr.meta) > tr.opts.VocabSize {
		return fmt.Errorf("vocabulary size %d is smaller than the %d required characters plus %d special pieces: raise the vocabulary size or lower the character coverage",
			tr.opts.VocabSize, len(tr.required), len(tr.meta))
	}
	for s, f := range counts {
		var b strings.Builder
		for _, c := range s {
			if keep[c] {
				b.WriteRune(c)
			} else {
				b.WriteRune(unkChar)
			}
		}
		tr.sentences = append(tr.sentences, sentence{b.String(), f})
	}
	sort.Slice(tr.sentences, func(i, j int) bool { return tr.sentences[i].text < tr.sentences[j].text })
	return nil
}

// words splits the sentences at U+2581 (each word starts with it) and counts the words.
func (tr *trainer) words() []sentence {
	counts := map[string]int64{}
	for _, s := range tr.sentences {
		start := 0
		for i := 0; i < len(s.text); {
			l := charLen(s.text[i:])
			if i > 0 && s.text[i:i+l] == spaceSymbol {
				counts[s.text[start:i]] += s.freq
				start = i
			}
			i += l
		}
		counts[s.text[start:]] += s.freq
	}
	out := make([]sentence, 0, len(counts))
	for w, f := range counts {
		out = append(out, sentence{w, f})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].text < out[j].text })
	return out
}

// validPiece applies spm's rules for pieces a trainer may create: at most
// MaxPieceLength characters, no unknown/boundary/space characters, U+2581 only in
// front, one script (Common counts as a script), and single digits with SplitDigits.
func (tr *trainer) validPiece(rs []rune) bool {
	if len(rs) == 0 || len(rs) > tr.opts.MaxPieceLength {
		return false
	}
	const any = -1
	prev := any
	for pos, c := range rs {
		switch {
		case c == unkChar || c == 0 || c == '\t' || c == ' ' || !utf8.ValidRune(c):
			return false
		case c == '\u2581':
			if pos > 0 {
				return false
			}
			continue
		}
		s := int(scriptOf(c))
		if s == int(scriptInherited) {
			s = prev
		}
		if tr.opts.SplitDigits && isDecimalDigit(c) && len(rs) > 1 {
			return false
		}
		if s != any && prev != any && s != prev {
			return false
		}
		prev = s
	}
	return true
}

func isDecimalDigit(c rune) bool {
	return (c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19)
}

// parallel runs fn over [0, n) split into a fixed number of chunks, so results that
// are combined per chunk in order do not depend on the number of goroutines.
func (tr *trainer) parallel(n int, fn func(lo, hi int)) {
	chunks := parallelChunks(n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, tr.threads)
	for _, c := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
			<-sem
		}(c[0], c[1])
	}
	wg.Wait()
}

// numChunks is the fixed work split of parallel loops.
const numChunks = 32

func parallelChunks(n int) [][2]int {
	var out [][2]int
	for i := 0; i < numChunks; i++ {
		lo, hi := i*n/numChunks, (i+1)*n/numChunks
		if hi > lo {
			out = append(out, [2]int{lo, hi})
		}
	}
	return out
}

// assemble builds the ModelProto: special pieces at their IDs, then the trained pieces
// in order.
func (tr *trainer) assemble(pieces []scoredPiece) (*Model, error) {
	o := tr.opts
	mp := &modelProto{hasTrainer: true, hasNorm: true}
	seen := map[string]bool{}
	next := 0
	for id := 0; id < o.VocabSize; id++ {
		if p, ok := tr.meta[id]; ok {
			mp.pieces = append(mp.pieces, pieceProto{piece: p.piece, typ: p.typ, hasType: true, hasScore: true})
			seen[p.piece] = true
			continue
		}
		for next < len(pieces) && seen[pieces[next].piece] {
			next++
		}
		if next == len(pieces) && o.SoftVocabLimit && countMetaFrom(tr.meta, id) == 0 {
			break // as spm_train --hard_vocab_limit=false: the text yields no more pieces
		}
		if next == len(pieces) {
			return nil, fmt.Errorf("vocabulary size %d is too large for this text: it yields only %d pieces (special pieces included); lower the vocabulary size or add text",
				o.VocabSize, len(mp.pieces)+countMetaFrom(tr.meta, id))
		}
		p := pieces[next]
		next++
		seen[p.piece] = true
		mp.pieces = append(mp.pieces, pieceProto{piece: p.piece, score: p.score, typ: Normal, hasScore: true})
	}
	t := &mp.trainer
	for _, in := range o.Inputs {
		t.add(protowire.String(fTrainerInput, in))
	}
	t.set(protowire.Varint(fTrainerModelType, uint64(o.Type)))
	t.set(protowire.Int32(fTrainerVocabSize, int32(len(mp.pieces))))
	t.set(protowire.Float(fTrainerCharacterCoverage, float32(o.CharacterCoverage)))
	t.set(protowire.Int32(fTrainerSeedSentencepieceSize, int32(o.SeedPieces)))
	t.set(protowire.Float(fTrainerShrinkingFactor, float32(o.ShrinkingFactor)))
	t.set(protowire.Int32(fTrainerMaxSentenceLength, int32(o.MaxSentenceLength)))
	t.set(protowire.Int32(fTrainerNumSubIterations, int32(o.SubIterations)))
	t.set(protowire.Int32(fTrainerMaxSentencepieceLength, int32(o.MaxPieceLength)))
	t.set(protowire.Bool(fTrainerSplitByUnicodeScript, true))
	t.set(protowire.Bool(fTrainerSplitByNumber, true))
	t.set(protowire.Bool(fTrainerSplitByWhitespace, true))
	t.set(protowire.Bool(fTrainerSplitDigits, o.SplitDigits))
	for _, s := range o.ControlSymbols {
		t.add(protowire.String(fTrainerControlSymbols, s))
	}
	for _, s := range o.UserDefinedSymbols {
		t.add(protowire.String(fTrainerUserDefinedSymbols, s))
	}
	t.set(protowire.Bool(fTrainerByteFallback, o.ByteFallback))
	t.set(protowire.Int32(fTrainerUnkID, int32(o.Special.Unk)))
	t.set(protowire.Int32(fTrainerBosID, int32(o.Special.BOS)))
	t.set(protowire.Int32(fTrainerEosID, int32(o.Special.EOS)))
	t.set(protowire.Int32(fTrainerPadID, int32(o.Special.Pad)))
	t.set(protowire.String(fTrainerUnkPiece, "<unk>"))
	t.set(protowire.String(fTrainerBosPiece, "<s>"))
	t.set(protowire.String(fTrainerEosPiece, "</s>"))
	t.set(protowire.String(fTrainerPadPiece, "<pad>"))
	mp.normalizer = tr.normSpec
	m, err := newModel(mp)
	if err != nil {
		return nil, fmt.Errorf("the trained model is invalid: %v", unwrapPrefix(err))
	}
	return m, nil
}

// countMetaFrom counts the special pieces with an ID of at least id.
func countMetaFrom(meta map[int]metaPiece, id int) int {
	n := 0
	for i := range meta {
		if i >= id {
			n++
		}
	}
	return n
}
