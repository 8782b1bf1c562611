package job

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/data"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/tokenizer"
	"github.com/hypergrid-go/hypergrid/train"

	"go.yaml.in/yaml/v3"
)

// AddTaskRecipe returns the recipe of a run that adds task to the trained model old:
// old's recipe (as its checkpoint stores it) with the overrides sets, data.tasks
// extended by task and, when the model lists its tasks (model.tasks: an encoder's
// heads, task_embedding conditioning), model.tasks extended by it. The additions are
// --set overrides of the new recipe, so the new run's checkpoint stores them with its
// recipe and eval, predict and serve know the new task.
func AddTaskRecipe(old *Trained, task train.TaskRef, sets []string) (*recipe.Recipe, error) {
	def, err := task.Def()
	if err != nil {
		return nil, err
	}
	if slices.Contains(old.Recipe.Data.TaskNames(), def.Name) {
		return nil, fmt.Errorf("the model in %s already has a task %s (its tasks: %s): give the new task another name",
			old.Dir, def.Name, strings.Join(old.Recipe.Data.TaskNames(), ", "))
	}
	refs := append(old.DataConfig("").Tasks, task) // a task this program does not know: its stored definition
	tasksYAML, err := flowYAML(taskRefsNode(refs))
	if err != nil {
		return nil, err
	}
	added := []string{"data.tasks=" + tasksYAML}
	if spec := old.Model.Spec; len(spec.Tasks) > 0 {
		ts := model.TaskSpec{Name: def.Name, Kind: model.Classification, Classes: def.NumClasses()}
		if def.IsRegression() {
			ts.Kind, ts.Classes = model.Regression, 0
		}
		var n yaml.Node
		if err := n.Encode(append(slices.Clone(spec.Tasks), ts)); err != nil {
			return nil, err
		}
		s, err := flowYAML(&n)
		if err != nil {
			return nil, err
		}
		added = append(added, "model.tasks="+s)
	}
	snap := old.Recipe.Source.Snapshot()
	r, err := snap.Load(append(slices.Clone(sets), added...)...)
	if err != nil {
		return nil, fmt.Errorf("the recipe of %s with task %s added: %w", old.Dir, def.Name, err)
	}
	return r, nil
}

// taskRefsNode returns data.tasks as a YAML list: names, and definitions as mappings.
func taskRefsNode(refs []train.TaskRef) *yaml.Node {
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, ref := range refs {
		var n yaml.Node
		if ref.Registered {
			n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ref.Name}
		} else if err := n.Encode(ref.TaskDef); err != nil {
			panic(err) // plain data always encodes
		}
		seq.Content = append(seq.Content, &n)
	}
	return seq
}

// flowYAML writes n on one line, in YAML flow style (a --set value).
func flowYAML(n *yaml.Node) (string, error) {
	var setFlow func(*yaml.Node)
	setFlow = func(n *yaml.Node) {
		if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
			n.Style = yaml.FlowStyle
		}
		for _, c := range n.Content {
			setFlow(c)
		}
	}
	setFlow(n)
	b, err := yaml.Marshal(n)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if strings.Contains(s, "\n") {
		return "", fmt.Errorf("cannot write %s on one line", s)
	}
	return s, nil
}

// TaskParams returns what belongs to the task called name alone in m, as the slices
// of parameters that adding it trains: its head (encoder models) and its row of every
// per-task table (the HyperGrid gates' task embeddings, conditioning: task_embedding).
// It reports an error saying why when there is nothing, or when m has a per-task
// parameter of a layout it does not know.
func TaskParams(m *model.Model, name string) ([]train.ParamSlice, error) {
	index := slices.IndexFunc(m.Spec.Tasks, func(t model.TaskSpec) bool { return t.Name == name })
	var out []train.ParamSlice
	for _, p := range m.Params() {
		switch {
		case !p.PerTask:
		case strings.HasPrefix(p.Name, "heads."+name+"."):
			out = append(out, train.ParamSlice{Param: p, Lo: 0, Hi: len(p.Data)})
		case strings.HasPrefix(p.Name, "heads."):
		case index >= 0 && p.Rows == len(m.Spec.Tasks) && p.Cols > 0:
			out = append(out, train.ParamSlice{Param: p, Lo: index * p.Cols, Hi: (index + 1) * p.Cols})
		default:
			return nil, fmt.Errorf("parameter %s is per task but not a table with one row per task (model.tasks): a task cannot be added to this model", p.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the model has no parameters of task %s's own, so training anything for it would change the outputs of its other tasks: "+
			"with conditioning first_token or mean the HyperGrid gates come from the input text through weights every task shares, with composition GG they are the same for all tasks, "+
			"and a T5 model's output layer is shared. A task can be added to a model whose HyperGrid layers use conditioning: task_embedding (composition LG, GL or LL, with model.tasks) "+
			"or to an encoder model (one head per task, model.tasks); otherwise train a new run with all the tasks", name)
	}
	return out, nil
}

// CheckAddTask reports whether task (the last of r's data.tasks) can be added to a
// trained model of r's architecture: whether the model has parameters of the task's
// own (see TaskParams). It builds the model once, so call it before making folders.
func CheckAddTask(r *recipe.Recipe, task string) error {
	m, err := r.Build(r.Train.Seed)
	if err != nil {
		return err
	}
	_, err = TaskParams(m, task)
	return err
}

// GrowFrom copies the trained model old's weights into m, which has one task more
// (the last of m.Spec.Tasks, called task): a parameter of the same shape is copied
// whole; a per-task table, one row longer, gets old's rows and keeps its initial last
// row; the new task's head keeps its initial values. Any other difference is an error:
// the architectures differ.
func GrowFrom(m, old *model.Model, task string) error {
	byName := make(map[string]*autograd.Param, len(old.Params()))
	for _, p := range old.Params() {
		byName[p.Name] = p
	}
	n := len(m.Spec.Tasks)
	var problems []string
	for _, p := range m.Params() {
		o, ok := byName[p.Name]
		switch {
		case !ok && strings.HasPrefix(p.Name, "heads."+task+"."):
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is not in the trained model", p.Name))
		case len(o.Data) == len(p.Data) && o.Rows == p.Rows && o.Cols == p.Cols:
			copy(p.Data, o.Data)
		case p.PerTask && p.Rows == n && o.Rows == n-1 && o.Cols == p.Cols:
			copy(p.Data, o.Data)
		default:
			problems = append(problems, fmt.Sprintf("%s is %d×%d in the trained model, %d×%d here", p.Name, o.Rows, o.Cols, p.Rows, p.Cols))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the model does not fit the trained one (leave model: as the run had it):\n\t%s", strings.Join(problems, "\n\t"))
	}
	return nil
}

// PrepareAddTask makes the run that adds task (the last of r's data.tasks, see
// AddTaskRecipe) to a trained model: the model of r starts from old's weights
// (GrowFrom) and trains only TaskParams on the new task's examples; every other
// parameter is frozen and never reaches the optimizer. When resuming (opts.Resume),
// old is nil and the weights, optimizer state and position come from the checkpoint.
// Setup.Tasks holds the new task alone (the trainer's data); r's data.tasks, stored in
// the checkpoints, lists every task.
func PrepareAddTask(r *recipe.Recipe, task string, old *Trained, opts Options) (*Setup, []train.ParamSlice, error) {
	names := r.Data.TaskNames()
	if len(names) == 0 || names[len(names)-1] != task {
		return nil, nil, fmt.Errorf("add task: %s is not the last of data.tasks (%s)", task, strings.Join(names, ", "))
	}
	s := &Setup{Recipe: r, Info: Info{DataDir: opts.DataDir, Steps: r.Train.Steps, AddTask: task}}
	if opts.Steps > 0 {
		r.Train.Steps, s.Info.Steps = opts.Steps, opts.Steps
	}
	if opts.DataDir != "" {
		r.Data.Dir = opts.DataDir
	}
	if err := CheckMemory(r, true, opts.MemoryLimit); err != nil {
		return nil, nil, err
	}
	dc := r.Data
	dc.Tasks = dc.Tasks[len(dc.Tasks)-1:]
	var err error
	if s.Tasks, err = train.ReadTasks(dc, train.SplitTrain, train.SplitDev); err != nil {
		return nil, nil, err
	}
	switch {
	case opts.Resume != nil:
		b, ok := opts.Resume.Files[train.TokenizerFile]
		if !ok {
			return nil, nil, fmt.Errorf("checkpoint %s has no %s", opts.ResumeDir, train.TokenizerFile)
		}
		if s.Tokenizer, err = tokenizer.Parse(b); err != nil {
			return nil, nil, fmt.Errorf("checkpoint %s: tokenizer: %w", opts.ResumeDir, err)
		}
		if s.Tokenizer, err = train.WithExtraIDs(s.Tokenizer, r.Tokenizer.ExtraIDs); err != nil {
			return nil, nil, fmt.Errorf("checkpoint %s: %w", opts.ResumeDir, err)
		}
	case old != nil:
		s.Tokenizer = old.Tokenizer
	default:
		panic("job.PrepareAddTask: neither a trained model nor a checkpoint to resume")
	}
	if s.Model, err = r.Build(r.Train.Seed); err != nil {
		return nil, nil, err
	}
	slicesToTrain, err := TaskParams(s.Model, task)
	if err != nil {
		return nil, nil, err
	}
	if old != nil {
		if err := GrowFrom(s.Model, old.Model, task); err != nil {
			return nil, nil, fmt.Errorf("add task to %s: %w", old.Dir, err)
		}
	}
	// Every task's definition is stored: the trained model's, then the new one.
	var defs []data.TaskDef
	switch {
	case old != nil:
		if defs, err = old.Tasks(); err != nil {
			return nil, nil, err
		}
		defs = append(defs, s.Tasks[0].Def)
	default:
		if defs, err = storedTasks(opts.Resume); err != nil {
			return nil, nil, fmt.Errorf("checkpoint %s: %w", opts.ResumeDir, err)
		}
		if defs == nil {
			if defs, err = r.Data.Defs(); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, p := range s.Model.Params() {
		p.SetFrozen(!slices.ContainsFunc(slicesToTrain, func(sl train.ParamSlice) bool { return sl.Param == p }))
	}
	s.Trainer, err = train.New(s.Model, s.Tokenizer, s.Tasks, r.Train, dc, train.Options{
		CheckpointDir: opts.CheckpointDir,
		State:         runState(r, s.Info, defs),
	})
	if err != nil {
		return nil, nil, err
	}
	if err := s.Trainer.TrainOnly(slicesToTrain); err != nil {
		return nil, nil, err
	}
	if opts.Resume != nil {
		if err := s.Trainer.Restore(opts.Resume, opts.ResumeDir); err != nil {
			return nil, nil, err
		}
	}
	return s, slicesToTrain, nil
}
