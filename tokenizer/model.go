package tokenizer

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/hypergrid-go/hypergrid/internal/fileio"

	"github.com/hypergrid-go/hypergrid/tokenizer/internal/darts"
)

// ModelType is the segmentation algorithm of a model (TrainerSpec.model_type).
type ModelType int32

// The model types of SentencePiece. This package encodes Unigram and BPE models.
const (
	Unigram ModelType = 1 // unigram language model, segmented by Viterbi (T5's choice)
	BPE     ModelType = 2 // byte-pair encoding, merged by piece score
	Word    ModelType = 3 // whitespace-delimited words (not supported)
	Char    ModelType = 4 // characters (not supported)
)

// String returns the lower-case name used on the command line.
func (t ModelType) String() string {
	switch t {
	case Unigram:
		return "unigram"
	case BPE:
		return "bpe"
	case Word:
		return "word"
	case Char:
		return "char"
	}
	return fmt.Sprintf("ModelType(%d)", int32(t))
}

// ParseModelType maps "unigram" or "bpe" to a ModelType.
func ParseModelType(s string) (ModelType, error) {
	switch s {
	case "unigram":
		return Unigram, nil
	case "bpe":
		return BPE, nil
	}
	return 0, fmt.Errorf("unknown model type %q: want unigram or bpe", s)
}

// Default IDs of the special pieces in a model made by Train. They follow T5's layout;
// a loaded model reports its own IDs through PadID, EOSID, UnkID and BOSID.
const (
	DefaultPadID = 0
	DefaultEOSID = 1
	DefaultUnkID = 2
)

// Model is a loaded SentencePiece model: its vocabulary, normalizer and segmentation
// algorithm. It is safe for concurrent use by multiple goroutines.
type Model struct {
	proto      *modelProto
	typ        ModelType
	norm       *normalizer
	denorm     *normalizer    // nil unless the model has a denormalizer charsmap
	pieces     map[string]int // NORMAL, USER_DEFINED and UNUSED pieces
	reserved   map[string]int // the other pieces
	trie       *darts.Trie    // unigram: pieces -> id
	unkID      int
	minScore   float32
	maxScore   float32
	byteFB     bool
	byteIDs    [256]int
	unkSurface string
	special    [4]int // IDs of <unk>, <s>, </s> and <pad> (see specialID), -1 if absent
	extraIDs   int    // sentinels <extra_id_0>... above the pieces (see WithExtraIDs)
}

// Load reads a .model file. The file must be a regular file (not a FIFO or a device)
// of at most MaxModelSize bytes; it is read through a limit, so a file that grows
// while it is read is refused too.
func Load(path string) (*Model, error) {
	b, err := readModelFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, unwrapPrefix(err))
	}
	return m, nil
}

// readModelFile reads a .model file whole, refusing what is not a regular file and
// files larger than MaxModelSize.
func readModelFile(path string) ([]byte, error) {
	f, size, err := fileio.OpenRegular(path, "model file", MaxModelSize)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	b := make([]byte, 0, size+1)
	b, err = fileio.ReadAllLimited(f, b, MaxModelSize)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return b, nil
}

// parseError carries the message of a Parse failure so Load can re-prefix it.
type parseError struct{ msg string }

func (e *parseError) Error() string { return "tokenizer: " + e.msg }

func unwrapPrefix(err error) error {
	if pe, ok := err.(*parseError); ok {
		return fmt.Errorf("%s", pe.msg)
	}
	return err
}

func parseErr(format string, args ...any) error {
	return &parseError{fmt.Sprintf(format, args...)}
}

// Parse decodes a serialized ModelProto (the content of a .model file) and checks it
// the way SentencePiece does when it loads a model. It refuses data larger than
// MaxModelSize and models with more than MaxPieces pieces; the memory it takes is
// bounded by the size of b plus a fixed amount per piece.
func Parse(b []byte) (*Model, error) {
	mp, err := parseModelProto(b)
	if err != nil {
		return nil, parseErr("not a valid SentencePiece model: %v", err)
	}
	return newModel(mp)
}

func newModel(mp *modelProto) (*Model, error) {
	var err error
	trainer := mp.trainer.index()
	m := &Model{
		proto:    mp,
		typ:      ModelType(trainer.getInt32(fTrainerModelType, int32(Unigram))),
		pieces:   make(map[string]int, len(mp.pieces)),
		reserved: map[string]int{},
		unkID:    -1,
		byteFB:   trainer.getBool(fTrainerByteFallback, false),
	}
	switch m.typ {
	case Unigram, BPE:
	default:
		return nil, parseErr("model type %v is not supported: only unigram and bpe models can be used", m.typ)
	}
	if len(mp.pieces) == 0 {
		return nil, parseErr("the model has no pieces")
	}
	var userDefined []string
	var byteFound [256]bool
	for i := range m.byteIDs {
		m.byteIDs[i] = -1
	}
	for i, p := range mp.pieces {
		if p.piece == "" {
			return nil, parseErr("piece %d is empty: pieces must not be empty", i)
		}
		dst := m.reserved
		if p.typ == Normal || p.typ == UserDefined || p.typ == Unused {
			dst = m.pieces
		}
		if _, dup := dst[p.piece]; dup {
			return nil, parseErr("piece %d %q is already defined: pieces must be unique", i, p.piece)
		}
		dst[p.piece] = i
		switch p.typ {
		case UserDefined:
			userDefined = append(userDefined, p.piece)
		case Unknown:
			if m.unkID >= 0 {
				return nil, parseErr("piece %d %q: the unknown piece is already defined at %d", i, p.piece, m.unkID)
			}
			m.unkID = i
		case Byte:
			if !m.byteFB {
				return nil, parseErr("byte piece %q (id %d) is found although trainer_spec.byte_fallback is false", p.piece, i)
			}
			c, ok := pieceToByte(p.piece)
			if !ok {
				return nil, parseErr("byte piece %q (id %d) is invalid: want <0xNN>", p.piece, i)
			}
			byteFound[c] = true
			m.byteIDs[c] = i
		}
	}
	if m.unkID < 0 {
		return nil, parseErr("the model defines no unknown piece (type UNKNOWN)")
	}
	if m.byteFB {
		for c, ok := range byteFound {
			if !ok {
				return nil, parseErr("trainer_spec.byte_fallback is true but byte piece <0x%02X> is missing: there must be 256 byte pieces", c)
			}
		}
	}
	m.unkSurface = trainer.getString(fTrainerUnkSurface, " \u2047 ")

	treatSuffix := trainer.getBool(fTrainerTreatWSAsSuffix, false)
	if m.norm, err = newNormalizer(&mp.normalizer, treatSuffix); err != nil {
		return nil, parseErr("normalizer_spec: %v", err)
	}
	if len(mp.denormalizer.getBytes(fNormCharsmap)) > 0 {
		if m.denorm, err = newNormalizer(&mp.denormalizer, false); err != nil {
			return nil, parseErr("denormalizer_spec: %v", err)
		}
	}
	if len(userDefined) > 0 {
		slices.Sort(userDefined)
		if m.norm.userDefined, err = darts.Build(userDefined, make([]int32, len(userDefined))); err != nil {
			return nil, parseErr("user-defined pieces: %v", err)
		}
	}

	// SentencePiece starts the minimum at FLT_MAX and the maximum at FLT_MIN (the
	// smallest normal float, not the most negative one): the bonus of user-defined
	// pieces depends on it.
	m.minScore, m.maxScore = math.MaxFloat32, 0x1p-126
	for _, p := range mp.pieces {
		if p.typ == Normal {
			m.minScore = min(m.minScore, p.score)
			m.maxScore = max(m.maxScore, p.score)
		}
	}
	if m.typ == Unigram {
		if err := m.buildTrie(); err != nil {
			return nil, parseErr("%v", err)
		}
	}
	m.special = [4]int{
		m.specialID(trainer, fTrainerUnkPiece, "<unk>", Unknown),
		m.specialID(trainer, fTrainerBosPiece, "<s>", Control),
		m.specialID(trainer, fTrainerEosPiece, "</s>", Control),
		m.specialID(trainer, fTrainerPadPiece, "<pad>", Control),
	}
	return m, nil
}

func (m *Model) buildTrie() error {
	keys := make([]string, 0, len(m.pieces))
	for k := range m.pieces {
		if !hasZeroByte(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	vals := make([]int32, len(keys))
	for i, k := range keys {
		vals[i] = int32(m.pieces[k])
	}
	t, err := darts.Build(keys, vals)
	if err != nil {
		return fmt.Errorf("cannot index the pieces: %v", err)
	}
	m.trie = t
	return nil
}

func hasZeroByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

// pieceToByte parses a byte piece <0xNN> (upper-case hex, as SentencePiece writes it).
func pieceToByte(p string) (byte, bool) {
	if len(p) != 6 || p[:3] != "<0x" || p[5] != '>' {
		return 0, false
	}
	var v byte
	for _, c := range []byte(p[3:5]) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// byteToPiece returns the byte piece for c.
func byteToPiece(c byte) string { return fmt.Sprintf("<0x%02X>", c) }

// Type returns the segmentation algorithm.
func (m *Model) Type() ModelType { return m.typ }

// VocabSize returns the number of IDs: the model's pieces plus its sentinels
// (ExtraIDs, 0 unless set with WithExtraIDs); IDs run from 0 to VocabSize()-1. This is
// Hugging Face's vocab_size of a T5 tokenizer (32100 for t5-small).
func (m *Model) VocabSize() int { return len(m.proto.pieces) + m.extraIDs }

// Pieces returns the number of pieces of the SentencePiece model itself (what a .model
// file holds): VocabSize() without the sentinels.
func (m *Model) Pieces() int { return len(m.proto.pieces) }

// IDToPiece returns the piece with the given ID ("<extra_id_N>" for a sentinel). It
// panics if id is out of range.
func (m *Model) IDToPiece(id int) string {
	if i, ok := m.sentinelIndex(id); ok {
		return SentinelPiece(i)
	}
	return m.proto.pieces[id].piece
}

// Score returns the score of a piece (0 for a sentinel). It panics if id is out of
// range.
func (m *Model) Score(id int) float32 {
	if _, ok := m.sentinelIndex(id); ok {
		return 0
	}
	return m.proto.pieces[id].score
}

// PieceType returns the type of a piece (UserDefined for a sentinel: it is matched
// whole in text and decodes as itself). It panics if id is out of range.
func (m *Model) PieceType(id int) PieceType {
	if _, ok := m.sentinelIndex(id); ok {
		return UserDefined
	}
	return m.proto.pieces[id].typ
}

// PieceToID returns the ID of a piece (or of a sentinel "<extra_id_N>", N <
// ExtraIDs()), or UnkID() when the vocabulary lacks it.
func (m *Model) PieceToID(piece string) int {
	if id, ok := m.reserved[piece]; ok {
		return id
	}
	if id, ok := m.pieces[piece]; ok {
		return id
	}
	if i, n := parseSentinel(piece); n == len(piece) && i < m.extraIDs {
		return int(m.Sentinel(i))
	}
	return m.unkID
}

func (m *Model) specialID(trainer *fieldIndex, num int32, def string, want PieceType) int {
	id := m.PieceToID(trainer.getString(num, def))
	if m.proto.pieces[id].typ == want {
		return id
	}
	return -1
}

// UnkID returns the ID of the unknown piece.
func (m *Model) UnkID() int { return m.special[0] }

// BOSID returns the ID of the begin-of-sentence control piece, or -1 if there is none.
func (m *Model) BOSID() int { return m.special[1] }

// EOSID returns the ID of the end-of-sentence control piece, or -1 if there is none.
func (m *Model) EOSID() int { return m.special[2] }

// PadID returns the ID of the padding control piece, or -1 if there is none.
func (m *Model) PadID() int { return m.special[3] }

// Normalize returns the text the segmentation sees: s after the model's normalization
// rules, whitespace handling and dummy prefix (spaces appear as U+2581).
func (m *Model) Normalize(s string) string { return m.norm.normalize(s) }

// Marshal serializes the model in the .model format. Fields this package does not
// interpret are written back unchanged. Sentinels are not part of the .model format
// (as with Hugging Face's spiece.model): the file holds Pieces() pieces, and a reader
// sets ExtraIDs again with WithExtraIDs.
func (m *Model) Marshal() []byte { return m.proto.marshal() }

// Save writes the model to path atomically: it writes a temporary file in the same
// directory, syncs it and renames it over path.
func (m *Model) Save(path string) error {
	return writeFileAtomic(path, m.Marshal())
}

// writeFileAtomic writes data to a temporary file next to path, syncs it and renames it.
func writeFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("tokenizer: save %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("tokenizer: save %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("tokenizer: save %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("tokenizer: save %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("tokenizer: save %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("tokenizer: save %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // best effort: make the rename durable
		d.Close()
	}
	return nil
}
