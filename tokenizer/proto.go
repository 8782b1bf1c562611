package tokenizer

import (
	"fmt"
	"slices"

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

// pieceProto is one ModelProto.SentencePiece.
type pieceProto struct {
	piece    string
	score    float32
	typ      PieceType
	hasScore bool
	hasType  bool
	extra    []protowire.Field // fields not interpreted, in order
}

// message is a sub-message kept as raw fields. Scalar getters follow proto2: the last
// occurrence wins; absent fields return the caller's default.
type message struct {
	fields []protowire.Field
}

func (m *message) last(num int32) (protowire.Field, bool) {
	for i := len(m.fields) - 1; i >= 0; i-- {
		if m.fields[i].Num == num {
			return m.fields[i], true
		}
	}
	return protowire.Field{}, false
}

func (m *message) has(num int32) bool { _, ok := m.last(num); return ok }

func (m *message) getBool(num int32, def bool) bool {
	if f, ok := m.last(num); ok && f.Type == protowire.VarintType {
		return f.AsBool()
	}
	return def
}

func (m *message) getInt32(num int32, def int32) int32 {
	if f, ok := m.last(num); ok && f.Type == protowire.VarintType {
		return f.AsInt32()
	}
	return def
}

func (m *message) getFloat(num int32, def float32) float32 {
	if f, ok := m.last(num); ok && f.Type == protowire.Fixed32Type {
		return f.AsFloat()
	}
	return def
}

func (m *message) getString(num int32, def string) string {
	if f, ok := m.last(num); ok && f.Type == protowire.BytesType {
		return string(f.Data)
	}
	return def
}

func (m *message) getBytes(num int32) []byte {
	if f, ok := m.last(num); ok && f.Type == protowire.BytesType {
		return f.Data
	}
	return nil
}

func (m *message) getStrings(num int32) []string {
	var out []string
	for _, f := range m.fields {
		if f.Num == num && f.Type == protowire.BytesType {
			out = append(out, string(f.Data))
		}
	}
	return out
}

// set replaces every occurrence of f.Num by f, keeping the fields sorted by number
// when they were.
func (m *message) set(f protowire.Field) {
	m.clear(f.Num)
	i := len(m.fields)
	for j, g := range m.fields {
		if g.Num > f.Num {
			i = j
			break
		}
	}
	m.fields = slices.Insert(m.fields, i, f)
}

// add appends a repeated field after the existing ones with its number.
func (m *message) add(f protowire.Field) {
	i := len(m.fields)
	for j, g := range m.fields {
		if g.Num > f.Num {
			i = j
			break
		}
	}
	m.fields = slices.Insert(m.fields, i, f)
}

func (m *message) clear(num int32) {
	m.fields = slices.DeleteFunc(m.fields, func(g protowire.Field) bool { return g.Num == num })
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
	extra        []protowire.Field
}

// parseModelProto decodes a serialized ModelProto.
func parseModelProto(b []byte) (*modelProto, error) {
	fields, err := protowire.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("ModelProto: %w", err)
	}
	mp := &modelProto{}
	// Repeated occurrences of a singular message field merge, which for the wire format
	// is the concatenation of their payloads.
	var trainer, norm, selfTest, denorm []byte
	for _, f := range fields {
		wantBytes := func() error {
			if f.Type != protowire.BytesType {
				return fmt.Errorf("ModelProto field %d has wire type %d, want length-delimited", f.Num, f.Type)
			}
			return nil
		}
		switch f.Num {
		case fModelPieces:
			if err := wantBytes(); err != nil {
				return nil, err
			}
			p, err := parsePiece(f.Data)
			if err != nil {
				return nil, fmt.Errorf("piece %d: %w", len(mp.pieces), err)
			}
			mp.pieces = append(mp.pieces, p)
		case fModelTrainerSpec:
			if err := wantBytes(); err != nil {
				return nil, err
			}
			mp.hasTrainer = true
			trainer = append(trainer, f.Data...)
		case fModelNormalizer:
			if err := wantBytes(); err != nil {
				return nil, err
			}
			mp.hasNorm = true
			norm = append(norm, f.Data...)
		case fModelSelfTest:
			if err := wantBytes(); err != nil {
				return nil, err
			}
			mp.hasSelfTest = true
			selfTest = append(selfTest, f.Data...)
		case fModelDenormalizer:
			if err := wantBytes(); err != nil {
				return nil, err
			}
			mp.hasDenorm = true
			denorm = append(denorm, f.Data...)
		default:
			mp.extra = append(mp.extra, f)
		}
	}
	for _, sub := range []struct {
		name string
		data []byte
		dst  *message
	}{
		{"trainer_spec", trainer, &mp.trainer},
		{"normalizer_spec", norm, &mp.normalizer},
		{"self_test_data", selfTest, &mp.selfTest},
		{"denormalizer_spec", denorm, &mp.denormalizer},
	} {
		fs, err := protowire.Parse(sub.data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sub.name, err)
		}
		sub.dst.fields = fs
	}
	return mp, nil
}

func parsePiece(b []byte) (pieceProto, error) {
	fields, err := protowire.Parse(b)
	if err != nil {
		return pieceProto{}, err
	}
	p := pieceProto{typ: Normal}
	for _, f := range fields {
		switch {
		case f.Num == fPiecePiece && f.Type == protowire.BytesType:
			p.piece = string(f.Data)
		case f.Num == fPieceScore && f.Type == protowire.Fixed32Type:
			p.score = f.AsFloat()
			p.hasScore = true
		case f.Num == fPieceType && f.Type == protowire.VarintType && f.Value >= 1 && f.Value <= 6:
			p.typ = PieceType(f.Value)
			p.hasType = true
		default:
			// Unknown fields, and enum values proto2 does not know, are kept as is.
			p.extra = append(p.extra, f)
		}
	}
	return p, nil
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
		tmp = protowire.Append(tmp, p.extra)
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
			out = protowire.AppendField(out, protowire.Bytes(sub.num, protowire.Append(nil, sub.m.fields)))
		}
	}
	return protowire.Append(out, mp.extra)
}
