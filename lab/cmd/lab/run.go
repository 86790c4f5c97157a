package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/spec"
)

func init() {
	register(&command{
		name:     "run",
		finishes: true,
		usage:    "SPEC [-j N] [--gpus 0,1] [--timeout D] [--retries N] [--fail-fast] [--store DIR] [--executor slurm ...]: run the cells missing from the store",
		run:      runRun,
	})
}

// runFlags are the flags of `lab run` that `lab cell run` shares.
type runFlags struct {
	store    string
	timeout  durationFlag
	retries  int
	jobs     int
	gpus     string
	failFast bool
}

func (f *runFlags) registerCommon(fs *flag.FlagSet) {
	fs.StringVar(&f.store, "store", store.DefaultRoot(), "store folder ($LAB_STORE overrides the default)")
	fs.Var(&f.timeout, "timeout", "per-cell timeout, e.g. 90s or 2h (default: the spec's exec timeout; none if unset)")
	fs.IntVar(&f.retries, "retries", 0, "run a failed cell up to N more times before recording it failed")
}

// durationFlag is a time.Duration flag that reports its value as given.
type durationFlag struct{ spec.Duration }

func (d *durationFlag) Set(s string) error { return d.UnmarshalYAML([]byte(s)) }

func runRun(ctx context.Context, env *cmdEnv, args []string) error {
	fs := newFlags(env, "run", "SPEC [flags]")
	var f runFlags
	f.registerCommon(fs)
	fs.IntVar(&f.jobs, "j", 0, "cells to run at once (default: the number of --gpus; the sim engine: one per core; otherwise 1)")
	fs.StringVar(&f.gpus, "gpus", "", "comma-separated GPU ids; each running cell gets one as CUDA_VISIBLE_DEVICES")
	fs.BoolVar(&f.failFast, "fail-fast", false, "launch no further cell after the first failure (running cells finish)")
	noReport := fs.Bool("no-report", false, "do not write the report (reports/<experiment>/) after the run")
	reportsDir := fs.String("reports", "reports", "folder that receives the report folder <experiment>/")
	noSelect := fs.Bool("no-select", false, "do not print the selection (what lab select SPEC prints) after the run")
	noConfirm := fs.Bool("no-confirm", false, "do not run the prompt_weight confirmation (derived weight vs the configured one at the decision) after the run")
	var sf slurmFlags
	sf.register(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return &exitCodeError{code: 2, err: fmt.Errorf("expected one SPEC file, got %d arguments", len(pos))}
	}
	if f.jobs < 0 {
		return &exitCodeError{code: 2, err: fmt.Errorf("-j must be ≥ 1 (or 0 for the default), got %d", f.jobs)}
	}
	if f.retries < 0 {
		return &exitCodeError{code: 2, err: fmt.Errorf("--retries must be ≥ 0, got %d", f.retries)}
	}
	var gpus []string
	if f.gpus != "" {
		seen := map[string]bool{}
		for _, g := range strings.Split(f.gpus, ",") {
			g = strings.TrimSpace(g)
			if g == "" || seen[g] {
				return &exitCodeError{code: 2, err: fmt.Errorf("--gpus %q: expected distinct GPU ids separated by commas, e.g. 0,1,2,3", f.gpus)}
			}
			seen[g] = true
			gpus = append(gpus, g)
		}
	}
	// Checked before any cell runs rather than when the report is written.
	if _, err := generatedTime(); err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	x, err := experiment.Open(pos[0], f.store, experiment.Options{})
	if err != nil {
		return err
	}
	opts := x.RunOptions()
	opts.Jobs, opts.GPUs, opts.FailFast = f.jobs, gpus, f.failFast
	opts.Timeout, opts.Retries = f.timeout.Duration.Duration, f.retries
	sx, err := sf.build(f)
	if err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	if sx != nil {
		opts.Executor, opts.ExecutorName = sx, "slurm"
	}
	opts.Progress = env.stderr
	if fd, ok := env.stderr.(*os.File); ok && term.IsTerminal(int(fd.Fd())) {
		opts.IsTTY = true
	}
	res, err := x.Run(ctx, *opts)
	if sx != nil && sx.Detach {
		return reportDetached(env, opts, pos[0], sx, res, err)
	}
	if res != nil {
		fmt.Fprintf(env.stdout, "%s: %d cells: %d cached, %d ran", opts.Spec.Name, res.Total, res.Cached, res.Ran)
		if res.Elsewhere > 0 {
			fmt.Fprintf(env.stdout, ", %d run by another process", res.Elsewhere)
		}
		fmt.Fprintf(env.stdout, " (%d ok, %d failed)", res.OK, res.Failed)
		if n := res.Interrupted + res.NotRun; n > 0 {
			fmt.Fprintf(env.stdout, ", %d not run", n)
		}
		fmt.Fprintf(env.stdout, "; store %s\n", opts.Store.Root())
		for _, o := range res.Outcomes {
			if o.State == runner.StateFailed && o.Record != nil {
				fmt.Fprintf(env.stdout, "  failed %s repeat=%d %s: exit %d: %s (logs: %s)\n", o.Cell.Point.Key(opts.Spec.ParamNames()),
					o.Cell.Repeat, o.Hash[:12], o.Record.ExitCode, o.Record.Reason, opts.Store.CellDir(o.Hash))
			}
		}
	}
	if err != nil {
		return &exitCodeError{code: 1, err: err}
	}
	// The confirmation, the summary and the report show one analysis,
	// computed once.
	if !*noSelect || !*noReport || !*noConfirm {
		a, err := x.Analyze(experiment.AnalyzeOptions{})
		if !*noConfirm && res.Failed == 0 && err == nil {
			runConfirmAfter(ctx, env, x, a, opts)
		}
		if !*noSelect {
			runSelectAfter(env, a, err)
		}
		if !*noReport {
			runReportAfter(env, x, a, err, *reportsDir)
		}
	}
	if res.Failed > 0 {
		return &exitCodeError{code: 1, err: fmt.Errorf("%d of %d cells failed", res.Failed, res.Total)}
	}
	return nil
}

// openRun opens the experiment of specPath on the store at storeRoot and
// returns its runner options (spec, engine, store, version).
func openRun(specPath, storeRoot string) (*runner.Options, error) {
	x, err := experiment.Open(specPath, storeRoot, experiment.Options{})
	if err != nil {
		return nil, err
	}
	return x.RunOptions(), nil
}

// parseInterleaved parses flags that may come before or after the
// positional arguments (`lab run spec.yaml -j 4`), which the flag package
// alone stops at. "--" ends flag parsing.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			// The flag package has printed the problem and the usage.
			return nil, &exitCodeError{code: 2}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
