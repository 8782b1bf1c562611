package tokenizer

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hypergrid-go/hypergrid/internal/fileio"

	"github.com/hypergrid-go/hypergrid/tokenizer/internal/protowire"
)

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A file of empty pieces is refused at the first one, before anything is decoded.
func TestParseEmptyPiecesFailsEarly(t *testing.T) {
	data := bytes.Repeat([]byte{0x0a, 0x00}, 1<<20) // 1 Mi empty pieces, 2 MiB
	var err error
	n := allocated(func() { _, err = Parse(data) })
	if err == nil || !strings.Contains(err.Error(), "piece 0 is empty") {
		t.Fatalf("error %v, want piece 0 is empty", err)
	}
	if n > 64<<10 {
		t.Errorf("Parse allocated %d bytes for %d bytes of empty pieces, want under 64 KiB", n, len(data))
	}
}

// Unknown fields at every level are kept as bytes: the model takes about the size of
// its file, not a decoded field (about 48 bytes) per 2-byte field.
func TestParseUnknownFieldsMemory(t *testing.T) {
	const count = 1 << 19
	unknown := func(num int32) []byte {
		return bytes.Repeat(protowire.AppendField(nil, protowire.Varint(num, 0)), count)
	}
	pieceExtra := unknown(4) // ModelProto.SentencePiece has no field 4
	piece := protowire.AppendField(nil, protowire.String(fPiecePiece, "a"))
	var data []byte
	data = protowire.AppendField(data, protowire.Bytes(fModelPieces, append(protowire.AppendField(nil, protowire.String(fPiecePiece, "<unk>")), protowire.AppendField(nil, protowire.Varint(fPieceType, uint64(Unknown)))...)))
	data = protowire.AppendField(data, protowire.Bytes(fModelPieces, append(piece, pieceExtra...)))
	data = protowire.AppendField(data, protowire.Bytes(fModelTrainerSpec, unknown(999)))
	data = protowire.AppendField(data, protowire.Bytes(fModelNormalizer, unknown(60)))
	data = append(data, unknown(6)...)
	var m *Model
	var err error
	n := allocated(func() { m, err = Parse(data) })
	if err != nil {
		t.Fatal(err)
	}
	if limit := uint64(2 * len(data)); n > limit {
		t.Errorf("Parse allocated %d bytes for a %d-byte model, want at most %d", n, len(data), limit)
	}
	if m.VocabSize() != 2 || !bytes.Equal(m.Marshal(), data) {
		t.Error("the model does not round-trip")
	}
}

func TestParseTooManyPieces(t *testing.T) {
	piece := protowire.AppendField(nil, protowire.Bytes(fModelPieces, protowire.AppendField(nil, protowire.String(fPiecePiece, "a"))))
	data := bytes.Repeat(piece, MaxPieces+1)
	var err error
	n := allocated(func() { _, err = Parse(data) })
	if err == nil || !strings.Contains(err.Error(), "more than 1048576 pieces") {
		t.Fatalf("error %v, want one about too many pieces", err)
	}
	if n > 64<<10 {
		t.Errorf("Parse allocated %d bytes before refusing, want under 64 KiB", n)
	}
}

func TestLoadRefusesLargeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.model")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file: no disk space is used.
	if err := f.Truncate(MaxModelSize + 1); err != nil {
		t.Skipf("cannot make a sparse file: %v", err)
	}
	f.Close()
	_, err = Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "more than the limit of 256 MiB") {
		t.Fatalf("Load: %v, want an error naming the file and the 256 MiB limit", err)
	}
}

func TestLoadRefusesFolder(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "is a folder, not a regular file") {
		t.Fatalf("Load(folder): %v", err)
	}
}

func TestReadAllLimited(t *testing.T) {
	b, err := fileio.ReadAllLimited(strings.NewReader("abcdef"), nil, 6)
	if err != nil || string(b) != "abcdef" {
		t.Fatalf("at the limit: %q, %v", b, err)
	}
	if _, err := fileio.ReadAllLimited(strings.NewReader("abcdefg"), make([]byte, 0, 2), 6); err == nil || !strings.Contains(err.Error(), "limit of 6 bytes") {
		t.Fatalf("past the limit: %v", err)
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{MaxModelSize: "256 MiB", 1 << 30: "1 GiB", 1536: "1536 bytes", 2048: "2 KiB", 7: "7 bytes"} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
