package train

import (
	"fmt"

	"github.com/hypergrid-go/hypergrid/autograd"
	"github.com/hypergrid-go/hypergrid/optim"
)

// ParamSlice is the part of a parameter that a run trains: its values [Lo, Hi) (the
// whole parameter, or one task's row of a per-task table).
type ParamSlice struct {
	Param  *autograd.Param
	Lo, Hi int
}

// Name names the slice in the optimizer's state: the parameter's name, with the
// range when the slice is not the whole parameter.
func (s ParamSlice) Name() string {
	if s.Lo == 0 && s.Hi == len(s.Param.Data) {
		return s.Param.Name
	}
	return fmt.Sprintf("%s[%d:%d]", s.Param.Name, s.Lo, s.Hi)
}

// TrainOnly makes the trainer update only the given slices of the model's
// parameters: its optimizer is rebuilt over them, so no other value is ever
// touched, not even by weight decay, and the optimizer keeps no state for the rest.
// The caller freezes (autograd.Param.SetFrozen) the parameters that have no slice,
// so that no gradient is computed for them. Call it before Restore and Run.
func (t *Trainer) TrainOnly(slices []ParamSlice) error {
	if len(slices) == 0 {
		return fmt.Errorf("train only: no parameter to train")
	}
	op := make([]optim.Param, len(slices))
	for i, s := range slices {
		if s.Lo < 0 || s.Hi > len(s.Param.Data) || s.Lo >= s.Hi {
			return fmt.Errorf("train only: slice [%d:%d] of %s (%d values)", s.Lo, s.Hi, s.Param.Name, len(s.Param.Data))
		}
		p := s.Param
		o := optim.Param{Name: s.Name(), Value: p.Data[s.Lo:s.Hi:s.Hi], Grad: p.Grad[s.Lo:s.Hi:s.Hi], NoDecay: p.NoDecay}
		if s.Lo == 0 && s.Hi == len(p.Data) {
			o.Rows, o.Cols = p.Rows, p.Cols
		}
		op[i] = o
	}
	opt, err := optim.New(t.cfg.Optimizer, optim.Options{WeightDecay: t.cfg.WeightDecay, RelativeStep: t.cfg.RelativeStep}, op)
	if err != nil {
		return err
	}
	t.stepper.opt = opt
	return nil
}
