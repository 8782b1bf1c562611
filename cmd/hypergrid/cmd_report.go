package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hypergrid-go/hypergrid/checkpoint"

	"github.com/hypergrid-go/hypergrid/job"
	"github.com/hypergrid-go/hypergrid/plots"
	"github.com/hypergrid-go/hypergrid/report"
	"github.com/hypergrid-go/hypergrid/sweep"
)

func init() {
	register(&command{
		name:    "report",
		summary: "compare finished runs: report multitask RUN --single RUN_T1 RUN_T2 ... (one multi-task model against per-task models)",
		run:     runReport,
	})
}

// The files report multitask writes into its folder (besides the gate maps).
const (
	reportTable = "report.md"
	reportJSON  = "report.json"
)

func runReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report multitask", "RUN[,RUN...] --single RUN_T1[,RUN_T1...] [RUN_T2 ...] [--out DIR]", stderr)
	var singles setFlagAny
	fs.Var(&singles, "single", "a per-task run (comma-separated: its seeds); repeatable, and further arguments are per-task runs too")
	outDir := fs.String("out", "", "the report's folder (default: the multi-task run's report-multitask/)")
	if len(args) == 0 || args[0] != "multitask" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "-help") {
			fs.Usage()
			return errHelp
		}
		return usageError("report: want a kind of report: multitask (hypergrid report multitask RUN --single RUN_T1 RUN_T2 ...)")
	}
	rest, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usageError("report multitask: name the multi-task run (its seeds comma-separated) and its per-task runs with --single")
	}
	singleArgs := append(append([]string(nil), singles...), rest[1:]...)
	if len(singleArgs) == 0 {
		return usageError("report multitask: give the per-task runs with --single RUN_T1 RUN_T2 ...")
	}
	multi, err := readSide(rest[0])
	if err != nil {
		return err
	}
	var sides []report.Side
	for _, a := range singleArgs {
		s, err := readSide(a)
		if err != nil {
			return err
		}
		sides = append(sides, s)
	}
	rep, err := report.Compare(multi, sides)
	if err != nil {
		return err
	}
	out := *outDir
	if out == "" {
		out = filepath.Join(multi.Runs[0], "report-multitask")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("report folder: %w", err)
	}
	md := "# One multi-task model against per-task models\n\nMulti-task run: " + strings.Join(multi.Runs, ", ") + "\n\n" + rep.Markdown()
	gates, err := job.ReadGates(multi.Runs[0])
	switch {
	case errors.Is(err, os.ErrNotExist):
		md += fmt.Sprintf("\nNo gate maps: %s has no %s (no HyperGrid layer, or made before the file existed).\n", multi.Runs[0], job.GatesFile)
	case err != nil:
		return err
	default:
		lo, hi, err := plots.Options{}.GateScale(gates)
		if err != nil {
			return fmt.Errorf("gate maps of %s: %w", multi.Runs[0], err)
		}
		files, err := plots.Gates(gates, out)
		if err != nil {
			return fmt.Errorf("gate maps of %s: %w", multi.Runs[0], err)
		}
		md += fmt.Sprintf("\nGate maps of %s (one colour scale for all tasks, fitted to the values: %.3f to %.3f): %s\n",
			multi.Runs[0], lo, hi, strings.Join(baseNames(files), ", "))
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(out, reportTable), []byte(md)); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(out, reportJSON), append(b, '\n')); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\nreport: %s, %s\n", md, filepath.Join(out, reportTable), filepath.Join(out, reportJSON))
	return nil
}

// setFlagAny collects the values of a repeatable string flag.
type setFlagAny []string

func (s *setFlagAny) String() string { return strings.Join(*s, " ") }

func (s *setFlagAny) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// readSide reads the runs of one configuration (comma-separated seeds): each run's
// result from its metrics log and the model's parameter count from its checkpoint.
func readSide(arg string) (report.Side, error) {
	var s report.Side
	for _, dir := range strings.Split(arg, ",") {
		dir = strings.TrimSpace(dir)
		if dir == "" {
			return s, usageError("report multitask: %q has an empty run name", arg)
		}
		res, err := sweep.ReadRun(dir)
		if err != nil {
			return s, fmt.Errorf("run %s: %w", dir, err)
		}
		tr, err := job.Open(dir, job.OpenOptions{})
		if err != nil {
			return s, fmt.Errorf("run %s: %w", dir, err)
		}
		n := int64(tr.Model.NumParams())
		if s.Params != 0 && s.Params != n {
			return s, usageError("report multitask: the runs %s differ in parameters (%d and %d): the runs of one argument must be seeds of one model", arg, s.Params, n)
		}
		s.Params = n
		s.Runs = append(s.Runs, dir)
		s.Results = append(s.Results, res)
	}
	return s, nil
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
