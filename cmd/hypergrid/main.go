// Command hypergrid trains, evaluates, serves and benchmarks multi-task Transformers
// with HyperGrid layers.
//
// Usage:
//
//	hypergrid <command> [flags] [arguments]
//
// Run "hypergrid help" for the list of commands and "hypergrid <command> --help" for
// the flags of one. Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted
// (SIGINT or SIGTERM; a training run saves its checkpoint first).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one subcommand of the CLI. Each lives in its own cmd_*.go file and adds
// itself to commands in an init function.
type command struct {
	name    string
	summary string
	// run executes the command with the arguments after its name. It returns an error
	// wrapped with usageError for bad usage (exit status 2) and any other error for
	// a failure (exit status 1).
	run func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("hypergrid: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// errUsage marks an error as a usage error: exit status 2.
var errUsage = errors.New("usage error")

// usageError formats an error that makes the program exit with status 2.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// newFlags returns a flag set for a command whose errors are returned, not fatal, and
// whose --help output names the command.
func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: hypergrid %s %s\n", name, usage)
		if c, ok := commands[strings.Fields(name)[0]]; ok {
			fmt.Fprintf(stderr, "\n%s\n", c.summary)
		}
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(stderr, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args with fs, turning flag errors into usage errors and --help into
// errHelp (exit status 0).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError("%v", err)
	}
	return nil
}

var errHelp = errors.New("help requested")

func main() {
	// A rejected HYPERGRID_ISA stops every command before it runs (see isaError).
	if err := isaError(); err != nil {
		fmt.Fprintf(os.Stderr, "hypergrid: %v\n", err)
		os.Exit(2)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{defaultCommand}
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return exitStatus(c.run([]string{"--help"}, stdout, stderr), stderr)
			}
		}
		printHelp(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "hypergrid: unknown command %q\n\n", name)
		printHelp(stderr)
		return 2
	}
	return exitStatus(c.run(args[1:], stdout, stderr), stderr)
}

func exitStatus(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "hypergrid: %s\n", strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		return 2
	case errors.Is(err, errInterrupted):
		fmt.Fprintf(stderr, "hypergrid: %v\n", err)
		return 130
	default:
		fmt.Fprintf(stderr, "hypergrid: %v\n", err)
		return 1
	}
}

func printHelp(w io.Writer) {
	fmt.Fprintf(w, "hypergrid: multi-task Transformers with HyperGrid layers\n\nusage: hypergrid <command> [flags] [arguments]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nWith no command, hypergrid runs %q. Exit status: 0 ok, 1 failure, 2 usage error, 130 interrupted.\n", defaultCommand)
}
