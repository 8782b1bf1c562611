package recipe

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/layers"
	"github.com/hypergrid-go/hypergrid/registry"
	"go.yaml.in/yaml/v3"
)

// StateKey is the checkpoint state section that holds a run's recipe Snapshot (what
// job.StateRecipe names).
const StateKey = "recipe"

// InitConfig is the model.init: section: where the model's weights start.
type InitConfig struct {
	// From is a checkpoint folder or a run folder (resolved as every command resolves
	// a run: checkpoint.Resolve), relative to the working directory. The model's
	// architecture (model:) and tokenizer.extra_ids come from the recipe stored in that
	// checkpoint, with this recipe's model: keys on top; the run starts from every
	// tensor of the checkpoint that the new model has (see job.Prepare).
	From string `yaml:"from"`
}

// ReadInitSnapshot reads the recipe stored in the checkpoint that from names (a
// checkpoint or run folder), verifying the checkpoint: the default of Loader.Init.
func ReadInitSnapshot(from string) (*Snapshot, error) {
	c, dir, err := checkpoint.LoadResolved(from)
	if err != nil {
		return nil, err
	}
	s, err := ParseSnapshot(c.State[StateKey])
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	return s, nil
}

// applyInit merges the model: section (and tokenizer.extra_ids) of the recipe stored in
// the checkpoint named by root's model.init.from under root, the way an include
// would, and returns the merged root and the snapshot read (nil when root sets no
// model.init.from). A pluggable value whose type the recipe changes (ffn.glu to
// ffn.hypergrid, say) keeps the checkpoint's settings that the new type also has
// (d_ff, activation, gated), unless the recipe sets them.
func (l Loader) applyInit(st *state, root *yaml.Node) (*yaml.Node, *Snapshot) {
	n, rest := findNode(root, "model.init.from")
	if rest != "" || n == nil || isNull(n) {
		return root, nil
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" || n.Value == "" {
		return root, nil // the decoder reports the wrong type
	}
	from := n.Value
	read := l.Init
	if read == nil {
		read = ReadInitSnapshot
	}
	snap, err := read(from)
	if err != nil {
		st.errorf(n, "model.init.from", "cannot start from %s: %v; name a checkpoint folder or a run folder (hypergrid inspect %s tells what is there)", from, err, from)
		return root, nil
	}
	base, err := snap.Load()
	if err != nil {
		st.errorf(n, "model.init.from", "the recipe stored in %s: %v", from, err)
		return root, nil
	}
	bi := base.Source
	for node, o := range bi.st.origins {
		if o.file != "" {
			o.file = from + "#" + o.file
		}
		st.origins[node] = o
	}
	baseRoot := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if m := mapValue(bi.root, "model"); m != nil {
		baseRoot.Content = append(baseRoot.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "model"}, m)
		if over := mapValue(root, "model"); over != nil {
			for _, key := range []string{"ffn", "attention"} {
				carryComponent(mapValue(m, key), mapValue(over, key), key)
			}
		}
	}
	if x := mapValue(mapValue(bi.root, "tokenizer"), "extra_ids"); x != nil {
		tok := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: "extra_ids"}, x}}
		st.origins[tok] = st.origins[x]
		baseRoot.Content = append(baseRoot.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "tokenizer"}, tok)
	}
	return st.merge(baseRoot, root), snap
}

// carryComponent adds to over (a pluggable mapping of another type than base) the keys
// of base that over's type also has and over does not set.
func carryComponent(base, over *yaml.Node, slot string) {
	if base == nil || over == nil || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return
	}
	bt, ot := typeKey(base), typeKey(over)
	if ot == "" || ot == bt {
		return
	}
	iface := reflect.TypeFor[layers.FFNBuilder]()
	if slot == "attention" {
		iface = reflect.TypeFor[layers.AttentionBuilder]()
	}
	cfg, err := registry.New(ot, iface)
	if err != nil {
		return // the decoder reports the unknown type
	}
	t := reflect.TypeOf(cfg)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	keys := structInfoOf(t).fields
	for i := 0; i+1 < len(base.Content); i += 2 {
		k := base.Content[i].Value
		if _, ok := keys[k]; !ok || strings.EqualFold(k, "type") || mapValue(over, k) != nil {
			continue
		}
		over.Content = append(over.Content, base.Content[i], base.Content[i+1])
	}
}
