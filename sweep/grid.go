// Package sweep describes and summarises hyper-parameter sweeps: the grid of recipe
// values a sweep crosses (Axis, Points), the deterministic folder name of each run, the
// sweep's manifest (what was asked, so that a second invocation continues the same
// sweep), each finished run's result read from its metrics log, and the table over
// grid points with the mean ± standard deviation over seeds (Summarize, Markdown).
//
// Running the runs is the CLI's job (hypergrid sweep): each run is an ordinary
// resumable training run in its own folder under the sweep's folder.
package sweep

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Bounds on what a sweep may ask for: they keep a typo from planning a million runs.
const (
	// MaxAxes bounds the number of --grid flags.
	MaxAxes = 16
	// MaxValues bounds the values of one axis.
	MaxValues = 256
	// MaxSeeds bounds --seeds.
	MaxSeeds = 1000
	// MaxRuns bounds the runs of a sweep (grid points × seeds).
	MaxRuns = 10000
)

// Axis is one dimension of the grid: a recipe key (as --set takes it) and its values.
type Axis struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// ParseAxis reads a --grid flag: KEY=V1,V2,... (e.g. model.ffn.composition=LG,GL). The
// values are YAML as --set takes them; commas inside brackets, braces or quotes do not
// separate values (data.tasks=[sst2, mrpc],[rte] has two).
// Whether the key and values suit the recipe is the recipe loader's question (see the
// CLI); ParseAxis checks the form: a key, at least one value, no empty or repeated
// value.
func ParseAxis(s string) (Axis, error) {
	key, vals, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return Axis{}, fmt.Errorf("--grid %q: want KEY=V1,V2,..., e.g. model.ffn.composition=LG,GL", s)
	}
	if strings.ContainsAny(key, " \t=,") {
		return Axis{}, fmt.Errorf("--grid %q: the key %q has a space, '=' or ','; want a recipe key such as model.ffn.grid.rows", s, key)
	}
	a := Axis{Key: key}
	seen := map[string]bool{}
	values, err := splitValues(vals)
	if err != nil {
		return Axis{}, fmt.Errorf("--grid %q: %v", s, err)
	}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			return Axis{}, fmt.Errorf("--grid %q: an empty value; want KEY=V1,V2,... with no empty value", s)
		}
		if seen[v] {
			return Axis{}, fmt.Errorf("--grid %q: the value %q is given twice", s, v)
		}
		seen[v] = true
		a.Values = append(a.Values, v)
	}
	if len(a.Values) > MaxValues {
		return Axis{}, fmt.Errorf("--grid %q: %d values; want at most %d", s, len(a.Values), MaxValues)
	}
	return a, nil
}

// splitValues cuts a --grid flag's values at the commas outside brackets, braces and
// quotes.
func splitValues(s string) ([]string, error) {
	var out []string
	var stack []rune
	var quote rune
	start := 0
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '[' || r == '{':
			stack = append(stack, r)
		case r == ']' || r == '}':
			open := '['
			if r == '}' {
				open = '{'
			}
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return nil, fmt.Errorf("an unmatched %q at byte %d of the values", r, i)
			}
			stack = stack[:len(stack)-1]
		case r == ',' && len(stack) == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if quote != 0 || len(stack) > 0 {
		return nil, errors.New("a bracket, brace or quote is not closed in the values")
	}
	return append(out, s[start:]), nil
}

// Point is one run of a sweep: a grid point (one value per axis) and a seed.
type Point struct {
	// Name is the run's folder name under the sweep's folder, e.g.
	// "composition-LG_rows-8_seed-1": the same for the same grid and seed.
	Name string `json:"name"`
	// Sets are the --set overrides of the grid point, KEY=VALUE in axis order.
	Sets []string `json:"sets"`
	// Seed is train.seed.
	Seed uint64 `json:"seed"`
}

// Group names the point's grid point without its seed ("composition=LG rows=8"):
// the runs of one group are averaged over their seeds.
func (p Point) Group(axes []Axis) string {
	labels := shortKeys(axes)
	parts := make([]string, len(p.Sets))
	for i, s := range p.Sets {
		_, v, _ := strings.Cut(s, "=")
		parts[i] = labels[i] + "=" + v
	}
	if len(parts) == 0 {
		return "recipe"
	}
	return strings.Join(parts, " ")
}

// Points returns the runs of the grid's cross product (the last axis varying fastest)
// for each seed, grid point by grid point (its seeds together). It is an error when
// two runs would get the same folder name (values that differ only in characters a
// file name cannot hold), an axis repeats a key, or there are more than MaxRuns runs.
func Points(axes []Axis, seeds []uint64) ([]Point, error) {
	if len(axes) > MaxAxes {
		return nil, fmt.Errorf("%d --grid flags; want at most %d", len(axes), MaxAxes)
	}
	if len(seeds) == 0 {
		return nil, errors.New("no seeds: want at least one")
	}
	n := len(seeds)
	keys := map[string]bool{}
	for _, a := range axes {
		if keys[a.Key] {
			return nil, fmt.Errorf("--grid names %s twice; give all its values in one flag", a.Key)
		}
		keys[a.Key] = true
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("--grid %s has no values", a.Key)
		}
		n *= len(a.Values)
		if n > MaxRuns {
			return nil, fmt.Errorf("the sweep has more than %d runs; use fewer values or seeds", MaxRuns)
		}
	}
	labels := shortKeys(axes)
	var out []Point
	idx := make([]int, len(axes))
	names := map[string]string{}
	for {
		sets := make([]string, len(axes))
		parts := make([]string, 0, len(axes)+1)
		for i, a := range axes {
			sets[i] = a.Key + "=" + a.Values[idx[i]]
			parts = append(parts, sanitize(labels[i])+"-"+sanitize(a.Values[idx[i]]))
		}
		for _, seed := range seeds {
			name := strings.Join(append(append([]string(nil), parts...), "seed-"+strconv.FormatUint(seed, 10)), "_")
			if other, dup := names[name]; dup {
				return nil, fmt.Errorf("grid points %s and %s would share the folder %s; use values that differ in letters or digits", other, strings.Join(sets, " "), name)
			}
			names[name] = strings.Join(sets, " ")
			out = append(out, Point{Name: name, Sets: sets, Seed: seed})
		}
		// The next grid point: the last axis fastest.
		i := len(axes) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(axes[i].Values) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out, nil
		}
	}
}

// shortKeys returns, for each axis, the shortest dotted suffix of its key that no other
// axis's key ends with (model.ffn.grid.rows → rows).
func shortKeys(axes []Axis) []string {
	out := make([]string, len(axes))
	for i, a := range axes {
		parts := strings.Split(a.Key, ".")
		out[i] = a.Key
		for n := 1; n <= len(parts); n++ {
			suffix := strings.Join(parts[len(parts)-n:], ".")
			unique := true
			for j, b := range axes {
				if j != i && (b.Key == suffix || strings.HasSuffix(b.Key, "."+suffix)) {
					unique = false
					break
				}
			}
			if unique {
				out[i] = suffix
				break
			}
		}
	}
	return out
}

// sanitize keeps letters, digits, '.' and '-' of s for a folder name; anything else
// becomes '.' ('_' separates a name's parts).
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '.'
	}, s)
}
