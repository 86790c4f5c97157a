// Command lab runs schedlab experiments: it sweeps scheduler parameters on an
// engine into a content-addressed store, selects the best value with the
// maths users already trust, and reports why.
//
// Each subcommand lives in its own file and registers itself in commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand of lab.
type command struct {
	name  string
	usage string // one line: arguments and what it does
	// run executes the command with its arguments (after the name).
	run func(ctx context.Context, env *cmdEnv, args []string) error
}

// cmdEnv is what a command needs from the process, so tests can run
// commands in-process with their own streams.
type cmdEnv struct {
	stdout, stderr io.Writer
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("lab: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// exitCodeError lets a command choose its exit status (e.g. 1 when a cell
// failed) without printing anything more.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runMain(ctx, &cmdEnv{stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:]))
}

func runMain(ctx context.Context, env *cmdEnv, args []string) int {
	if len(args) >= 2 && args[0] == "help" {
		return helpTopic(ctx, env, args[1])
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		if len(args) > 1 {
			fmt.Fprintf(env.stderr, "lab version: unexpected arguments %q\n", args[1:])
			return 2
		}
		fmt.Fprintln(env.stdout, "lab", version())
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "lab: unknown command %q\n", args[0])
		usage(env.stderr)
		return 2
	}
	err := c.run(ctx, env, args[1:])
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if ec.err != nil {
			fmt.Fprintf(env.stderr, "lab %s: %v\n", c.name, ec.err)
		}
		return ec.code
	}
	fmt.Fprintf(env.stderr, "lab %s: %v\n", c.name, err)
	return 1
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: lab <command> [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].usage)
	}
	helpTopics(w)
	fmt.Fprintln(w, "\nRun 'lab <command> -h' for a command's flags.")
}

// newFlags returns a FlagSet for a subcommand that reports errors instead of
// exiting, and prints its usage to env.stderr.
func newFlags(env *cmdEnv, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet("lab "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "usage: lab %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}
