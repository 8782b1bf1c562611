package recipe

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/hypergrid-go/hypergrid/recipes"
	"github.com/hypergrid-go/hypergrid/registry"
	"go.yaml.in/yaml/v3"
)

// Loader reads recipes: YAML files decoded strictly into typed configuration structs.
//
// A recipe file may start with `include: base.yaml` (or a list of files): the included
// files are read first and the including file's keys override theirs, mapping by
// mapping (a mapping whose `type:` differs from the included one replaces it whole).
// An include is a path relative to the including file that stays inside the folder of
// the recipe being loaded (no absolute paths, no ../ out of it), or a shipped recipe by
// name ("include: t5-mini"). Overrides from the command line come last, in order.
type Loader struct {
	// ReadFile reads a recipe or an included file; the package's ReadFile (disk,
	// bounded, or the shipped recipes) when nil. Tests and programs with recipes of
	// their own (a checkpoint's stored recipe, say) substitute their own.
	ReadFile func(name string) ([]byte, error)
	// Sets are command-line overrides, "KEY=VALUE" with a dotted KEY and a YAML VALUE
	// ("model.ffn.grid.rows=16", "model.ffn.weights=[wo, wi]"), applied in order. A
	// part of KEY may index a list: "data.tasks[1].dir=corpus" changes that entry only.
	Sets []string
	// WorkDir is the folder that relative recipe file names are relative to (the
	// working folder the recipe was first loaded from): a task defined in the recipe
	// has its dir resolved against it. Empty: the current working folder.
	WorkDir string
	// Init reads the recipe stored in the checkpoint that model.init.from names;
	// ReadInitSnapshot (the checkpoint on disk, verified) when nil. A snapshot's
	// loader substitutes the copy stored with it.
	Init func(from string) (*Snapshot, error)
}

// Info describes what a load read and chose.
type Info struct {
	// Files lists the recipe files read: the recipe itself, then its includes in the
	// order they were read.
	Files []string
	// Components maps the yaml path of every pluggable value ("model.ffn") to the ID of
	// the component the recipe chose for it ("ffn.hypergrid").
	Components map[string]string

	st      *state
	root    *yaml.Node
	sets    []string
	workDir string // absolute; "" when unknown
	// initFrom and initSnap are model.init.from and the recipe stored there.
	initFrom string
	initSnap *Snapshot
}

// Position returns where the value at the yaml path ("model.ffn.grid.rows") was set:
// its file:line:col or --set flag. For a value the recipe leaves at its default it
// returns the position of the nearest enclosing mapping that is in the recipe, and
// set reports false.
func (i *Info) Position(path string) (pos Pos, set bool) {
	if i == nil || i.root == nil {
		return Pos{}, false
	}
	n, rest := findNode(i.root, path)
	return i.st.pos(n), rest == ""
}

// Errorf returns an *Error about the value at path, positioned as Position says and
// noting when the value is a default the recipe does not set. It is how code that
// checks a decoded recipe further (building the model, say) reports what it finds.
func (i *Info) Errorf(path, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if i == nil || i.root == nil {
		return &Error{Path: path, Msg: msg}
	}
	pos, set := i.Position(path)
	if !set && path != "" {
		msg += " (" + path + " is not set in the recipe, so its default applies)"
	}
	return &Error{Pos: pos, Path: path, Msg: msg}
}

// DecodeFile reads the recipe file path (with its includes and the Loader's overrides)
// into v, a non-nil pointer to a struct holding the defaults. See Decode.
func (l Loader) DecodeFile(path string, v any) (*Info, error) {
	if l.ReadFile == nil {
		path = ResolveMain(path)
	}
	st := newState(l.ReadFile)
	data, err := st.readFile(path)
	if err != nil {
		msg := fmt.Sprintf("cannot read recipe: %v", unwrapPathError(err))
		if errors.Is(err, fs.ErrNotExist) && l.ReadFile == nil {
			msg += "; give a recipe file or a shipped recipe: " + strings.Join(recipes.Names(), ", ")
			if c := registry.Closest(strings.TrimSuffix(filepath.Base(path), ".yaml"), recipes.Names()); c != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", c)
			}
		}
		return nil, ErrorList{{Pos: Pos{File: path}, Msg: msg}}
	}
	return l.decode(st, path, data, v)
}

// Decode decodes the recipe data, read from the file name (which locates its includes
// and names it in errors), into v, a non-nil pointer to a struct holding the defaults.
//
// Decoding is strict: every key must be a field of the struct (its yaml tag), every
// value must have the field's type, and a pluggable field (of interface type) takes a
// mapping whose `type:` names a registered component. Structs that implement Validator
// are validated after decoding. Every problem is reported, each with the file:line:col
// (or the --set flag) it comes from: the error is an ErrorList. v holds what could be
// decoded even when there are errors.
func (l Loader) Decode(name string, data []byte, v any) (*Info, error) {
	return l.decode(newState(l.ReadFile), name, data, v)
}

func (l Loader) decode(st *state, name string, data []byte, v any) (*Info, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("recipe: Decode needs a non-nil pointer to a struct, not %T", v))
	}
	st.root = filepath.Dir(filepath.Clean(name))
	root := st.loadFile(name, data, []string{filepath.Clean(name)})
	info := &Info{Files: st.files, Components: map[string]string{}, st: st, sets: l.Sets, workDir: l.workDir()}
	if root == nil {
		return info, st.errs.sorted()
	}
	for _, s := range l.Sets {
		root = st.applySet(root, s)
	}
	if root, info.initSnap = l.applyInit(st, root); info.initSnap != nil {
		n, _ := findNode(root, "model.init.from")
		info.initFrom = n.Value
	}
	info.root = root
	d := newDecoder(st)
	d.decodeStruct(root, "", rv.Elem(), "")
	info.Components = d.components
	if len(st.errs) > 0 {
		return info, st.errs.sorted()
	}
	return info, nil
}
