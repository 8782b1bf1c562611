package tokenizer

import "github.com/hypergrid-go/hypergrid/internal/fileio"

// byteSize writes a limit in the largest binary unit that divides it ("256 MiB").
func byteSize(n int64) string { return fileio.ByteSize(n) }
