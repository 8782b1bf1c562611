package recipe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxIncludeDepth bounds how deeply includes nest.
const maxIncludeDepth = 16

// origin is where a node comes from: a file, or a --set flag.
type origin struct {
	file string
	set  string
}

// state is one load: the nodes read so far with their origins, and the errors found.
type state struct {
	readFile func(string) ([]byte, error)
	// root is the folder of the recipe being loaded: includes stay inside it.
	root    string
	origins map[*yaml.Node]origin
	errs    ErrorList
	files   []string
	texts   map[string]string // each file's text as read
}

func newState(readFile func(string) ([]byte, error)) *state {
	if readFile == nil {
		readFile = ReadFile
	}
	return &state{readFile: readFile, origins: map[*yaml.Node]origin{}, texts: map[string]string{}}
}

// pos returns where n comes from.
func (st *state) pos(n *yaml.Node) Pos {
	o := st.origins[n]
	if o.set != "" {
		return Pos{Set: o.set}
	}
	return Pos{File: o.file, Line: n.Line, Col: n.Column}
}

func (st *state) errorAt(p Pos, path, format string, args ...any) {
	st.errs = append(st.errs, &Error{Pos: p, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (st *state) errorf(n *yaml.Node, path, format string, args ...any) {
	st.errorAt(st.pos(n), path, format, args...)
}

// yamlLine matches the line number yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// parse reads one YAML document from data, records the origin of every node and checks
// what the decoder relies on: a single document whose top level is a mapping, string
// keys without repeats, no aliases. It returns the top-level mapping (empty for an empty
// file), or nil after recording errors.
func (st *state) parse(o origin, data []byte) *yaml.Node {
	where := Pos{File: o.file, Set: o.set}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return st.emptyMapping(o)
		}
		st.syntaxError(where, err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p := where
		if p.Set == "" {
			p.Line, p.Col = extra.Line, extra.Column
		}
		st.errorAt(p, "", "a recipe is a single YAML document; remove the second one (after ---) or move it to its own file")
		return nil
	} else if !errors.Is(err, io.EOF) {
		st.syntaxError(where, err)
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return st.emptyMapping(o)
		}
		root = root.Content[0]
	}
	if !st.check(o, root) {
		return nil
	}
	return root
}

func (st *state) emptyMapping(o origin) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}
	st.origins[n] = o
	return n
}

func (st *state) syntaxError(p Pos, err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil && p.Set == "" {
		p.Line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		// yaml.v3 numbers the lines of its parser errors (and of a misplaced tab) from
		// 0; its other errors from 1.
		if strings.HasPrefix(msg, "did not find expected") || strings.HasPrefix(msg, "found a tab character that violates indentation") {
			p.Line++
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	st.errorAt(p, "", "invalid YAML: %s", msg)
}

// check records the origin of n and of everything under it and reports aliases, keys
// that are not plain scalars, and repeated keys. It returns false when it found errors.
func (st *state) check(o origin, n *yaml.Node) bool {
	ok := true
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		st.origins[n] = o
		switch n.Kind {
		case yaml.AliasNode:
			st.errorf(n, "", "aliases (*%s) are not supported in recipes; repeat the value, or share settings with include:", n.Value)
			ok = false
			return
		case yaml.MappingNode:
			seen := make(map[string]*yaml.Node, len(n.Content)/2)
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				st.origins[k] = o
				if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
					st.errorf(k, "", "a mapping key must be a plain name, not %s", describe(k))
					ok = false
				} else if first, dup := seen[k.Value]; dup {
					st.errorf(k, "", "key %q is repeated (first at line %d); keep one", k.Value, first.Line)
					ok = false
				} else {
					seen[k.Value] = k
				}
				walk(n.Content[i+1])
			}
		default:
			for _, c := range n.Content {
				walk(c)
			}
		}
	}
	walk(n)
	return ok
}

// loadFile reads, parses and resolves the includes of the recipe file name; chain is
// the include chain that led to it (for cycle detection), at the include's position.
func (st *state) loadFile(name string, data []byte, chain []string) *yaml.Node {
	st.files = append(st.files, name)
	st.texts[name] = string(data)
	if len(data) > MaxFileBytes {
		st.errorAt(Pos{File: name}, "", "recipe file is %d bytes, more than the %d allowed", len(data), MaxFileBytes)
		return nil
	}
	root := st.parse(origin{file: name}, data)
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		st.errorf(root, "", "a recipe is a mapping of sections (model:, ...), not %s", describe(root))
		return nil
	}
	var incNode *yaml.Node
	own := &yaml.Node{Kind: yaml.MappingNode, Tag: root.Tag, Line: root.Line, Column: root.Column}
	st.origins[own] = st.origins[root]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "include" {
			incNode = root.Content[i+1]
			continue
		}
		own.Content = append(own.Content, root.Content[i], root.Content[i+1])
	}
	if incNode == nil {
		return root
	}
	var incs []*yaml.Node
	ok := true
	switch {
	case incNode.Kind == yaml.ScalarNode && incNode.ShortTag() == "!!str":
		incs = []*yaml.Node{incNode}
	case incNode.Kind == yaml.SequenceNode:
		for _, c := range incNode.Content {
			if c.Kind != yaml.ScalarNode || c.ShortTag() != "!!str" {
				st.errorf(c, "include", "expected a file name, got %s", describe(c))
				ok = false
				continue
			}
			incs = append(incs, c)
		}
	default:
		st.errorf(incNode, "include", "expected a file name or a list of file names, got %s", describe(incNode))
		return nil
	}
	var base *yaml.Node
	for _, inc := range incs {
		path, err := resolveInclude(st.root, name, inc.Value)
		if err != nil {
			st.errorf(inc, "include", "%v", err)
			ok = false
			continue
		}
		if i := indexOf(chain, path); i >= 0 {
			st.errorf(inc, "include", "include cycle: %s -> %s", strings.Join(chain[i:], " -> "), path)
			ok = false
			continue
		}
		if len(chain) >= maxIncludeDepth {
			st.errorf(inc, "include", "includes nest more than %d deep", maxIncludeDepth)
			ok = false
			continue
		}
		data, err := st.readFile(path)
		if err != nil {
			st.errorf(inc, "include", "cannot read %s: %v", inc.Value, unwrapPathError(err))
			ok = false
			continue
		}
		n := st.loadFile(path, data, append(chain[:len(chain):len(chain)], path))
		if n == nil {
			ok = false
			continue
		}
		base = st.merge(base, n)
	}
	if !ok {
		return nil
	}
	return st.merge(base, own)
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// unwrapPathError drops the path an *fs.PathError repeats.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// typeKey returns the value of mapping n's "type" key, or "".
func typeKey(n *yaml.Node) string {
	if v := mapValue(n, "type"); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// mapValue returns the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// merge overlays over onto base and returns the result, sharing nodes with both. Two
// mappings merge key by key, recursively, over's keys winning; anything else is
// replaced by over. A mapping whose "type" differs from base's replaces it whole: the
// settings of one component type mean nothing to another.
func (st *state) merge(base, over *yaml.Node) *yaml.Node {
	if base == nil {
		return over
	}
	if over == nil {
		return base
	}
	if base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over
	}
	if bt, ot := typeKey(base), typeKey(over); ot != "" && ot != bt {
		return over
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: base.Line, Column: base.Column}
	st.origins[out] = st.origins[base]
	overIdx := make(map[string]int, len(over.Content)/2)
	for i := 0; i+1 < len(over.Content); i += 2 {
		overIdx[over.Content[i].Value] = i
	}
	used := make(map[string]bool)
	for i := 0; i+1 < len(base.Content); i += 2 {
		k := base.Content[i].Value
		if j, ok := overIdx[k]; ok {
			out.Content = append(out.Content, over.Content[j], st.merge(base.Content[i+1], over.Content[j+1]))
			used[k] = true
			continue
		}
		out.Content = append(out.Content, base.Content[i], base.Content[i+1])
	}
	for i := 0; i+1 < len(over.Content); i += 2 {
		if !used[over.Content[i].Value] {
			out.Content = append(out.Content, over.Content[i], over.Content[i+1])
		}
	}
	return out
}

// applySet overlays one --set KEY=VALUE override onto root. VALUE is YAML (16, gelu,
// [wo, wi], {rows: 16, cols: 8}); an empty VALUE is null. The override goes through the
// same strict decoding as the recipe, so a misspelled key is an error naming the flag.
func (st *state) applySet(root *yaml.Node, arg string) *yaml.Node {
	label := arg
	if strings.TrimSpace(arg) == "" {
		label = strconv.Quote(arg)
	}
	o := origin{set: label}
	p := Pos{Set: label}
	key, value, ok := strings.Cut(arg, "=")
	if !ok {
		st.errorAt(p, "", "want KEY=VALUE, e.g. --set model.ffn.grid.rows=16")
		return root
	}
	segs := strings.Split(key, ".")
	indexed := false
	for _, s := range segs {
		if strings.TrimSpace(s) == "" {
			st.errorAt(p, "", "key %q has an empty part; want dot-separated names such as model.ffn.grid.rows", key)
			return root
		}
		indexed = indexed || strings.Contains(s, "[") || strings.Contains(s, "]")
	}
	var val *yaml.Node
	if strings.TrimSpace(value) == "" {
		val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
		st.origins[val] = o
	} else {
		val = st.parse(o, []byte(value))
		if val == nil {
			return root
		}
	}
	if indexed {
		out, err := st.setIndexed(root, segs, "", val, o)
		if err != "" {
			st.errorAt(p, "", "%s", err)
			return root
		}
		return out
	}
	for i := len(segs) - 1; i >= 0; i-- {
		k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: segs[i]}
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{k, val}}
		st.origins[k], st.origins[m] = o, o
		val = m
	}
	return st.merge(root, val)
}

// setIndexed is applySet for a key with list indices (data.tasks[1].dir): it walks
// node along segs (done: the path so far, for messages), entering the list element
// each [i] names, and merges val in at the end as applySet does. Nothing is changed in
// place: the nodes on the path are copied. It returns a message instead when the path
// does not lead through the recipe.
func (st *state) setIndexed(node *yaml.Node, segs []string, done string, val *yaml.Node, o origin) (*yaml.Node, string) {
	if len(segs) == 0 {
		return st.merge(node, val), ""
	}
	name, idx, msg := parseSetSegment(segs[0])
	if msg != "" {
		return nil, msg
	}
	path := name
	if done != "" {
		path = done + "." + name
	}
	if node != nil && node.Kind != yaml.MappingNode && !isNull(node) {
		return nil, fmt.Sprintf("%s is not a mapping: it has no key %q", done, name)
	}
	var child *yaml.Node
	if node != nil && node.Kind == yaml.MappingNode {
		child = mapValue(node, name)
	}
	var newChild *yaml.Node
	if len(idx) == 0 {
		newChild, msg = st.setIndexed(child, segs[1:], path, val, o)
	} else {
		newChild, msg = st.setElement(child, idx, segs[1:], path, val, o)
	}
	if msg != "" {
		return nil, msg
	}
	return st.withKey(node, name, newChild, o), ""
}

// setElement enters element idx[0] of the list seq (at path) and sets the rest there.
func (st *state) setElement(seq *yaml.Node, idx []int, rest []string, path string, val *yaml.Node, o origin) (*yaml.Node, string) {
	if seq == nil || seq.Kind != yaml.SequenceNode {
		what := "not set"
		if seq != nil {
			what = "not a list"
		}
		return nil, fmt.Sprintf("%s is %s: an index [%d] needs a list", path, what, idx[0])
	}
	i := idx[0]
	if i >= len(seq.Content) {
		return nil, fmt.Sprintf("%s has %d entries (indices 0 to %d); there is no [%d]", path, len(seq.Content), len(seq.Content)-1, i)
	}
	elemPath := fmt.Sprintf("%s[%d]", path, i)
	elem := seq.Content[i]
	var newElem *yaml.Node
	var msg string
	switch {
	case len(idx) > 1:
		newElem, msg = st.setElement(elem, idx[1:], rest, elemPath, val, o)
	case len(rest) > 0 && elem.Kind == yaml.ScalarNode:
		return nil, fmt.Sprintf("%s is %q, a bare value with no keys to set: replace the whole entry instead, e.g. --set '%s=VALUE'", elemPath, elem.Value, elemPath)
	default:
		newElem, msg = st.setIndexed(elem, rest, elemPath, val, o)
	}
	if msg != "" {
		return nil, msg
	}
	out := &yaml.Node{Kind: yaml.SequenceNode, Tag: seq.Tag, Style: seq.Style, Line: seq.Line, Column: seq.Column,
		Content: append([]*yaml.Node(nil), seq.Content...)}
	st.origins[out] = st.origins[seq]
	out.Content[i] = newElem
	return out, ""
}

// withKey returns a copy of the mapping m (a new one when m is nil or null) with key
// set to v.
func (st *state) withKey(m *yaml.Node, key string, v *yaml.Node, o origin) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	st.origins[out] = o
	if m != nil && m.Kind == yaml.MappingNode {
		out.Line, out.Column = m.Line, m.Column
		st.origins[out] = st.origins[m]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				out.Content = append(out.Content, m.Content[i], v)
				continue
			}
			out.Content = append(out.Content, m.Content[i], m.Content[i+1])
		}
		if mapValue(m, key) != nil {
			return out
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	st.origins[k] = o
	out.Content = append(out.Content, k, v)
	return out
}

// parseSetSegment splits one part of a --set key, "tasks" or "tasks[1]" (or
// "grid[0][2]"), into its name and indices.
func parseSetSegment(seg string) (name string, idx []int, msg string) {
	name, rest, bracket := strings.Cut(seg, "[")
	if name == "" || strings.Contains(name, "]") || (bracket && rest == "") {
		return "", nil, fmt.Sprintf("key part %q: want a name with optional [index] suffixes, e.g. data.tasks[1].dir", seg)
	}
	for rest != "" {
		num, after, ok := strings.Cut(rest, "]")
		i, err := strconv.Atoi(num)
		if !ok || err != nil || i < 0 || (after != "" && !strings.HasPrefix(after, "[")) {
			return "", nil, fmt.Sprintf("key part %q: an index is a number in brackets, e.g. tasks[1]", seg)
		}
		idx = append(idx, i)
		rest = strings.TrimPrefix(after, "[")
	}
	return name, idx, ""
}
