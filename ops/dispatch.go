package ops

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// ISA names a family of kernel variants: one instruction set the generator targets.
type ISA string

// The instruction sets kernels are generated for. Generic is the plain Go code that runs
// everywhere and is the oracle the others are tested against.
const (
	Generic ISA = "generic"
	AVX2    ISA = "avx2"   // amd64 with AVX2 and FMA3
	AVX512  ISA = "avx512" // amd64 with AVX-512 F, BW, DQ and VL
	NEON    ISA = "neon"   // arm64 Advanced SIMD
)

// KnownISAs lists every instruction set the project knows, on any architecture.
var KnownISAs = []ISA{Generic, AVX2, AVX512, NEON}

// isaRank orders the instruction sets of one architecture from plainest to widest;
// an operation that lacks a variant for the chosen ISA uses the widest one below it.
func isaRank(isa ISA) int {
	switch isa {
	case AVX2, NEON:
		return 1
	case AVX512:
		return 2
	}
	return 0
}

// variant is one implementation of an operation.
type variant[F any] struct {
	isa ISA
	fn  F
}

// op is the dispatch entry of one operation: its variants and the one in use.
type op[F any] struct {
	name     string
	variants []variant[F] // variants[0] is always the generic one
	use      F
	useISA   ISA
}

// opEntry is what Describe and the ISA selection need of every op, whatever its type.
type opEntry interface {
	opName() string
	selectFor(isa ISA) ISA
	inUse() ISA
	isas() []ISA
}

var allOps []opEntry

func newOp[F any](name string, generic F) *op[F] {
	o := &op[F]{name: name, variants: []variant[F]{{Generic, generic}}, use: generic, useISA: Generic}
	allOps = append(allOps, o)
	return o
}

// add registers a SIMD variant; generated per-architecture files call it while the
// package's variables are initialised, before selection runs in init.
func (o *op[F]) add(isa ISA, fn F) bool {
	o.variants = append(o.variants, variant[F]{isa, fn})
	return true
}

func (o *op[F]) opName() string { return o.name }

func (o *op[F]) inUse() ISA { return o.useISA }

func (o *op[F]) isas() []ISA {
	out := make([]ISA, 0, len(o.variants))
	for _, v := range o.variants {
		if supported(v.isa) {
			out = append(out, v.isa)
		}
	}
	return out
}

// selectFor makes the widest variant not wider than isa the one in use.
func (o *op[F]) selectFor(isa ISA) ISA {
	best := o.variants[0]
	for _, v := range o.variants[1:] {
		if supported(v.isa) && isaRank(v.isa) <= isaRank(isa) && isaRank(v.isa) > isaRank(best.isa) {
			best = v
		}
	}
	o.use, o.useISA = best.fn, best.isa
	return best.isa
}

// forEach calls f with every variant of o this CPU can run, generic first. Tests use it
// to check each variant against the generic one in one run.
func (o *op[F]) forEach(f func(isa ISA, fn F)) {
	for _, v := range o.variants {
		if supported(v.isa) {
			f(v.isa, v.fn)
		}
	}
}

var activeISA = Generic

// ActiveISA reports the instruction set selected at start-up (or by SetISA).
func ActiveISA() ISA { return activeISA }

// SupportedISAs lists the instruction sets this build can run on this CPU, plainest first.
func SupportedISAs() []ISA {
	var out []ISA
	for _, isa := range KnownISAs {
		if supported(isa) {
			out = append(out, isa)
		}
	}
	return out
}

// SetISA selects the kernels of one instruction set for every operation (an operation
// without a variant for it uses the widest one it has below it). It returns an error,
// and changes nothing, when isa is unknown or this CPU or build cannot run it.
func SetISA(isa ISA) error {
	known := false
	for _, k := range KnownISAs {
		known = known || k == isa
	}
	if !known {
		return fmt.Errorf("unknown instruction set %q: valid values are %s", isa, isaList(KnownISAs))
	}
	if !supported(isa) {
		return fmt.Errorf("instruction set %q cannot run here (%s): this CPU and build support %s",
			isa, unsupportedReason(isa), isaList(SupportedISAs()))
	}
	activeISA = isa
	for _, o := range allOps {
		o.selectFor(isa)
	}
	return nil
}

func isaList(isas []ISA) string {
	s := make([]string, len(isas))
	for i, isa := range isas {
		s[i] = string(isa)
	}
	return strings.Join(s, ", ")
}

// best is the widest instruction set this CPU and build support.
func best() ISA {
	b := Generic
	for _, isa := range SupportedISAs() {
		if isaRank(isa) > isaRank(b) {
			b = isa
		}
	}
	return b
}

// EnvISA is the environment variable that overrides the automatic choice of kernels.
const EnvISA = "HYPERGRID_ISA"

// isaErr is why the HYPERGRID_ISA override was rejected at start-up; nil when it was
// unset or valid.
var isaErr error

func init() {
	isaErr = selectStartupISA(os.LookupEnv(EnvISA))
}

// selectStartupISA selects the kernels at start-up: the override env when set (and not
// empty), else the widest instruction set this CPU supports. A bad override selects
// the automatic choice and is returned as an error: a library must not end the
// program, and each program decides whether to refuse (the hypergrid command does).
func selectStartupISA(env string, set bool) error {
	auto := best()
	if !set || env == "" {
		_ = SetISA(auto) // cannot fail: best is supported
		return nil
	}
	err := SetISA(ISA(strings.ToLower(strings.TrimSpace(env))))
	if err == nil {
		return nil
	}
	_ = SetISA(auto)
	return fmt.Errorf("%s=%s: %w (unset it to choose automatically)", EnvISA, env, err)
}

// ISAError reports why the HYPERGRID_ISA environment variable was rejected when the
// package was initialised: an unknown instruction set, or one this CPU or build cannot
// run. The message names the valid choices. The package then uses the instruction set
// it would have chosen automatically (see ActiveISA); programs that must not run other
// kernels than the ones asked for should check ISAError first and stop. It returns nil
// when the variable is unset, empty or valid.
func ISAError() error { return isaErr }

// KernelChoice says which variant one operation uses and which it could use.
type KernelChoice struct {
	Op        string // operation name, e.g. "gemm"
	ISA       ISA    // variant in use
	Available []ISA  // variants this CPU can run
}

// Kernels lists, for every operation, the variant in use, sorted by operation name.
// It only reports the selection made at start-up (or by SetISA) and changes nothing.
func Kernels() []KernelChoice {
	out := make([]KernelChoice, 0, len(allOps))
	for _, o := range allOps {
		out = append(out, KernelChoice{Op: o.opName(), ISA: o.inUse(), Available: o.isas()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Op < out[j].Op })
	return out
}
