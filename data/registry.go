package data

import (
	"maps"
	"slices"
	"sync"
)

var registry = struct {
	sync.RWMutex
	tasks      map[string]TaskDef
	transforms map[string]Transform
}{tasks: map[string]TaskDef{}, transforms: map[string]Transform{}}

// Register adds a task definition to the registry, so that recipes and the CLI can
// name it. It panics if the definition is invalid or its name is already registered:
// both are programming errors in the registering package. Call it from an init
// function. The registry keeps its own copy of def.
func Register(def TaskDef) {
	if err := def.Validate(); err != nil {
		panic("data: Register: invalid task definition: " + err.Error())
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.tasks[def.Name]; dup {
		panic("data: Register: task " + def.Name + " registered twice")
	}
	registry.tasks[def.Name] = def.Clone()
}

// Lookup returns a copy of the registered task definition with the given name.
func Lookup(name string) (TaskDef, bool) {
	registry.RLock()
	defer registry.RUnlock()
	def, ok := registry.tasks[name]
	if !ok {
		return TaskDef{}, false
	}
	return def.Clone(), true
}

// TaskNames returns the names of all registered tasks, sorted.
func TaskNames() []string {
	registry.RLock()
	defer registry.RUnlock()
	return slices.Sorted(maps.Keys(registry.tasks))
}

// Transform rewrites the field values of one row before it is formatted. values maps
// each input and extra field name of the task to its text; the transform may change
// entries in place. An error makes the row malformed (it is reported with the row's
// file and line).
type Transform func(values map[string]string) error

// RegisterTransform makes a transform available to task definitions under name. It
// panics on an empty name, a nil function or a duplicate name.
func RegisterTransform(name string, fn Transform) {
	if name == "" || fn == nil {
		panic("data: RegisterTransform: empty name or nil function")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.transforms[name]; dup {
		panic("data: RegisterTransform: transform " + name + " registered twice")
	}
	registry.transforms[name] = fn
}

func lookupTransform(name string) (Transform, bool) {
	registry.RLock()
	defer registry.RUnlock()
	fn, ok := registry.transforms[name]
	return fn, ok
}

func transformNames() []string {
	registry.RLock()
	defer registry.RUnlock()
	return slices.Sorted(maps.Keys(registry.transforms))
}

// Clone returns a deep copy of the definition.
func (d TaskDef) Clone() TaskDef {
	c := d
	c.TSV.Columns = slices.Clone(d.TSV.Columns)
	c.Splits = maps.Clone(d.Splits)
	c.Inputs = slices.Clone(d.Inputs)
	c.Extra = slices.Clone(d.Extra)
	c.LabelWords = slices.Clone(d.LabelWords)
	c.LabelValues = slices.Clone(d.LabelValues)
	c.Range = slices.Clone(d.Range)
	c.Metrics = slices.Clone(d.Metrics)
	return c
}
