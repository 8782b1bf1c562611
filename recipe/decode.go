package recipe

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hypergrid-go/hypergrid/registry"

	"go.yaml.in/yaml/v3"
)

// Validator is implemented by configuration structs that check their own values after
// decoding. Validate returns every problem it finds, not just the first. An error that
// concerns one field should be a *registry.FieldError so that the loader can point at
// the field's position in the recipe.
type Validator interface {
	Validate() []error
}

// ScalarDecoder is implemented by a struct type that a recipe may also give as a
// scalar: a data.tasks entry is a registered task's name or a mapping that defines a
// task. The decoder calls DecodeRecipeScalar with a string scalar's text; a mapping is
// decoded into the struct's fields as usual.
type ScalarDecoder interface {
	DecodeRecipeScalar(value string) error
}

// RecipeTag is the struct tag key for loader options on a field. `recipe:"required"`
// makes the key mandatory: a recipe without it gets an error.
const RecipeTag = "recipe"

// decoder decodes yaml nodes into Go values strictly: every key must name a field, every
// scalar must have the field's type, and every problem is recorded with its position
// rather than stopping the decoding.
type decoder struct {
	st *state
	// failed holds the paths whose values could not be decoded, so that validation
	// errors about them (seeing the default instead) are not reported on top.
	failed map[string]bool
	// components maps the path of each pluggable value to the registered ID chosen.
	components map[string]string
}

func newDecoder(st *state) *decoder {
	return &decoder{st: st, failed: map[string]bool{}, components: map[string]string{}}
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.failed[path] = true
	d.st.errorf(n, path, format, args...)
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func joinPath(path, key string) string { return registry.JoinPath(path, key) }

// decode stores the value of n into v, which must be settable.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	t := v.Type()
	if t == durationType {
		d.decodeDuration(n, path, v)
		return
	}
	if n.Kind == yaml.ScalarNode && !isNull(n) && v.CanAddr() {
		if sd, ok := v.Addr().Interface().(ScalarDecoder); ok {
			if !d.scalar(n, path, "a name or a mapping", true, "!!str") {
				return
			}
			if err := sd.DecodeRecipeScalar(n.Value); err != nil {
				d.fail(n, path, "%v", err)
			}
			return
		}
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(textUnmarshalerType) {
		d.decodeText(n, path, v)
		return
	}
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() == 0 {
			panic(fmt.Sprintf("recipe: cannot decode %s into the empty interface %v; use a concrete type or a slot interface", path, t))
		}
		d.decodePluggable(n, path, v)
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.decode(n, path, v.Elem())
	case reflect.Struct:
		d.decodeStruct(n, path, v, "")
	case reflect.Slice:
		d.decodeSlice(n, path, v)
	case reflect.Array:
		d.decodeArray(n, path, v)
	case reflect.Map:
		d.decodeMap(n, path, v)
	case reflect.Bool:
		if !d.scalar(n, path, "true or false", false, "!!bool") {
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.fail(n, path, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !d.scalar(n, path, "an integer", false, "!!int") {
			return
		}
		var i int64
		if err := n.Decode(&i); err != nil || v.OverflowInt(i) {
			lim := int64(1)<<(t.Bits()-1) - 1
			d.fail(n, path, "%s is out of range (%d to %d)", describe(n), -lim-1, lim)
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if !d.scalar(n, path, "a non-negative integer", false, "!!int") {
			return
		}
		var u uint64
		if err := n.Decode(&u); err != nil || v.OverflowUint(u) {
			if strings.HasPrefix(strings.TrimSpace(n.Value), "-") {
				d.fail(n, path, "expected a non-negative integer, got %s", describe(n))
			} else {
				d.fail(n, path, "%s is out of range (0 to %d)", describe(n), uint64(1)<<(t.Bits()-1)*2-1)
			}
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		if !d.scalar(n, path, "a number", false, "!!float", "!!int") {
			return
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			d.fail(n, path, "expected a number, got %s", describe(n))
			return
		}
		if v.OverflowFloat(f) && !math.IsInf(f, 0) {
			d.fail(n, path, "%s is out of the range of a %d-bit float", describe(n), t.Bits())
			return
		}
		v.SetFloat(f)
	case reflect.String:
		if !d.scalar(n, path, "a string", true, "!!str") {
			return
		}
		v.SetString(n.Value)
	default:
		panic(fmt.Sprintf("recipe: cannot decode %s into a value of type %v", path, t))
	}
}

// scalar checks that n is a scalar with one of the tags; otherwise it records an error
// saying that want was expected (and, with quoteHint, that quoting makes a string).
func (d *decoder) scalar(n *yaml.Node, path, want string, quoteHint bool, tags ...string) bool {
	if n.Kind == yaml.ScalarNode {
		tag := n.ShortTag()
		for _, t := range tags {
			if tag == t {
				return true
			}
		}
		if quoteHint && tag != "!!null" {
			d.fail(n, path, "expected a string, got %s; quote it (\"%s\") to make it a string", describe(n), n.Value)
			return false
		}
	}
	if isNull(n) {
		d.fail(n, path, "expected %s, got no value; give one or remove the key", want)
		return false
	}
	d.fail(n, path, "expected %s, got %s", want, describe(n))
	return false
}

func (d *decoder) decodeDuration(n *yaml.Node, path string, v reflect.Value) {
	if !d.scalar(n, path, `a duration such as "90s" or "1h30m"`, false, "!!str") {
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(n, path, `expected a duration such as "90s" or "1h30m", got %s`, describe(n))
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) decodeText(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.fail(n, path, "expected a scalar value, got %s", describe(n))
		return
	}
	tmp := reflect.New(v.Type())
	tmp.Elem().Set(v)
	if err := tmp.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
		d.fail(n, path, "%v", err)
		return
	}
	v.Set(tmp.Elem())
}

func (d *decoder) decodeSlice(n *yaml.Node, path string, v reflect.Value) {
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected a list, got %s; write [a, b] or one \"- item\" per line", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		d.decode(c, fmt.Sprintf("%s[%d]", path, i), s.Index(i))
	}
	v.Set(s)
}

func (d *decoder) decodeArray(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode || len(n.Content) != v.Len() {
		got := describe(n)
		if n.Kind == yaml.SequenceNode {
			got = fmt.Sprintf("a list of %d", len(n.Content))
		}
		d.fail(n, path, "expected a list of %d values, got %s", v.Len(), got)
		return
	}
	for i, c := range n.Content {
		d.decode(c, fmt.Sprintf("%s[%d]", path, i), v.Index(i))
	}
}

func (d *decoder) decodeMap(n *yaml.Node, path string, v reflect.Value) {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		panic(fmt.Sprintf("recipe: cannot decode %s into %v: map keys must be strings", path, t))
	}
	if isNull(n) {
		v.SetZero()
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		e := reflect.New(t.Elem()).Elem()
		d.decode(n.Content[i+1], joinPath(path, k), e)
		m.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
	}
	v.Set(m)
}

// decodeStruct decodes mapping n into struct v, reporting unknown keys (except skip,
// the key a pluggable value's type is chosen by) and missing required ones, then runs
// the struct's Validate method.
func (d *decoder) decodeStruct(n *yaml.Node, path string, v reflect.Value, skip string) {
	info := structInfoOf(v.Type())
	if n.Kind != yaml.MappingNode {
		if isNull(n) {
			d.fail(n, path, "expected a mapping of %s, got no value; give the settings or remove the key", keyList(info.keys, skip))
		} else {
			d.fail(n, path, "expected a mapping of %s, got %s", keyList(info.keys, skip), describe(n))
		}
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name := k.Value
		if name == skip {
			continue
		}
		f, ok := info.fields[name]
		if !ok {
			d.unknownKey(k, path, name, info.keys, skip)
			continue
		}
		seen[name] = true
		d.decode(val, joinPath(path, name), v.FieldByIndex(f.index))
	}
	for _, k := range info.keys {
		if info.fields[k].required && !seen[k] {
			d.fail(n, joinPath(path, k), "missing; this key is required")
		}
	}
	if v.CanAddr() {
		if vd, ok := v.Addr().Interface().(Validator); ok {
			d.validate(vd, n, path)
		}
	}
}

func (d *decoder) unknownKey(k *yaml.Node, path, name string, keys []string, skip string) {
	where := "at the top level"
	if path != "" {
		where = "in " + path
	}
	all := keys
	if skip != "" {
		all = append([]string{skip}, keys...)
	}
	msg := fmt.Sprintf("unknown key %q %s", name, where)
	if c := registry.Closest(name, all); c != "" {
		msg += fmt.Sprintf("; did you mean %q?", c)
	} else {
		msg += "; known keys: " + keyList(keys, skip)
	}
	d.failed[joinPath(path, name)] = true
	d.st.errorf(k, joinPath(path, name), "%s", msg)
}

func keyList(keys []string, skip string) string {
	if skip != "" {
		keys = append([]string{skip}, keys...)
	}
	if len(keys) == 0 {
		return "no keys"
	}
	return strings.Join(keys, ", ")
}

// decodePluggable decodes a value for a slot of interface type: a mapping whose "type"
// key names a registered component; the other keys are that component's settings.
func (d *decoder) decodePluggable(n *yaml.Node, path string, v reflect.Value) {
	if isNull(n) {
		v.SetZero()
		return
	}
	known := registry.Implementing(v.Type())
	noun := registry.Noun(v.Type())
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping with a type: key (one of %s), got %s", orNone(known), describe(n))
		return
	}
	tn := mapValue(n, "type")
	if tn == nil {
		d.fail(n, path, "missing type: key; name the %s type, one of %s", noun, orNone(known))
		return
	}
	if tn.Kind != yaml.ScalarNode || tn.ShortTag() != "!!str" {
		d.fail(tn, joinPath(path, "type"), "expected a %s type name (one of %s), got %s", noun, orNone(known), describe(tn))
		return
	}
	cfg, err := registry.New(tn.Value, v.Type())
	if err != nil {
		d.failed[path] = true
		d.fail(tn, joinPath(path, "type"), "%v", err)
		return
	}
	pv := reflect.ValueOf(cfg)
	d.decodeStruct(n, path, pv.Elem(), "type")
	v.Set(pv)
	d.components[path] = registry.Canonical(tn.Value)
}

func orNone(ids []string) string {
	if len(ids) == 0 {
		return "(none registered)"
	}
	return strings.Join(ids, ", ")
}

// validate runs vd.Validate and records its errors at the position of the field each
// concerns (the struct's own position when the field is not in the recipe).
func (d *decoder) validate(vd Validator, n *yaml.Node, path string) {
	for _, err := range vd.Validate() {
		if err == nil {
			continue
		}
		var fe *registry.FieldError
		rel := ""
		if errors.As(err, &fe) {
			rel = fe.Path
		}
		full := joinPath(path, rel)
		if d.failedAt(full) {
			continue
		}
		msg := err.Error()
		if fe != nil {
			msg = fe.Msg
		}
		target, rest := findNode(n, rel)
		if rest != "" {
			msg += " (" + full + " is not set in the recipe, so its default applies)"
		}
		d.st.errorf(target, full, "%s", msg)
	}
}

// failedAt reports whether path or a path it lies under failed to decode.
func (d *decoder) failedAt(path string) bool {
	for p := path; ; {
		if d.failed[p] {
			return true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// findNode follows the relative yaml path rel ("grid.rows", "weights[1]" or
// "weights.1") from n as far as the nodes go. It returns the last node reached and the
// part of rel it could not follow ("" when it reached the end).
func findNode(n *yaml.Node, rel string) (*yaml.Node, string) {
	segs := splitPath(rel)
	for i, s := range segs {
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			next = mapValue(n, s)
		case yaml.SequenceNode:
			if j, err := strconv.Atoi(s); err == nil && j >= 0 && j < len(n.Content) {
				next = n.Content[j]
			}
		}
		if next == nil {
			return n, strings.Join(segs[i:], ".")
		}
		n = next
	}
	return n, ""
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	p = strings.ReplaceAll(strings.ReplaceAll(p, "[", "."), "]", "")
	return strings.Split(p, ".")
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe says what a node is, for messages: `string "abc"`, `integer 16`, `a list`.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	switch n.ShortTag() {
	case "!!null":
		return "no value (null)"
	case "!!str":
		return "string " + strconv.Quote(v)
	case "!!int":
		return "integer " + v
	case "!!float":
		return "number " + v
	case "!!bool":
		return "boolean " + v
	case "!!timestamp":
		return "timestamp " + v
	default:
		return fmt.Sprintf("%s value %s", n.ShortTag(), strconv.Quote(v))
	}
}

// structInfo is the set of keys of a struct type: its exported fields by yaml name,
// with embedded structs tagged ",inline" flattened.
type structInfo struct {
	fields map[string]fieldInfo
	keys   []string // sorted
}

type fieldInfo struct {
	index    []int
	required bool
}

var structInfos sync.Map // reflect.Type -> *structInfo

func structInfoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{fields: map[string]fieldInfo{}}
	addFields(si, t, nil)
	for k := range si.fields {
		si.keys = append(si.keys, k)
	}
	sort.Strings(si.keys)
	structInfos.Store(t, si)
	return si
}

func addFields(si *structInfo, t reflect.Type, prefix []int) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		index := append(append([]int(nil), prefix...), i)
		if strings.Contains(","+opts+",", ",inline,") {
			if f.Type.Kind() != reflect.Struct {
				panic(fmt.Sprintf("recipe: %v.%s: only struct fields can be inline", t, f.Name))
			}
			addFields(si, f.Type, index)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if _, dup := si.fields[name]; dup {
			panic(fmt.Sprintf("recipe: %v: two fields have the yaml key %q", t, name))
		}
		si.fields[name] = fieldInfo{index: index, required: f.Tag.Get(RecipeTag) == "required"}
	}
}
