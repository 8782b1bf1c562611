// Package darts reads and builds double-array tries in the binary layout of darts-clone,
// the trie library SentencePiece uses for its normalization rules (the
// precompiled_charsmap of a .model file) and for its piece dictionary.
//
// The layout is an array of little-endian uint32 units. A unit holds a label (bits 0-7,
// plus bit 31 which no byte label has), a has-leaf flag (bit 8) and an offset (bits
// 10-31, scaled by 256 when bit 9 is set). From the unit at position p, the child with
// label c sits at p ^ offset ^ c and must carry label c; a node holding a value has a
// leaf unit at p ^ offset whose low 31 bits are the value.
//
// The lookups here behave as darts-clone's exactMatchSearch, commonPrefixSearch and
// traverse with an explicit key length, except that they never read outside the array:
// a corrupt trie yields no match instead of undefined behaviour.
package darts

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Trie is a read-only double-array trie.
type Trie struct {
	units []uint32
}

// FromUnits returns a trie over the given units (not copied).
func FromUnits(units []uint32) *Trie { return &Trie{units: units} }

// FromBytes decodes a trie from its little-endian byte image. len(b) must be a multiple
// of 4.
func FromBytes(b []byte) (*Trie, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("double-array size %d is not a multiple of 4", len(b))
	}
	u := make([]uint32, len(b)/4)
	for i := range u {
		u[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return &Trie{units: u}, nil
}

// Units returns the units of the trie.
func (t *Trie) Units() []uint32 { return t.units }

// Bytes returns the little-endian byte image of the trie.
func (t *Trie) Bytes() []byte {
	b := make([]byte, 4*len(t.units))
	for i, u := range t.units {
		binary.LittleEndian.PutUint32(b[4*i:], u)
	}
	return b
}

// Len returns the number of units.
func (t *Trie) Len() int { return len(t.units) }

func hasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func value(u uint32) int32   { return int32(u & (1<<31 - 1)) }
func label(u uint32) uint32  { return u & (1<<31 | 0xff) }
func offset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }

func (t *Trie) unit(p uint32) (uint32, bool) {
	if int(p) >= len(t.units) {
		return 0, false
	}
	return t.units[p], true
}

// Match is one result of CommonPrefixSearch.
type Match struct {
	Value  int32 // the value stored with the key
	Length int   // the key's length in bytes
}

// CommonPrefixSearch appends to dst every key that is a prefix of key, shortest first.
func (t *Trie) CommonPrefixSearch(key string, dst []Match) []Match {
	if len(t.units) == 0 {
		return dst
	}
	u := t.units[0]
	p := offset(u)
	for i := 0; i < len(key); i++ {
		c := uint32(key[i])
		p ^= c
		var ok bool
		if u, ok = t.unit(p); !ok || label(u) != c {
			return dst
		}
		p ^= offset(u)
		if hasLeaf(u) {
			lu, ok := t.unit(p)
			if !ok {
				return dst
			}
			dst = append(dst, Match{Value: value(lu), Length: i + 1})
		}
	}
	return dst
}

// ExactMatch returns the value stored with key and whether key is in the trie.
func (t *Trie) ExactMatch(key string) (int32, bool) {
	if len(t.units) == 0 {
		return 0, false
	}
	var p uint32
	u := t.units[0]
	for i := 0; i < len(key); i++ {
		c := uint32(key[i])
		p ^= offset(u) ^ c
		var ok bool
		if u, ok = t.unit(p); !ok || label(u) != c {
			return 0, false
		}
	}
	if !hasLeaf(u) {
		return 0, false
	}
	lu, ok := t.unit(p ^ offset(u))
	if !ok {
		return 0, false
	}
	return value(lu), true
}

// Traverse results other than a value (which is >= 0).
const (
	NoNode  = -2 // the key leaves the trie
	NoValue = -1 // the key is a node without a value
)

// Traverse follows key[*keyPos:end] from the node at *nodePos, as darts-clone's traverse:
// it advances *keyPos and *nodePos while the trie has the bytes and returns NoNode when
// it falls off, NoValue when it stops at a node without a value, or the value.
func (t *Trie) Traverse(key string, nodePos *uint32, keyPos *int, end int) int32 {
	id := *nodePos
	u, ok := t.unit(id)
	if !ok {
		return NoNode
	}
	for ; *keyPos < end; *keyPos++ {
		c := uint32(key[*keyPos])
		id ^= offset(u) ^ c
		if u, ok = t.unit(id); !ok || label(u) != c {
			return NoNode
		}
		*nodePos = id
	}
	if !hasLeaf(u) {
		return NoValue
	}
	lu, ok := t.unit(id ^ offset(u))
	if !ok {
		return NoNode
	}
	return value(lu)
}

// Visit calls fn for every key in the trie with its value, in byte order. It stops at
// the first error fn returns, and reports corrupt tries (cycles or keys longer than
// maxKeyLen) as errors.
func (t *Trie) Visit(maxKeyLen int, fn func(key []byte, value int32) error) error {
	if len(t.units) == 0 {
		return nil
	}
	var key []byte
	visits := 0
	var walk func(p uint32, u uint32) error
	walk = func(p uint32, u uint32) error {
		if visits++; visits > 64*len(t.units)+1024 {
			return errors.New("too many nodes (corrupt trie?)")
		}
		if len(key) > maxKeyLen {
			return fmt.Errorf("key longer than %d bytes (corrupt trie?)", maxKeyLen)
		}
		base := p ^ offset(u)
		if hasLeaf(u) {
			lu, ok := t.unit(base)
			if !ok {
				return fmt.Errorf("leaf unit %d out of range", base)
			}
			if err := fn(key, value(lu)); err != nil {
				return err
			}
		}
		for c := uint32(1); c < 256; c++ {
			cu, ok := t.unit(base ^ c)
			if !ok || label(cu) != c {
				continue
			}
			key = append(key, byte(c))
			err := walk(base^c, cu)
			key = key[:len(key)-1]
			if err != nil {
				return err
			}
		}
		return nil
	}
	return walk(0, t.units[0])
}
