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
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/schedlab/schedlab/lab/spec"
)

// command is one subcommand of lab.
type command struct {
	name  string
	usage string // one line: arguments and what it does
	// run executes the command with its arguments (after the name).
	run func(ctx context.Context, env *cmdEnv, args []string) error
	// finishes: on Ctrl-C or SIGTERM the command stops on its own, and
	// must be let finish (run: the cells running are aborted or committed
	// cleanly). Others get interruptGrace to return before the process
	// exits anyway.
	finishes bool
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
	stop := startProfile(os.Getenv("LAB_CPUPROFILE"))
	code := runInterruptible(&cmdEnv{stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// startProfile writes a CPU profile of the whole command to path (when
// not empty) until the returned function is called: LAB_CPUPROFILE=cpu.out
// lab select --root TREE, then go tool pprof bin/lab cpu.out. It measures
// a command as users run it, in a fresh process (lab/docs/benchmarks.md).
func startProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab: LAB_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// interruptGrace is how long a command that does not finish on its own
// (command.finishes) has, after Ctrl-C or SIGTERM, to notice its cancelled
// context before the process exits. Such commands only read, or write
// each file atomically, so stopping them anywhere loses nothing.
const interruptGrace = 2 * time.Second

// exitInterrupted is the exit status after Ctrl-C or SIGTERM (128 + SIGINT,
// as shells report it).
const exitInterrupted = 130

// runInterruptible runs the command with a context that Ctrl-C and SIGTERM
// cancel. Every command is stoppable: a long loop that does not check the
// context (reading a big legacy tree, say) ends at most interruptGrace
// after the signal, and a second signal ends the process at once.
func runInterruptible(env *cmdEnv, args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	code := make(chan int, 1)
	go func() { code <- runMain(ctx, env, args) }()
	select {
	case c := <-code:
		return c
	case <-sigs:
	}
	cancel()
	var grace <-chan time.Time
	if c, ok := commands[firstArg(args)]; !ok || !c.finishes {
		grace = time.After(interruptGrace)
	}
	select {
	case c := <-code:
		return c
	case <-sigs:
		fmt.Fprintln(env.stderr, "lab: interrupted again; stopping now")
	case <-grace:
		fmt.Fprintln(env.stderr, "lab: interrupted")
	}
	return exitInterrupted
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
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
			printError(env.stderr, c.name, ec.err)
		}
		return ec.code
	}
	printError(env.stderr, c.name, err)
	return 1
}

// printError prints a command's error after "lab <command>: ", except an
// error that starts with a spec's problems: each of those lines starts
// with file:line:col, which editors and terminals jump to, so no prefix.
func printError(w io.Writer, name string, err error) {
	var es spec.Errors
	var e *spec.Error
	msg := err.Error()
	switch {
	case errors.As(err, &es) && len(es) > 0 && strings.HasPrefix(msg, es[0].Error()),
		errors.As(err, &e) && strings.HasPrefix(msg, e.Error()):
		fmt.Fprintln(w, msg)
	default:
		fmt.Fprintf(w, "lab %s: %s\n", name, msg)
	}
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
