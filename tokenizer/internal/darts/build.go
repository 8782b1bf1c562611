package darts

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// blockSize is the span of positions a node's children can occupy: p ^ c for c < 256
// stays inside p's aligned block of 256 units.
const blockSize = 256

// maxOpenDistance bounds how far behind the end of the array the builder still looks for
// free units; older holes are given up (they keep a label no byte matches).
const maxOpenDistance = 64 * blockSize

// freeUnit fills positions no node uses: bit 31 in the label never equals a byte.
const freeUnit = 1 << 31

// Build returns a trie holding keys[i] with values[i]. Keys must be sorted in byte order,
// unique, non-empty and free of zero bytes (darts-clone keys are C strings); values must
// be in [0, 2^31).
func Build(keys []string, values []int32) (*Trie, error) {
	if len(keys) != len(values) {
		return nil, fmt.Errorf("darts: %d keys but %d values", len(keys), len(values))
	}
	for i, k := range keys {
		if k == "" {
			return nil, errors.New("darts: empty key")
		}
		for j := 0; j < len(k); j++ {
			if k[j] == 0 {
				return nil, fmt.Errorf("darts: key %q contains a zero byte", k)
			}
		}
		if i > 0 && keys[i-1] >= k {
			return nil, fmt.Errorf("darts: keys not sorted and unique at %q", k)
		}
		if values[i] < 0 {
			return nil, fmt.Errorf("darts: negative value %d for key %q", values[i], k)
		}
	}
	b := &builder{head: -1, tail: -1}
	b.grow(blockSize)
	b.take(0)
	if len(keys) == 0 {
		return &Trie{units: b.finish()}, nil
	}
	g := newGraph(keys, values)
	// Nodes whose subtrees are identical (same labels, values and descendants) share
	// one block of children, as in darts-clone's DAWG: the trie shrinks a lot for sets
	// such as normalization rules, where many keys end alike.
	baseOf := make(map[int32]uint32)
	type item struct {
		node int32
		pos  uint32
	}
	queue := []item{{g.root, 0}}
	var labels []byte
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		nd := &g.nodes[it.node]
		if base, ok := baseOf[nd.canon]; ok && encodable(it.pos^base) {
			b.units[it.pos] |= encodeOffset(it.pos^base, nd.value >= 0)
			continue
		}
		labels = labels[:0]
		if nd.value >= 0 {
			labels = append(labels, 0)
		}
		edges := g.edges[nd.first : nd.first+nd.n]
		for _, e := range edges {
			labels = append(labels, e.label)
		}
		base, err := b.findBase(labels, it.pos)
		if err != nil {
			return nil, err
		}
		b.isBase[base] = true
		baseOf[nd.canon] = base
		b.units[it.pos] |= encodeOffset(it.pos^base, nd.value >= 0)
		if nd.value >= 0 {
			b.take(base)
			b.units[base] = uint32(nd.value) | 1<<31
		}
		for _, e := range edges {
			p := base ^ uint32(e.label)
			b.take(p)
			b.units[p] = uint32(e.label)
			queue = append(queue, item{e.child, p})
		}
	}
	return &Trie{units: b.finish()}, nil
}

func encodable(off uint32) bool {
	return off < 1<<21 || (off&0xff == 0 && off < 1<<29)
}

func encodeOffset(off uint32, hasLeaf bool) uint32 {
	enc := off << 10
	if off >= 1<<21 {
		enc = off<<2 | 1<<9
	}
	if hasLeaf {
		enc |= 1 << 8
	}
	return enc
}

// graph is the trie of the keys with every node labelled by the class of identical
// subtrees it belongs to.
type graph struct {
	nodes []gnode
	edges []gedge
	root  int32
	canon map[string]int32
	sig   []byte
}

type gnode struct {
	first, n int32 // edges[first:first+n] are the children, by label
	value    int32 // -1: no value
	canon    int32
}

type gedge struct {
	label byte
	child int32
}

func newGraph(keys []string, values []int32) *graph {
	g := &graph{canon: map[string]int32{}}
	g.root = g.build(keys, values, 0, len(keys), 0)
	return g
}

func (g *graph) build(keys []string, values []int32, lo, hi, d int) int32 {
	value := int32(-1)
	if len(keys[lo]) == d {
		value = values[lo]
		lo++
	}
	var edges []gedge
	for i := lo; i < hi; {
		c := keys[i][d]
		j := i + 1
		for j < hi && keys[j][d] == c {
			j++
		}
		edges = append(edges, gedge{c, g.build(keys, values, i, j, d+1)})
		i = j
	}
	sig := g.sig[:0]
	sig = binary.LittleEndian.AppendUint32(sig, uint32(value))
	for _, e := range edges {
		sig = append(sig, e.label)
		sig = binary.LittleEndian.AppendUint32(sig, uint32(g.nodes[e.child].canon))
	}
	g.sig = sig
	canon, ok := g.canon[string(sig)]
	if !ok {
		canon = int32(len(g.canon))
		g.canon[string(sig)] = canon
	}
	id := int32(len(g.nodes))
	g.nodes = append(g.nodes, gnode{first: int32(len(g.edges)), n: int32(len(edges)), value: value, canon: canon})
	g.edges = append(g.edges, edges...)
	return id
}

type builder struct {
	units  []uint32
	used   []bool
	isBase []bool
	// A doubly linked list of the free positions, in increasing order; -1 ends it.
	next, prev []int32
	head, tail int32
}

func (b *builder) grow(n int) {
	old := len(b.units)
	if n <= old {
		return
	}
	n = (n + blockSize - 1) / blockSize * blockSize
	for i := old; i < n; i++ {
		b.units = append(b.units, 0)
		b.used = append(b.used, false)
		b.isBase = append(b.isBase, false)
		b.next = append(b.next, -1)
		b.prev = append(b.prev, b.tail)
		if b.tail >= 0 {
			b.next[b.tail] = int32(i)
		} else {
			b.head = int32(i)
		}
		b.tail = int32(i)
	}
}

// take marks position p used and unlinks it from the free list.
func (b *builder) take(p uint32) {
	if b.used[p] {
		panic("darts: position taken twice")
	}
	b.used[p] = true
	b.unlink(p)
}

// unlink removes position p from the free list.
func (b *builder) unlink(p uint32) {
	n, pr := b.next[p], b.prev[p]
	if pr >= 0 {
		b.next[pr] = n
	} else {
		b.head = n
	}
	if n >= 0 {
		b.prev[n] = pr
	} else {
		b.tail = pr
	}
	b.next[p], b.prev[p] = -1, -1
}

// findBase returns a base, not used by another node, such that base ^ c is free for
// every label c and pos ^ base is an encodable offset.
func (b *builder) findBase(labels []byte, pos uint32) (uint32, error) {
	// Give up holes too far behind the end so the search stays short.
	for b.head >= 0 && len(b.units)-int(b.head) > maxOpenDistance {
		b.unlink(uint32(b.head))
	}
	q := b.head
	for {
		if q < 0 {
			n := len(b.units)
			if n+blockSize > 1<<29 {
				return 0, errors.New("darts: trie too large")
			}
			b.grow(n + blockSize)
			q = int32(n)
		}
		base := uint32(q) ^ uint32(labels[0])
		if b.fits(base, labels, pos) {
			return base, nil
		}
		q = b.next[q]
	}
}

func (b *builder) fits(base uint32, labels []byte, pos uint32) bool {
	if int(base|0xff) >= len(b.units) || b.isBase[base] {
		return false
	}
	if !encodable(pos ^ base) {
		return false
	}
	for _, c := range labels {
		if b.used[base^uint32(c)] {
			return false
		}
	}
	return true
}

func (b *builder) finish() []uint32 {
	for i := range b.units {
		if !b.used[i] {
			b.units[i] = freeUnit
		}
	}
	return b.units
}
