// Command silentcert is the silent-certification platform: backtest, simulate, evaluate,
// geocode and, as they land, serve, demo and the rest. This package only wires flags,
// configuration and construction; the logic lives in the packages it calls.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"

	sc "github.com/silentcert/silentcert"
)

// command is one subcommand. run gets the arguments after the subcommand's name and
// returns an error; a usageError exits with code 2.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is filled by each subcommand's file in its init function.
var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	if _, dup := commands[name]; dup {
		panic("silentcert: command registered twice: " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

// usageError marks a wrong command line: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// codeError is an error that exits with a code of its own: 3 for ingest's batch stored
// with a file of which every row was quarantined (1 is nothing done, 2 a wrong command
// line).
type codeError struct {
	code int
	msg  string
}

func (e codeError) Error() string { return e.msg }

// exitQuarantined is the exit code of an ingest whose batch was stored but one of its
// files had every row quarantined (a header not the standard's, a file of another kind).
const exitQuarantined = 3

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "silentcert: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return 2
	}
	if path := os.Getenv("SILENTCERT_CPUPROFILE"); path != "" {
		// For benchmark scripts: a CPU profile of the whole command.
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	if path := os.Getenv("SILENTCERT_MEMPROFILE"); path != "" {
		// For benchmark scripts: what the whole command allocated.
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	var ue usageError
	var ce codeError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "silentcert %s: %v\n", args[0], err)
		return 2
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "silentcert %s: %v\n", args[0], err)
		return ce.code
	default:
		fmt.Fprintf(stderr, "silentcert %s: %v\n", args[0], err)
		return 1
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: silentcert COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'silentcert COMMAND -h' for a command's flags.")
}

// newFlagSet returns a flag set that reports errors instead of exiting, with a usage line.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: silentcert %s %s\n\nflags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns a flag error into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return nil
}

// parseWindow parses --from and --to (YYYY-MM-DD); a bad date or --from after --to is a
// usage error.
func parseWindow(from, to string) (f, t sc.Date, err error) {
	if f, err = sc.ParseDate(from); err != nil {
		return f, t, usagef("--from: %v", err)
	}
	if t, err = sc.ParseDate(to); err != nil {
		return f, t, usagef("--to: %v", err)
	}
	if f > t {
		return f, t, usagef("--from %s is after --to %s", f, t)
	}
	return f, t, nil
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
