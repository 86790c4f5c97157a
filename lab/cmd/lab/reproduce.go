package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/schedlab/schedlab/lab/experiment"
	labversion "github.com/schedlab/schedlab/lab/internal/version"
	"github.com/schedlab/schedlab/lab/report"
	"github.com/schedlab/schedlab/lab/spec"
)

func init() {
	register(&command{
		name:  "reproduce",
		usage: "reports/<experiment>/summary.json [--store DIR] [-j N]: re-run the experiment of a report into a fresh store and check that every number matches",
		run:   runReproduce,
	})
}

// maxDiffsShown bounds the differences printed (all are counted).
const maxDiffsShown = 30

func runReproduce(ctx context.Context, env *cmdEnv, args []string) error {
	flags := newFlags(env, "reproduce", "SUMMARY.json [--store DIR] [-j N]")
	storeRoot := flags.String("store", "", "fresh store folder to run into (must be empty or absent; default: a temporary folder, removed afterwards)")
	jobs := flags.Int("j", 0, "cells to run at once (default 1)")
	pos, err := parseInterleaved(flags, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		flags.Usage()
		return &exitCodeError{code: 2, err: fmt.Errorf("expected one summary.json, got %d arguments", len(pos))}
	}
	path := pos[0]
	orig, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sum, err := report.ReadSummary(path)
	if err != nil {
		return err
	}
	r := sum.Reproduce
	if r == nil || r.Spec == "" {
		return fmt.Errorf("%s: no \"reproduce\" block with the spec (a report of a legacy tree, or written before reports carried one): nothing to re-run", path)
	}
	specPath := r.SpecPath
	if specPath == "" {
		specPath = path + "#reproduce.spec"
	}
	// The spec is parsed under its original path, so files it names
	// relative to its folder resolve as when it ran.
	s, err := spec.Parse(specPath, []byte(r.Spec))
	if err != nil {
		return fmt.Errorf("%s: the embedded spec: %w", path, err)
	}
	if h := s.Hash(); h != r.Hash {
		return fmt.Errorf("%s: the embedded spec hashes to %s, the report says %s: the file was edited", path, h, r.Hash)
	}
	e, err := experiment.NewEngine(s)
	if err != nil {
		return err
	}
	var was bytes.Buffer
	if id, err := json.Marshal(e.Identity()); err == nil && json.Compact(&was, r.Engine) == nil && !bytes.Equal(id, was.Bytes()) {
		fmt.Fprintf(env.stderr, "lab reproduce: note: the engine's identity differs from the report's (a different simulator, profile data or worker):\n  report: %s\n  now:    %s\n", was.Bytes(), id)
	}
	if r.VCSCommit != "" && labversion.VCSCommit() != r.VCSCommit {
		fmt.Fprintf(env.stderr, "lab reproduce: note: the report was made by lab %s, this is %s\n", r.VCSCommit, version())
	}

	root := *storeRoot
	if root == "" {
		root, err = os.MkdirTemp("", "lab-reproduce-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(root)
	} else if es, err := os.ReadDir(root); err == nil && len(es) > 0 {
		return &exitCodeError{code: 2, err: fmt.Errorf("--store %s is not empty: reproduce needs a fresh store, or cached cells would be compared with themselves", root)}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	x, err := experiment.OpenSpec(s, root, experiment.Options{})
	if err != nil {
		return err
	}
	res, err := x.Run(ctx, experiment.RunOptions{Jobs: *jobs, Progress: env.stderr})
	if err != nil {
		return &exitCodeError{code: 1, err: err}
	}
	fmt.Fprintf(env.stdout, "%s: %d cells ran (%d ok, %d failed) into %s\n", s.Name, res.Ran, res.OK, res.Failed, root)
	a, err := x.Analyze(experiment.AnalyzeOptions{})
	if err != nil {
		return err
	}
	if sum.Confirmation != nil {
		// The report's run confirmed prompt_weight (lab run does unless
		// --no-confirm): so does the re-run, or its numbers would be missing.
		runConfirmAfter(ctx, env, x, a, &experiment.RunOptions{Jobs: *jobs})
	}
	in, err := x.ReportInput(a)
	if err != nil {
		return err
	}
	in.LabVersion = sum.LabVersion
	now, err := report.BuildSummary(in)
	if err != nil {
		return err
	}
	nowJSON, err := now.JSON()
	if err != nil {
		return err
	}
	var diffs []string
	if r.Deterministic {
		n, d, err := report.DiffSummaries(orig, nowJSON)
		if err != nil {
			return err
		}
		diffs = d
		if len(diffs) == 0 {
			fmt.Fprintf(env.stdout, "reproduced: all %d numbers of %s are identical (bit for bit)\n", n, path)
			return nil
		}
		fmt.Fprintf(env.stdout, "NOT reproduced: %d of the report's fields differ (%d numbers compared, bit for bit):\n", len(diffs), n)
	} else {
		n, d, err := report.WithinStatistics(sum, now)
		if err != nil {
			return err
		}
		diffs = d
		if len(diffs) == 0 {
			fmt.Fprintf(env.stdout, "reproduced within the statistics: the same decision, and at all %d points the score-ratio intervals of the report and the re-run overlap (the %s engine is not deterministic: numbers are not compared bit for bit)\n", n, sum.Engine)
			return nil
		}
		fmt.Fprintf(env.stdout, "NOT reproduced within the statistics (%d points checked):\n", n)
	}
	for i, d := range diffs {
		if i == maxDiffsShown {
			fmt.Fprintf(env.stdout, "  … and %d more\n", len(diffs)-maxDiffsShown)
			break
		}
		fmt.Fprintf(env.stdout, "  %s\n", d)
	}
	return &exitCodeError{code: 1, err: fmt.Errorf("%s: %d differences", path, len(diffs))}
}
