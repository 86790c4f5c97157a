package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/schedlab/schedlab/lab/internal/runner"
)

func init() {
	register(&command{
		name:     "cell",
		finishes: true,
		usage:    "run SPEC --cell HASH [--store DIR]: (internal) run one cell, as a cluster task does",
		run:      runCell,
	})
}

// runCell is `lab cell run`: the per-cell path of `lab run` (runner.RunCell)
// for one cell named by its hash. A Slurm array task calls it; so can a
// user who wants to rerun one cell by hand. It prints the outcome and exits
// 1 when the cell failed.
func runCell(ctx context.Context, env *cmdEnv, args []string) error {
	if len(args) == 0 || args[0] != "run" {
		return &exitCodeError{code: 2, err: fmt.Errorf("usage: lab cell run SPEC --cell HASH [--store DIR] [--timeout D] [--retries N]")}
	}
	fs := newFlags(env, "cell run", "SPEC --cell HASH [flags]")
	var f runFlags
	f.registerCommon(fs)
	hash := fs.String("cell", "", "the cell's hash, or a unique prefix of it (see lab plan)")
	executor := fs.String("executor", "local", "executor name recorded in cell.json (slurm for array tasks)")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 || *hash == "" {
		fs.Usage()
		return &exitCodeError{code: 2, err: fmt.Errorf("expected one SPEC file and --cell HASH")}
	}
	opts, err := openRun(pos[0], f.store)
	if err != nil {
		return err
	}
	opts.Timeout, opts.Retries, opts.ExecutorName = f.timeout.Duration.Duration, f.retries, *executor
	plan, err := runner.Plan(opts.Spec, opts.Engine)
	if err != nil {
		return err
	}
	// A unique prefix (the 12 characters `lab plan` prints) names a cell
	// as well as the full hash.
	var matches []runner.Planned
	for _, p := range plan {
		if *hash != "" && strings.HasPrefix(p.Hash, *hash) {
			matches = append(matches, p)
		}
	}
	if len(matches) > 1 {
		return &exitCodeError{code: 2, err: fmt.Errorf("--cell %s matches %d cells of %s; give more of the hash", *hash, len(matches), pos[0])}
	}
	for _, p := range matches {
		o, err := runner.RunCell(ctx, opts, p.Cell, "")
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %s repeat=%d %s", o.State, p.Cell.Point.Key(opts.Spec.ParamNames()), p.Cell.Repeat, p.Hash)
		if o.Elsewhere {
			line += " (run by another process)"
		}
		if o.State == runner.StateFailed {
			return &exitCodeError{code: 1, err: fmt.Errorf("%s: exit %d: %s", line, o.Record.ExitCode, o.Record.Reason)}
		}
		fmt.Fprintln(env.stdout, line)
		return nil
	}
	return &exitCodeError{code: 2, err: fmt.Errorf("%s has no cell %s (lab plan %s --json lists them)", pos[0], *hash, pos[0])}
}
