package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"

	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/report"
)

func init() {
	register(&command{
		name:  "report",
		usage: "SPEC [--store DIR] [--out reports]: write reports/<experiment>/index.html, summary.json and summary.csv",
		run:   runReport,
	})
}

func runReport(ctx context.Context, env *cmdEnv, args []string) error {
	flags := newFlags(env, "report", "SPEC [--store DIR] [--out DIR]")
	storeRoot := flags.String("store", store.DefaultRoot(), "store folder ($LAB_STORE overrides the default)")
	out := flags.String("out", report.DefaultRoot, "folder that receives the report folder <experiment>/")
	pos, err := parseInterleaved(flags, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		flags.Usage()
		return &exitCodeError{code: 2, err: fmt.Errorf("expected one SPEC file, got %d arguments", len(pos))}
	}
	// Checked before the experiment is loaded and analyzed.
	generated, err := generatedTime()
	if err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	if _, err := os.Stat(*storeRoot); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store %s does not exist: run `lab run %s` first (or pass --store)", *storeRoot, pos[0])
	}
	x, err := experiment.Open(pos[0], *storeRoot, experiment.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	a, err := x.Analyze(experiment.AnalyzeOptions{})
	if err != nil {
		return err
	}
	page, err := x.WriteReport(a, *out, generated)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "report: %s\n", page)
	return nil
}

// runReportAfter writes the report of a (or says why analysisErr left
// none) at the end of `lab run` (unless --no-report). A report that cannot be written (e.g. no cell has results)
// is a warning: it never changes the run's exit status.
func runReportAfter(env *cmdEnv, x *experiment.Experiment, a *experiment.Analysis, analysisErr error, reportsDir string) {
	page, err := "", analysisErr
	var generated time.Time
	if err == nil {
		generated, err = generatedTime()
	}
	if err == nil {
		page, err = x.WriteReport(a, reportsDir, generated)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "lab run: no report: %v\n", err)
		return
	}
	fmt.Fprintf(env.stdout, "report: %s\n", page)
}

// generatedTime is the date a report says it was generated: now, or
// SOURCE_DATE_EPOCH (whole seconds since 1970-01-01 UTC) when it is set —
// the reproducible-builds convention — because that date is the only thing
// that differs between two reports of the same inputs, and a fixed one
// makes the folders identical byte for byte (e.g. to diff or archive them).
func generatedTime() (time.Time, error) {
	// The report prints a four-digit year.
	const lastSecondOf9999 = 253402300799 // 9999-12-31 23:59:59 UTC
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Now(), nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec < 0 || sec > lastSecondOf9999 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: expected whole seconds since 1970-01-01 UTC, e.g. 1767225600 for 2026-01-01", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}
