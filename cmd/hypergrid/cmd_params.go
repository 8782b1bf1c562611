package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hypergrid-go/hypergrid/hyper"
	"github.com/hypergrid-go/hypergrid/job"

	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/recipes"
)

func init() {
	register(&command{
		name:    "params",
		summary: "print a recipe's parameter counts per component, its HyperGrid parameters, per-task overhead and estimated memory",
		run:     runParams,
	})
}

// setFlag collects repeated --set KEY=VALUE flags.
type setFlag []string

func (s *setFlag) String() string { return strings.Join(*s, " ") }

func (s *setFlag) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want KEY=VALUE, e.g. model.ffn.grid.rows=16")
	}
	*s = append(*s, v)
	return nil
}

// parseInterleaved parses flags that may come before or after the positional
// arguments ("params RECIPE --set k=v") and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// After "--" everything is positional.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// loadRecipe loads a recipe file, or a shipped recipe by name ("t5-mini") when no such
// file exists. Recipe errors are usage errors (exit status 2).
func loadRecipe(arg string, sets []string) (*recipe.Recipe, error) {
	r, err := recipe.Load(arg, sets...)
	if err != nil {
		return nil, recipeError(err)
	}
	return r, nil
}

// memoryLimitFlag adds --memory-limit to fs; parse it with parseMemoryLimit.
func memoryLimitFlag(fs *flag.FlagSet) *string {
	return fs.String("memory-limit", "auto", "refuse a model whose estimated memory is above this: a size (8GiB, 512MiB), auto (this machine's memory) or none")
}

// parseMemoryLimit reads the --memory-limit flag; a bad value is a usage error.
func parseMemoryLimit(s string) (job.MemoryLimit, error) {
	l, err := job.ParseMemoryLimit(s)
	if err != nil {
		return 0, usageError("--memory-limit: %v", err)
	}
	return l, nil
}

// recipeError makes a recipe's errors a usage error, every one on its own line.
func recipeError(err error) error {
	var list recipe.ErrorList
	if errors.As(err, &list) && len(list) > 1 {
		return usageError("%d errors in recipe:\n  %s", len(list), strings.ReplaceAll(joinErrors(list), "\n", "\n  "))
	}
	if errors.Is(err, errUsage) {
		return err
	}
	return usageError("%v", err)
}

func joinErrors(list recipe.ErrorList) string {
	lines := make([]string, len(list))
	for i, e := range list {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func runParams(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("params", "RECIPE [--set KEY=VALUE]...", stderr)
	var sets setFlag
	fs.Var(&sets, "set", "override a recipe value, e.g. --set model.ffn.grid.rows=16 (repeatable; VALUE is YAML)")
	memLimit := memoryLimitFlag(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	limit, err := parseMemoryLimit(*memLimit)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("params takes one recipe (a file, or a shipped one: %s)", strings.Join(recipes.Names(), ", "))
	}
	r, err := loadRecipe(pos[0], sets)
	if err != nil {
		return err
	}
	if err := job.CheckMemory(r, true, limit); err != nil {
		return recipeError(err)
	}
	m, err := r.Build(0)
	if err != nil {
		return recipeError(err)
	}
	writeParamReport(stdout, pos[0], r, m)
	if err := writeMemoryReport(stdout, r); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "total_params=%d\n", m.NumParams())
	return nil
}

// writeMemoryReport prints the estimated memory to train and to answer with recipe r.
func writeMemoryReport(w io.Writer, r *recipe.Recipe) error {
	fmt.Fprintln(w)
	for _, training := range []bool{true, false} {
		e, ok, err := job.EstimateMemory(r, training)
		if err != nil {
			return recipeError(err)
		}
		what := fmt.Sprintf("memory to train (%s, batch %d × %d+%d tokens)", r.Train.Optimizer, r.Train.BatchSize, r.Train.MaxInputLen, r.Train.MaxTargetLen)
		if !training {
			what = fmt.Sprintf("memory to answer (batch %d × %d+%d tokens)", r.Train.BatchSize, r.Train.MaxInputLen, r.Train.MaxTargetLen)
		}
		if !ok {
			fmt.Fprintf(w, "%s: unknown (a plugin layer does not report its size)\n", what)
			continue
		}
		fmt.Fprintf(w, "%s: %s\n", what, job.Describe(e))
	}
	return nil
}

// group returns the report component of a parameter name:
// "encoder.block.3.ffn.wo" → "encoder.ffn", "decoder.block.0.cross_attn_norm.weight"
// and "decoder.final_norm.weight" → "decoder.norms", "heads.sst2.weight" →
// "heads.sst2", "embedding" → "embedding".
func group(name string) string {
	parts := strings.Split(name, ".")
	switch {
	case len(parts) >= 4 && parts[1] == "block":
		if strings.HasSuffix(parts[3], "_norm") {
			return parts[0] + ".norms"
		}
		return parts[0] + "." + parts[3]
	case len(parts) >= 2 && strings.HasSuffix(parts[1], "_norm"):
		return parts[0] + ".norms"
	case len(parts) >= 2 && parts[0] == "heads":
		return "heads." + parts[1]
	}
	return parts[0]
}

// thousands formats n with comma separators: 13604864 → "13,604,864".
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "×")
}

func percent(part, total int) string {
	if total == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(part)/float64(total))
}

// writeParamReport prints the parameter counts of model m built from recipe r (the
// caller ends the report with the total_params=N line).
func writeParamReport(w io.Writer, name string, r *recipe.Recipe, m *model.Model) {
	s := r.Model.ModelSpec()
	total := m.NumParams()
	fmt.Fprintf(w, "recipe %s", name)
	if len(r.Source.Files) > 1 {
		fmt.Fprintf(w, " (includes %s)", strings.Join(r.Source.Files[1:], ", "))
	}
	fmt.Fprintln(w)
	layersDesc := fmt.Sprintf("%d encoder layers", s.EncoderLayers)
	if s.Arch == model.ArchT5 {
		layersDesc = fmt.Sprintf("%d encoder + %d decoder layers", s.EncoderLayers, s.DecoderLayers)
	}
	fmt.Fprintf(w, "arch %s: vocab %d, d_model %d, %d heads × %d, %s; ffn %s, attention %s\n\n",
		s.Arch, s.Vocab, s.DModel, s.Heads, s.DKV, layersDesc,
		r.Source.Components["model.ffn"], r.Source.Components["model.attention"])

	type comp struct {
		name            string
		tensors, params int
	}
	var comps []*comp
	byName := map[string]*comp{}
	var gates, perTask []*autogradParam
	for _, p := range m.Params() {
		g := group(p.Name)
		c := byName[g]
		if c == nil {
			c = &comp{name: g}
			byName[g] = c
			comps = append(comps, c)
		}
		c.tensors++
		c.params += p.Size()
		ap := &autogradParam{name: p.Name, shape: p.Shape, size: p.Size()}
		if p.Group == hyper.ParamGroup {
			gates = append(gates, ap)
		}
		if p.PerTask {
			perTask = append(perTask, ap)
		}
	}
	rows := [][]string{{"component", "tensors", "params", "share"}}
	for _, c := range comps {
		rows = append(rows, []string{c.name, strconv.Itoa(c.tensors), thousands(c.params), percent(c.params, total)})
	}
	writeTable(w, "", rows)

	hyperTotal := 0
	for _, p := range gates {
		hyperTotal += p.size
	}
	fmt.Fprintln(w)
	if len(gates) == 0 {
		fmt.Fprintln(w, "HyperGrid parameters: none")
	} else {
		fmt.Fprintf(w, "HyperGrid parameters: %s in %d tensors (%s of the model)\n", thousands(hyperTotal), len(gates), percent(hyperTotal, total))
		var rows [][]string
		for _, p := range gates {
			rows = append(rows, []string{p.name, shapeString(p.shape), thousands(p.size)})
		}
		writeTable(w, "  ", rows)
	}

	fmt.Fprintln(w)
	writePerTask(w, s, perTask)
}

// autogradParam is what the report keeps of a parameter.
type autogradParam struct {
	name  string
	shape []int
	size  int
}

// writePerTask prints the parameters that grow with the number of tasks: each task's
// own head, plus its share of per-task tables (one row per task).
func writePerTask(w io.Writer, s model.Spec, perTask []*autogradParam) {
	if len(perTask) == 0 {
		fmt.Fprintln(w, "per-task parameters: none (every parameter is shared by all tasks; a new task costs nothing)")
		return
	}
	n := max(1, len(s.Tasks))
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("task %d", i)
		if i < len(s.Tasks) {
			names[i] = s.Tasks[i].Name
		}
	}
	own := make([]int, n)
	shared, total := 0, 0
	for _, p := range perTask {
		total += p.size
		if g := group(p.name); strings.HasPrefix(g, "heads.") {
			for i, t := range names {
				if g == "heads."+t {
					own[i] += p.size
				}
			}
			continue
		}
		shared += p.size
	}
	fmt.Fprintf(w, "per-task parameters: %s for %d task(s)", thousands(total), n)
	if shared > 0 {
		fmt.Fprintf(w, "; task tables: %s per task", thousands(shared/n))
	}
	fmt.Fprintln(w)
	var rows [][]string
	for i, t := range names {
		rows = append(rows, []string{t, thousands(own[i] + shared/n)})
	}
	writeTable(w, "  ", rows)
}

// writeTable prints rows as columns two spaces apart, each line starting with indent:
// the first column left-aligned, the others (numbers) right-aligned.
func writeTable(w io.Writer, indent string, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		b.WriteString(indent)
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i == 0 {
				b.WriteString(c + pad)
			} else {
				b.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(w, b.String())
	}
}
