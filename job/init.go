package job

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/checkpoint"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/recipe"
	"github.com/hypergrid-go/hypergrid/tokenizer"
	"github.com/hypergrid-go/hypergrid/train"
)

// InitReport says what a model started from a checkpoint (model.init.from) took.
type InitReport struct {
	// Dir is the checkpoint folder read.
	Dir string
	// Loaded are the parameters set from the checkpoint; Fresh those the checkpoint
	// lacks, which keep their initialisation from train.seed (HyperGrid gates, new
	// heads).
	Loaded, Fresh []string
	// Unused are the checkpoint's tensors the model has no parameter for.
	Unused []string
	// Tokenizer is the checkpoint's tokenizer (nil when it stores none).
	Tokenizer *tokenizer.Model
}

// Warnings returns what a user should be told about the initialisation: the
// checkpoint's tensors the model does not use, all named.
func (r *InitReport) Warnings() []string {
	if len(r.Unused) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("model.init.from %s: %d tensor(s) of the checkpoint are not parameters of this model and are left out: %s",
		r.Dir, len(r.Unused), strings.Join(r.Unused, ", "))}
}

// InitFrom sets the parameters of m from the checkpoint at from (a checkpoint or run
// folder, resolved and verified as every command does) by name: every parameter the
// checkpoint has a tensor for takes its values; the others keep theirs. A tensor whose
// shape differs from the parameter's, or whose values are not finite, is an error
// (all of them named together): the architectures differ and a partial start would
// be silently wrong. Tensors the model has no parameter for are listed in the report
// (InitReport.Warnings), not an error: a model may drop a head or gates. Errors do not
// name the recipe key: the caller places them (at model.init.from).
func InitFrom(m *model.Model, from string) (*InitReport, error) {
	c, dir, err := checkpoint.LoadResolved(from)
	if err != nil {
		return nil, err
	}
	rep := &InitReport{Dir: dir}
	if b, ok := c.Files[train.TokenizerFile]; ok {
		if rep.Tokenizer, err = tokenizer.Parse(b); err != nil {
			return nil, fmt.Errorf("checkpoint %s: tokenizer: %w", dir, err)
		}
	}
	if err := setParams(m.Params(), c.Model, rep); err != nil {
		return nil, fmt.Errorf("checkpoint %s does not fit the model:\n\t%w", dir, err)
	}
	return rep, nil
}

// setParams copies the tensors into the parameters of the same name and shape,
// recording what it did in rep; it changes nothing when any tensor does not fit.
func setParams(params []*autograd.Param, tensors []checkpoint.Tensor, rep *InitReport) error {
	byName := make(map[string]*autograd.Param, len(params))
	for _, p := range params {
		byName[p.Name] = p
	}
	var problems []string
	hint := "change the recipe's model: to match the checkpoint's shapes, or leave these parameters out"
	type copyOp struct {
		p *autograd.Param
		t *checkpoint.Tensor
	}
	var ops []copyOp
	seen := map[string]bool{}
	for i := range tensors {
		t := &tensors[i]
		p, ok := byName[t.Name]
		if !ok {
			rep.Unused = append(rep.Unused, fmt.Sprintf("%s %v", t.Name, t.Shape))
			continue
		}
		seen[t.Name] = true
		want := paramShape(p)
		if !slices.Equal(t.Shape, want) && !slices.Equal(t.Shape, []int{p.Rows, p.Cols}) || len(t.Data) != len(p.Data) {
			problems = append(problems, fmt.Sprintf("tensor %s has shape %v, the model's parameter %v", t.Name, t.Shape, want))
			if t.Name == "embedding" && len(t.Shape) == 2 && len(want) == 2 && t.Shape[0] != want[0] && t.Shape[1] == want[1] {
				// The usual cause: an include (such as include: default) brings a
				// model.vocab of its own, on top of the checkpoint's.
				hint = fmt.Sprintf("model.vocab is %d here but %d in the checkpoint: set model.vocab: %d, or drop the model.vocab an include brings", want[0], t.Shape[0], t.Shape[0])
			}
			continue
		}
		if err := t.CheckFinite(); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		ops = append(ops, copyOp{p, t})
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("%s\n(%s)", strings.Join(problems, "\n\t"), hint)
	}
	for _, o := range ops {
		copy(o.p.Data, o.t.Data)
		rep.Loaded = append(rep.Loaded, o.p.Name)
	}
	for _, p := range params {
		if !seen[p.Name] {
			rep.Fresh = append(rep.Fresh, p.Name)
		}
	}
	sort.Strings(rep.Unused)
	return nil
}

func paramShape(p *autograd.Param) []int {
	if len(p.Shape) > 0 {
		return slices.Clone(p.Shape)
	}
	return []int{p.Rows, p.Cols}
}

// initFrom starts s.Model from r's model.init.from and takes the checkpoint's
// tokenizer unless the recipe names one (tokenizer.model).
func (s *Setup) initFrom(r *recipe.Recipe) error {
	rep, err := InitFrom(s.Model, r.Model.Init.From)
	if err != nil {
		return r.Source.Errorf("model.init.from", "%v", err)
	}
	s.Init = rep
	if s.Tokenizer != nil {
		return nil
	}
	if rep.Tokenizer == nil {
		return r.Source.Errorf("model.init.from", "checkpoint %s stores no %s: name a tokenizer (tokenizer.model)", rep.Dir, train.TokenizerFile)
	}
	if s.Tokenizer, err = train.WithExtraIDs(rep.Tokenizer, r.Tokenizer.ExtraIDs); err != nil {
		return r.Source.Errorf("tokenizer.extra_ids", "%v", err)
	}
	return nil
}

// checkVocab checks that the model's vocabulary covers every ID of the tokenizer: its
// pieces and its sentinels (tokenizer.extra_ids).
func checkVocab(r *recipe.Recipe, tok *tokenizer.Model, vocab int) error {
	n := tok.VocabSize()
	if n <= vocab {
		return nil
	}
	if x := tok.ExtraIDs(); x > 0 {
		return r.Source.Errorf("model.vocab", "is %d, but the tokenizer has %d pieces + %d extra ids (tokenizer.extra_ids) = %d ids: raise model.vocab to at least %d, or lower tokenizer.vocab or tokenizer.extra_ids", vocab, tok.Pieces(), x, n, n)
	}
	return r.Source.Errorf("model.vocab", "is %d, but the tokenizer has %d pieces: raise model.vocab to at least %d or lower tokenizer.vocab", vocab, n, n)
}
