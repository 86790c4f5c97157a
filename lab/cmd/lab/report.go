package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/schedlab/schedlab/lab"
	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/report"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
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
	s, err := spec.ParseFile(pos[0])
	if err != nil {
		return err
	}
	if _, err := os.Stat(*storeRoot); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store %s does not exist: run `lab run %s` first (or pass --store)", *storeRoot, pos[0])
	}
	st, err := store.Open(*storeRoot)
	if err != nil {
		return err
	}
	page, err := writeReport(s, st, *out, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "report: %s\n", page)
	return nil
}

// writeReport writes the report of s from the results in st into
// <outRoot>/<experiment>/ and returns the page's path. `lab report` and
// the end of `lab run` both call it.
func writeReport(s *spec.Spec, st *store.Store, outRoot string, now time.Time) (string, error) {
	in, err := reportInput(s, st)
	if err != nil {
		return "", err
	}
	in.Generated = now
	dir := report.Dir(outRoot, s.Name)
	if err := report.Write(dir, in); err != nil {
		return "", err
	}
	return filepath.Join(dir, report.HTMLFile), nil
}

// reportInput gathers what the report shows: the cells' states and
// provenance from their records, the table and every selection from
// lab/analysis.
func reportInput(s *spec.Spec, st *store.Store) (*report.Input, error) {
	e, err := lab.NewEngine(s)
	if err != nil {
		return nil, err
	}
	plan, err := runner.Plan(s, e)
	if err != nil {
		return nil, err
	}
	in := &report.Input{
		Name:        s.Name,
		Description: s.Description,
		Spec:        s,
		Hash:        s.Hash(),
		Engine:      e.Kind(),
		LabVersion:  version(),
	}
	if id, err := json.MarshalIndent(e.Identity(), "", "  "); err == nil {
		in.EngineConfig = string(id)
	}
	names := s.ParamNames()
	hosts, gpus := map[string]bool{}, map[string]bool{}
	for _, p := range plan {
		rec, err := st.Get(p.Hash)
		if err != nil {
			return nil, fmt.Errorf("cell %s: %w", p.Hash, err)
		}
		in.Cells.Total++
		switch {
		case rec == nil:
			in.Cells.Missing++
			continue
		case rec.OK():
			in.Cells.OK++
		default:
			in.Cells.Failed++
			in.FailedCells = append(in.FailedCells, fmt.Sprintf("%s %s (cell %.12s): exit %d: %s",
				p.Cell.Point.Key(names), lab.RepeatName(p.Cell.Repeat), p.Hash, rec.ExitCode, rec.Reason))
		}
		if rec.Host != "" {
			hosts[rec.Host] = true
		}
		if rec.GPUName != "" {
			g := rec.GPUName
			if rec.GPUDriver != "" {
				g += " (driver " + rec.GPUDriver + ")"
			}
			gpus[g] = true
		}
	}
	in.Hosts, in.GPUs = sortedSet(hosts), sortedSet(gpus)

	in.Table, err = lab.LoadTable(s, st)
	if err != nil {
		return nil, err
	}
	presets := lab.Presets(s)
	in.Selections, err = analysis.SelectAll(in.Table, presets, lab.SpecBaseline(s))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Path, err)
	}
	head := lab.Headline(s, in.Selections)
	in.Headline = report.Headline{Preset: head.Preset, Aggregation: head.Agg}

	// Statistics and prompt_weight use the spec's seed (and margin), as
	// `lab select SPEC` does, so the numbers agree with it.
	in.Significance, err = head.Significance(lab.SignificanceOptions(s))
	if none, skip := noStatistics(err); skip {
		// As lab select: the selection stands, the page says why it has no statistics.
		in.Significance, in.NoStatistics = nil, none
	} else if err != nil {
		return nil, fmt.Errorf("%s: statistics: %w", s.Path, err)
	}
	if in.Significance != nil {
		if in.Joint, err = lab.Joint(s, in.Table, head, in.Significance); err != nil {
			return nil, fmt.Errorf("%s: grid: %w", s.Path, err)
		}
	}
	if in.Conditions, err = lab.Conditions(s, in.Table, lab.SignificanceOptions(s)); err != nil {
		return nil, fmt.Errorf("%s: conditions: %w", s.Path, err)
	}
	files, err := in.Table.Files(head.Recommended(), sarathi.PrefillExecPlusPreemptNorm)
	if err != nil {
		return nil, err
	}
	in.PromptWeight, err = analysis.SecondsPerPrefillToken(files, lab.PromptWeightOptions(s))
	if err != nil {
		return nil, fmt.Errorf("%s: prompt_weight: %w", s.Path, err)
	}
	return in, nil
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// runReportAfter writes the report at the end of `lab run` (unless
// --no-report). A report that cannot be written (e.g. no cell has results)
// is a warning: it never changes the run's exit status.
func runReportAfter(env *cmdEnv, opts *runner.Options, reportsDir string) {
	page, err := writeReport(opts.Spec, opts.Store, reportsDir, time.Now())
	if err != nil {
		fmt.Fprintf(env.stderr, "lab run: no report: %v\n", err)
		return
	}
	fmt.Fprintf(env.stdout, "report: %s\n", page)
}
