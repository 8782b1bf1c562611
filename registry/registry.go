package registry

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Factory returns a new, independent configuration value for one registered component,
// filled with its defaults: a non-nil pointer to a struct whose exported fields carry
// yaml tags. The recipe loader decodes the component's settings into it, so what the
// factory returns is both the schema and the defaults of the component. The value
// implements the interface of the slot the component plugs into (for example
// layers.FFNBuilder for a model's feed-forward layer).
type Factory func() any

var (
	mu        sync.RWMutex
	factories = map[string]Factory{}
	types     = map[string]reflect.Type{} // the pointer type each factory returns
	nouns     = map[reflect.Type]string{}
	aliases   = map[string]string{} // an old or alternative ID -> the registered one
)

// idPattern is the syntax of a component ID: two or more lower-case dot-separated labels.
// The labels before the last one are the ID's namespace ("ffn" in "ffn.hypergrid").
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// ValidID reports whether id is a well-formed component ID: lower-case labels of
// letters, digits and underscores, each starting with a letter, joined by dots, at least
// two of them ("ffn.glu", "ffn.hypergrid", "ffn.myorg.mixture").
func ValidID(id string) bool { return idPattern.MatchString(id) }

// Namespace returns the namespace of a component ID: everything before its last dot
// ("ffn" for "ffn.glu"). It returns "" for an ID without a dot.
func Namespace(id string) string {
	if i := strings.LastIndexByte(id, '.'); i >= 0 {
		return id[:i]
	}
	return ""
}

// Register makes a component available to recipes under id. It is meant to be called
// from an init function: the framework registers its own components ("ffn.glu",
// "attn.t5", "ffn.hypergrid") and a plugin package registers its own, so that a program
// that imports the plugin (even with a blank import) can name it in a recipe.
//
// Register panics when id is malformed (see ValidID), already registered, or when the
// factory is nil or does not return a non-nil pointer to a struct: these are mistakes
// of the program, not of a recipe.
func Register(id string, factory Factory) {
	if !ValidID(id) {
		panic(fmt.Sprintf("registry: Register(%q): malformed ID; want lower-case dot-separated labels such as \"ffn.glu\"", id))
	}
	if factory == nil {
		panic(fmt.Sprintf("registry: Register(%q): nil factory", id))
	}
	v := factory()
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct || reflect.ValueOf(v).IsNil() {
		panic(fmt.Sprintf("registry: Register(%q): the factory returns %T; it must return a non-nil pointer to a config struct", id, v))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[id]; dup {
		panic(fmt.Sprintf("registry: Register called twice for %q (is the plugin linked twice, or two plugins claiming one ID?)", id))
	}
	if _, dup := aliases[id]; dup {
		panic(fmt.Sprintf("registry: Register(%q): the ID is an alias of %q", id, aliases[id]))
	}
	factories[id] = factory
	types[id] = t
}

// Alias makes alias another name of the component registered under id, for IDs that
// were renamed: recipes (and checkpoints that store them) written with the old name
// keep working. Aliases are not listed by IDs. Alias panics when alias is malformed or
// taken, or id is not registered.
func Alias(alias, id string) {
	if !ValidID(alias) {
		panic(fmt.Sprintf("registry: Alias(%q): malformed ID", alias))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, ok := factories[id]; !ok {
		panic(fmt.Sprintf("registry: Alias(%q, %q): %q is not registered", alias, id, id))
	}
	if _, dup := factories[alias]; dup {
		panic(fmt.Sprintf("registry: Alias(%q, %q): %q is a registered ID", alias, id, alias))
	}
	if _, dup := aliases[alias]; dup {
		panic(fmt.Sprintf("registry: Alias called twice for %q", alias))
	}
	aliases[alias] = id
}

// Canonical returns the registered ID that id names: id itself, or the ID an alias
// stands for.
func Canonical(id string) string {
	mu.RLock()
	defer mu.RUnlock()
	if c, ok := aliases[id]; ok {
		return c
	}
	return id
}

// Lookup returns the factory registered under id (or under the ID that the alias id
// stands for).
func Lookup(id string) (Factory, bool) {
	mu.RLock()
	defer mu.RUnlock()
	if c, ok := aliases[id]; ok {
		id = c
	}
	f, ok := factories[id]
	return f, ok
}

// IDs returns every registered component ID, sorted.
func IDs() []string {
	mu.RLock()
	defer mu.RUnlock()
	ids := make([]string, 0, len(factories))
	for id := range factories {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// IDsIn returns the registered IDs in namespace ns (see Namespace), sorted.
func IDsIn(ns string) []string {
	var ids []string
	for _, id := range IDs() {
		if Namespace(id) == ns {
			ids = append(ids, id)
		}
	}
	return ids
}

// Implementing returns the registered IDs whose configuration implements the interface
// type iface, sorted: the components that can fill a slot of that type.
func Implementing(iface reflect.Type) []string {
	if iface.Kind() != reflect.Interface {
		panic(fmt.Sprintf("registry: Implementing(%v): not an interface type", iface))
	}
	mu.RLock()
	defer mu.RUnlock()
	var ids []string
	for id, t := range types {
		if t.Implements(iface) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// SetNoun names the kind of component that fills slots of interface type iface in
// error messages ("unknown layer type ..."). Without it the noun is "component".
func SetNoun(iface reflect.Type, noun string) {
	mu.Lock()
	defer mu.Unlock()
	nouns[iface] = noun
}

// Noun returns the name SetNoun gave the kind of component that fills slots of
// interface type iface, or "component".
func Noun(iface reflect.Type) string {
	mu.RLock()
	defer mu.RUnlock()
	if n, ok := nouns[iface]; ok {
		return n
	}
	return "component"
}

// UnknownIDError is the error for an ID that no registered component of the wanted kind
// has. Its message lists the known IDs of that kind and names the closest one.
type UnknownIDError struct {
	// ID is the ID asked for.
	ID string
	// Noun names the kind of component wanted ("layer").
	Noun string
	// Known lists the registered IDs of that kind, sorted.
	Known []string
	// Closest is the known ID nearest to ID, or "" when none is near.
	Closest string
	// Other is set when ID is registered but for another kind of slot: it describes
	// what the ID is (its Go type).
	Other string
}

func (e *UnknownIDError) Error() string {
	var b strings.Builder
	if e.Other != "" {
		fmt.Fprintf(&b, "%s type %q cannot be used here: it is a %s", e.Noun, e.ID, e.Other)
	} else {
		fmt.Fprintf(&b, "unknown %s type %q (forgotten import?)", e.Noun, e.ID)
	}
	if len(e.Known) == 0 {
		fmt.Fprintf(&b, "; no %s types are registered", e.Noun)
	} else {
		fmt.Fprintf(&b, "; known: %s", strings.Join(e.Known, ", "))
	}
	if e.Closest != "" {
		fmt.Fprintf(&b, "; did you mean %q?", e.Closest)
	}
	return b.String()
}

// New returns a fresh configuration for the component registered under id, which must
// fill a slot of interface type iface. When id is unknown, or registered for another
// kind of slot, the error is an *UnknownIDError.
func New(id string, iface reflect.Type) (any, error) {
	f, ok := Lookup(id)
	if ok {
		v := f()
		if reflect.TypeOf(v).Implements(iface) {
			return v, nil
		}
	}
	known := Implementing(iface)
	e := &UnknownIDError{ID: id, Noun: Noun(iface), Known: known, Closest: Closest(id, known)}
	if ok {
		e.Other = fmt.Sprintf("%s, not a %v", typeName(types[Canonical(id)]), iface)
		e.Closest = ""
	}
	return nil, e
}

// NewAs is New for the interface type T: registry.NewAs[layers.FFNBuilder]("ffn.glu").
func NewAs[T any](id string) (T, error) {
	v, err := New(id, reflect.TypeFor[T]())
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

func typeName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		return "*" + t.Elem().String()
	}
	return t.String()
}

// Closest returns the candidate nearest to s in edit distance (ignoring case and the
// separators _ - and space), or "" when none is near enough to be a plausible
// misspelling: the "did you mean" of every unknown name.
func Closest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(normalize(s), normalize(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}

// normalize folds case and drops the separators people most often get wrong, so that
// "dModel" and "d-model" are close to "d_model".
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', ' ':
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// editDistance is the Levenshtein distance between a and b, byte by byte.
func editDistance(a, b string) int {
	if len(a) > 256 || len(b) > 256 {
		return max(len(a), len(b)) // not a plausible misspelling of a short name
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
