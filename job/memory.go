package job

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hypergrid-go/hypergrid/internal/sysmem"
	"github.com/hypergrid-go/hypergrid/model"
	"github.com/hypergrid-go/hypergrid/recipe"
)

// MemoryLimit is how much memory a run may plan to use: a number of bytes, Auto (the
// machine's memory, or the process's cgroup limit when lower) or NoLimit.
type MemoryLimit int64

const (
	// Auto checks against the machine's memory (internal/sysmem.Total).
	Auto MemoryLimit = 0
	// NoLimit skips the check.
	NoLimit MemoryLimit = -1
)

// ParseMemoryLimit reads a limit as the --memory-limit flag takes it: "auto", "none",
// or a size such as "8GiB", "512MiB", "2GB" or a plain number of bytes.
func ParseMemoryLimit(s string) (MemoryLimit, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	switch t {
	case "", "auto":
		return Auto, nil
	case "none", "off", "unlimited":
		return NoLimit, nil
	}
	units := []struct {
		suffix string
		mult   float64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40}, {"b", 1}}
	mult := 1.0
	for _, u := range units {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) || v*mult >= 1<<62 {
		return 0, fmt.Errorf("memory limit %q: want a size such as 8GiB or 512MiB, auto, or none", s)
	}
	return MemoryLimit(v * mult), nil
}

// bytes returns the limit in bytes and where it comes from; ok is false when nothing
// is to be checked.
func (l MemoryLimit) bytes() (n int64, source string, ok bool) {
	switch {
	case l == NoLimit:
		return 0, "", false
	case l > 0:
		return int64(l), "--memory-limit", true
	}
	total, src, ok := sysmem.Total()
	if !ok || total > 1<<62 {
		return 0, "", false
	}
	return int64(total), "this machine's memory (" + src + ")", true
}

// FormatBytes writes n as "1.5 GiB", "300.0 MiB", "12 KiB" or "12 B".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<40:
		return fmt.Sprintf("%.1f TiB", float64(n)/(1<<40))
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// Describe writes an estimate's parts.
func Describe(e model.Estimate) string {
	return fmt.Sprintf("%s: parameters %s, gradients %s, optimizer %s, activations %s, runtime %s",
		FormatBytes(e.Total), FormatBytes(e.ParamBytes), FormatBytes(e.GradBytes), FormatBytes(e.OptimizerBytes),
		FormatBytes(e.ActivationBytes), FormatBytes(e.RuntimeBytes))
}

// EstimateMemory estimates what recipe r's model needs to train (training true: the
// recipe's optimizer, a micro-batch — train.batch_size / train.grad_accum, rounded up
// — of max_input_len + max_target_len tokens each, as train.replicas parts each with
// its replica's gradients)
// or to answer (training false) — see model.Spec.Estimate. ok is false, with a nil
// error, when a plugin layer does not report its size: nothing can be checked.
func EstimateMemory(r *recipe.Recipe, training bool) (e model.Estimate, ok bool, err error) {
	spec := r.Model.ModelSpec()
	opt := ""
	if training {
		opt = r.Train.Optimizer
	}
	batch, reps := r.Train.BatchSize, 1
	if training {
		// The activations of one micro-batch (train.grad_accum), which model replicas
		// (train.replicas) run as that many parts at once, each replica with
		// gradients of its own.
		reps = r.Train.Reps()
		batch = (r.Train.MicroBatch(1) + reps - 1) / reps
	}
	e, err = spec.Estimate(batch, r.Train.MaxInputLen, r.Train.MaxTargetLen, opt)
	if errors.Is(err, model.ErrUnsized) {
		return e, false, nil
	}
	if err != nil {
		return e, false, r.ModelErrors(err)
	}
	if reps > 1 {
		more := int64(reps - 1)
		if e.Total > (1<<62)/int64(reps) { // the new total is below reps·Total

			return e, false, r.Source.Errorf("train.replicas", "is %d: the memory estimate overflows; lower it", reps)
		}
		e.Total += more*e.GradBytes + more*e.ActivationBytes
		e.GradBytes *= int64(reps)
		e.ActivationBytes *= int64(reps)
	}
	return e, true, nil
}

// CheckMemory refuses recipe r when its estimate is above limit, with an error at the
// recipe line of the biggest part (train.batch_size for activations, model otherwise)
// that gives the estimate, the limit and what to change.
func CheckMemory(r *recipe.Recipe, training bool, limit MemoryLimit) error {
	e, ok, err := EstimateMemory(r, training)
	if err != nil || !ok {
		return err
	}
	lim, source, check := limit.bytes()
	if !check || e.Total <= lim {
		return nil
	}
	what := "answer"
	if training {
		what = "train"
	}
	path := "model"
	fix := "make the model smaller (d_model, ffn.d_ff, layers, vocab)"
	if e.ActivationBytes > e.ParamBytes+e.GradBytes+e.OptimizerBytes {
		path = "train.batch_size"
		fix = "raise train.grad_accum (the batch runs in that many micro-batches), or lower train.batch_size or max_input_len"
	}
	return recipe.ErrorList{r.Source.Errorf(path, "the model needs about %s to %s, more than the %s of %s: %s, or set --memory-limit",
		Describe(e), what, FormatBytes(lim), source, fix)}
}
