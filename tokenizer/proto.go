package tokenizer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hypergrid-go/hypergrid/tokenizer/internal/protowire"
)

// This file maps the .model protobuf (sentencepiece_model.proto, proto2) onto Go values.
// Sub-messages other than the pieces are kept as raw field lists, so fields this
// package does not interpret survive a Parse/Marshal round trip unchanged.

// Field numbers of ModelProto.
const (
	fModelPieces       = 1
	fModelTrainerSpec  = 2
	fModelNormalizer   = 3
	fModelSelfTest     = 4
	fModelDenormalizer = 5
)

// Field numbers of ModelProto.SentencePiece.
const (
	fPiecePiece = 1
	fPieceScore = 2
	fPieceType  = 3
)

// Field numbers of TrainerSpec used here.
const (
	fTrainerInput                  = 1
	fTrainerModelType              = 3
	fTrainerVocabSize              = 4
	fTrainerCharacterCoverage      = 10
	fTrainerSeedSentencepieceSize  = 14
	fTrainerShrinkingFactor        = 15
	fTrainerNumSubIterations       = 17
	fTrainerMaxSentenceLength      = 18
	fTrainerMaxSentencepieceLength = 20
	fTrainerSplitByUnicodeScript   = 21
	fTrainerSplitByWhitespace      = 22
	fTrainerSplitByNumber          = 23
	fTrainerTreatWSAsSuffix        = 24
	fTrainerSplitDigits            = 25
	fTrainerControlSymbols         = 30
	fTrainerUserDefinedSymbols     = 31
	fTrainerByteFallback           = 35
	fTrainerUnkID                  = 40
	fTrainerBosID                  = 41
	fTrainerEosID                  = 42
	fTrainerPadID                  = 43
	fTrainerUnkSurface             = 44
	fTrainerUnkPiece               = 45
	fTrainerBosPiece               = 46
	fTrainerEosPiece               = 47
	fTrainerPadPiece               = 48
)

// Field numbers of NormalizerSpec.
const (
	fNormName              = 1
	fNormCharsmap          = 2
	fNormAddDummyPrefix    = 3
	fNormRemoveExtraSpaces = 4
	fNormEscapeSpaces      = 5
)

// PieceType is the type of a vocabulary entry (ModelProto.SentencePiece.Type).
type PieceType int32

// The piece types of SentencePiece.
const (
	Normal      PieceType = 1 // an ordinary piece, found by the segmentation
	Unknown     PieceType = 2 // the unknown piece (<unk>); exactly one per model
	Control     PieceType = 3 // control symbols such as </s>; never produced by Encode
	UserDefined PieceType = 4 // always segmented as one piece where it occurs
	Unused      PieceType = 5 // kept in the vocabulary but never produced
	Byte        PieceType = 6 // <0xNN> byte-fallback pieces
)

// String returns the proto name of the type.
func (t PieceType) String() string {
	switch t {
	case Normal:
		return "NORMAL"
	case Unknown:
		return "UNKNOWN"
	case Control:
		return "CONTROL"
	case UserDefined:
		return "USER_DEFINED"
	case Unused:
		return "UNUSED"
	case Byte:
		return "BYTE"
	}
	return fmt.Sprintf("PieceType(%d)", int32(t))
}

// Limits of the .model reader. They are far above any real model (T5's has 32,100
// pieces, mT5's and Gemma's about 250,000, and their files are a few megabytes) and
// bound the memory a damaged or hostile file can make the reader take.
const (
	// MaxModelSize is the largest .model file Load and Parse accept: 256 MiB.
	MaxModelSize = 256 << 20
	// MaxPieces is the largest number of pieces a model may have: 1,048,576 (2^20),
	// four times the largest real vocabularies.
	MaxPieces = 1 << 20
)

// pieceProto is one ModelProto.SentencePiece.
type pieceProto struct {
	piece    string
	score    float32
	typ      PieceType
	hasScore bool
	hasType  bool
	extra    []byte // fields not interpreted, encoded as on the wire, in order
}

// message is a sub-message kept in its wire form, so that fields this package does
// not interpret survive unchanged and a message takes no more memory than its bytes.
// Scalar getters follow proto2: the last occurrence wins; absent fields return the
// caller's default. A message read from a file was checked with protowire.Validate;
// one built with set and add is well formed by construction.
type message struct {
	raw []byte
}

// newMessage returns a message holding the given fields, in order.
func newMessage(fields ...protowire.Field) message {
	return message{raw: protowire.Append(nil, fields)}
}

// fieldList decodes the message's fields.
func (m *message) fieldList() []protowire.Field {
	fs, _ := protowire.Parse(m.raw)
	return fs
}

func (m *message) setFields(fs []protowire.Field) { m.raw = protowire.Append(nil, fs) }

func (m *message) last(num int32) (protowire.Field, bool) {
	var found protowire.Field
	ok := false
	protowire.Walk(m.raw, func(f protowire.Field, _ []byte) error {
		if f.Num == num {
			found, ok = f, true
		}
		return nil
	})
	return found, ok
}

func (m *message) has(num int32) bool { _, ok := m.last(num); return ok }

func (m *message) getBool(num int32, def bool) bool        { return m.index().getBool(num, def) }
func (m *message) getInt32(num int32, def int32) int32     { return m.index().getInt32(num, def) }
func (m *message) getFloat(num int32, def float32) float32 { return m.index().getFloat(num, def) }
func (m *message) getString(num int32, def string) string  { return m.index().getString(num, def) }
func (m *message) getBytes(num int32) []byte               { return m.index().getBytes(num) }

// maxIndexed bounds the field numbers a fieldIndex holds: every field this package
// reads has a smaller number.
const maxIndexed = 64

// fieldIndex holds the last occurrence of each field number below maxIndexed, so that
// reading many settings of a message walks it once. Its getters return the default
// for larger numbers.
type fieldIndex [maxIndexed]struct {
	f  protowire.Field
	ok bool
}

// index walks the message once and indexes its fields.
func (m *message) index() *fieldIndex {
	var x fieldIndex
	protowire.Walk(m.raw, func(f protowire.Field, _ []byte) error {
		if f.Num < maxIndexed {
			x[f.Num].f, x[f.Num].ok = f, true
		}
		return nil
	})
	return &x
}

func (x *fieldIndex) last(num int32) (protowire.Field, bool) {
	if num < 0 || num >= maxIndexed {
		return protowire.Field{}, false
	}
	return x[num].f, x[num].ok
}

func (x *fieldIndex) getBool(num int32, def bool) bool {
	if f, ok := x.last(num); ok && f.Type == protowire.VarintType {
		return f.AsBool()
	}
	return def
}

func (x *fieldIndex) getInt32(num int32, def int32) int32 {
	if f, ok := x.last(num); ok && f.Type == protowire.VarintType {
		return f.AsInt32()
	}
	return def
}

func (x *fieldIndex) getFloat(num int32, def float32) float32 {
	if f, ok := x.last(num); ok && f.Type == protowire.Fixed32Type {
		return f.AsFloat()
	}
	return def
}

func (x *fieldIndex) getString(num int32, def string) string {
	if f, ok := x.last(num); ok && f.Type == protowire.BytesType {
		return string(f.Data)
	}
	return def
}

func (x *fieldIndex) getBytes(num int32) []byte {
	if f, ok := x.last(num); ok && f.Type == protowire.BytesType {
		return f.Data
	}
	return nil
}

func (m *message) getStrings(num int32) []string {
	var out []string
	protowire.Walk(m.raw, func(f protowire.Field, _ []byte) error {
		if f.Num == num && f.Type == protowire.BytesType {
			out = append(out, string(f.Data))
		}
		return nil
	})
	return out
}

// set replaces every occurrence of f.Num by f, keeping the fields sorted by number
// when they were.
func (m *message) set(f protowire.Field) {
	fs := slices.DeleteFunc(m.fieldList(), func(g protowire.Field) bool { return g.Num == f.Num })
	m.setFields(insertByNum(fs, f))
}

// add appends a repeated field after the existing ones with its number.
func (m *message) add(f protowire.Field) {
	m.setFields(insertByNum(m.fieldList(), f))
}

func (m *message) clear(num int32) {
	m.setFields(slices.DeleteFunc(m.fieldList(), func(g protowire.Field) bool { return g.Num == num }))
}

// insertByNum inserts f before the first field with a larger number.
func insertByNum(fs []protowire.Field, f protowire.Field) []protowire.Field {
	i := len(fs)
	for j, g := range fs {
		if g.Num > f.Num {
			i = j
			break
		}
	}
	return slices.Insert(fs, i, f)
}

// modelProto is a parsed ModelProto.
type modelProto struct {
	pieces       []pieceProto
	trainer      message
	normalizer   message
	selfTest     message
	denormalizer message
	hasTrainer   bool
	hasNorm      bool
	hasSelfTest  bool
	hasDenorm    bool
	extra        []byte // fields not interpreted, encoded as on the wire, in order
}

// protoSizes is what the first pass over a ModelProto measures, so that the second
// allocates everything at its final size.
type protoSizes struct {
	pieces     int // number of pieces
	pieceText  int // bytes of the pieces' texts
	pieceExtra int // bytes of the pieces' fields not interpreted
	extra      int // bytes of the model's fields not interpreted
	sub        [fModelDenormalizer + 1]int
}

// parseModelProto decodes a serialized ModelProto. It checks the wire format and the
// limits (MaxModelSize, MaxPieces, no empty piece) in a first pass that allocates
// nothing, then decodes into memory allocated once at its final size: a model takes
// no more memory than its file, plus a fixed amount per piece.
func parseModelProto(b []byte) (*modelProto, error) {
	if len(b) > MaxModelSize {
		return nil, fmt.Errorf("the data is %d bytes, more than the %d (%d MiB) a .model file may have", len(b), MaxModelSize, MaxModelSize>>20)
	}
	sz, err := measureModelProto(b)
	if err != nil {
		return nil, err
	}
	mp := &modelProto{pieces: make([]pieceProto, 0, sz.pieces)}
	if sz.extra > 0 {
		mp.extra = make([]byte, 0, sz.extra)
	}
	// Repeated occurrences of a singular message field merge, which for the wire format
	// is the concatenation of their payloads.
	subs := [...]*message{fModelTrainerSpec: &mp.trainer, fModelNormalizer: &mp.normalizer,
		fModelSelfTest: &mp.selfTest, fModelDenormalizer: &mp.denormalizer}
	for num, dst := range subs {
		if dst != nil && sz.sub[num] > 0 {
			dst.raw = make([]byte, 0, sz.sub[num])
		}
	}
	var text strings.Builder
	text.Grow(sz.pieceText)
	textLens := make([]int32, 0, sz.pieces)
	pieceExtra := make([]byte, 0, sz.pieceExtra)
	err = protowire.Walk(b, func(f protowire.Field, raw []byte) error {
		switch f.Num {
		case fModelPieces:
			p := pieceProto{typ: Normal}
			var pieceText []byte
			start := len(pieceExtra)
			protowire.Walk(f.Data, func(g protowire.Field, graw []byte) error {
				switch {
				case g.Num == fPiecePiece && g.Type == protowire.BytesType:
					pieceText = g.Data
				case g.Num == fPieceScore && g.Type == protowire.Fixed32Type:
					p.score = g.AsFloat()
					p.hasScore = true
				case g.Num == fPieceType && g.Type == protowire.VarintType && g.Value >= 1 && g.Value <= 6:
					p.typ = PieceType(g.Value)
					p.hasType = true
				default:
					// Unknown fields, and enum values proto2 does not know, are kept as is.
					pieceExtra = append(pieceExtra, graw...)
				}
				return nil
			})
			if len(pieceExtra) > start {
				p.extra = pieceExtra[start:len(pieceExtra):len(pieceExtra)]
			}
			text.Write(pieceText)
			textLens = append(textLens, int32(len(pieceText)))
			mp.pieces = append(mp.pieces, p)
		case fModelTrainerSpec, fModelNormalizer, fModelSelfTest, fModelDenormalizer:
			subs[f.Num].raw = append(subs[f.Num].raw, f.Data...)
			switch f.Num {
			case fModelTrainerSpec:
				mp.hasTrainer = true
			case fModelNormalizer:
				mp.hasNorm = true
			case fModelSelfTest:
				mp.hasSelfTest = true
			case fModelDenormalizer:
				mp.hasDenorm = true
			}
		default:
			mp.extra = append(mp.extra, raw...)
		}
		return nil
	})
	if err != nil {
		return nil, err // measureModelProto walked the same bytes: cannot happen
	}
	all, off := text.String(), 0
	for i, n := range textLens {
		mp.pieces[i].piece = all[off : off+int(n)]
		off += int(n)
	}
	for _, sub := range []struct {
		name string
		m    *message
	}{
		{"trainer_spec", &mp.trainer},
		{"normalizer_spec", &mp.normalizer},
		{"self_test_data", &mp.selfTest},
		{"denormalizer_spec", &mp.denormalizer},
	} {
		if err := protowire.Validate(sub.m.raw); err != nil {
			return nil, fmt.Errorf("%s: %w", sub.name, err)
		}
	}
	return mp, nil
}

// measureModelProto is the first pass of parseModelProto: it checks the wire format
// and the limits, and measures what the second pass allocates. It allocates nothing
// unless it returns an error.
func measureModelProto(b []byte) (protoSizes, error) {
	var sz protoSizes
	err := protowire.Walk(b, func(f protowire.Field, raw []byte) error {
		switch f.Num {
		case fModelPieces, fModelTrainerSpec, fModelNormalizer, fModelSelfTest, fModelDenormalizer:
			if f.Type != protowire.BytesType {
				return fmt.Errorf("ModelProto field %d has wire type %d, want length-delimited", f.Num, f.Type)
			}
		}
		switch f.Num {
		case fModelPieces:
			if sz.pieces == MaxPieces {
				return fmt.Errorf("the model has more than %d pieces, the most this reader accepts: the file is damaged or not a tokenizer model", MaxPieces)
			}
			text, extra, err := measurePiece(f.Data)
			if err != nil {
				return fmt.Errorf("piece %d: %w", sz.pieces, err)
			}
			if text == 0 {
				return fmt.Errorf("piece %d is empty: pieces must not be empty", sz.pieces)
			}
			sz.pieces++
			sz.pieceText += text
			sz.pieceExtra += extra
		case fModelTrainerSpec, fModelNormalizer, fModelSelfTest, fModelDenormalizer:
			sz.sub[f.Num] += len(f.Data)
		default:
			sz.extra += len(raw)
		}
		return nil
	})
	if err != nil {
		var we *protowire.Error
		if errors.As(err, &we) {
			return sz, fmt.Errorf("ModelProto: %w", err)
		}
		return sz, err
	}
	return sz, nil
}

// measurePiece checks one serialized ModelProto.SentencePiece and returns the length
// of its text (the last occurrence wins) and the bytes of its fields not interpreted.
func measurePiece(b []byte) (text, extra int, err error) {
	err = protowire.Walk(b, func(g protowire.Field, raw []byte) error {
		switch {
		case g.Num == fPiecePiece && g.Type == protowire.BytesType:
			text = len(g.Data)
		case g.Num == fPieceScore && g.Type == protowire.Fixed32Type:
		case g.Num == fPieceType && g.Type == protowire.VarintType && g.Value >= 1 && g.Value <= 6:
		default:
			extra += len(raw)
		}
		return nil
	})
	return text, extra, err
}

// marshal serializes the model in field-number order, as protobuf's C++ runtime does,
// followed by the fields it does not know.
func (mp *modelProto) marshal() []byte {
	var out []byte
	var tmp []byte
	for _, p := range mp.pieces {
		tmp = tmp[:0]
		tmp = protowire.AppendField(tmp, protowire.String(fPiecePiece, p.piece))
		if p.hasScore {
			tmp = protowire.AppendField(tmp, protowire.Float(fPieceScore, p.score))
		}
		if p.hasType {
			tmp = protowire.AppendField(tmp, protowire.Varint(fPieceType, uint64(p.typ)))
		}
		tmp = append(tmp, p.extra...)
		out = protowire.AppendField(out, protowire.Bytes(fModelPieces, tmp))
	}
	for _, sub := range []struct {
		num int32
		has bool
		m   *message
	}{
		{fModelTrainerSpec, mp.hasTrainer, &mp.trainer},
		{fModelNormalizer, mp.hasNorm, &mp.normalizer},
		{fModelSelfTest, mp.hasSelfTest, &mp.selfTest},
		{fModelDenormalizer, mp.hasDenorm, &mp.denormalizer},
	} {
		if sub.has {
			out = protowire.AppendField(out, protowire.Bytes(sub.num, sub.m.raw))
		}
	}
	return append(out, mp.extra...)
}
