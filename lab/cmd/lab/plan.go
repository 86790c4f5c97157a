package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/internal/runner/slurm"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/spec"
)

func init() {
	register(&command{
		name:  "plan",
		usage: "SPEC [--json] [--store DIR]: list the experiment's cells and which would run",
		run:   func(ctx context.Context, env *cmdEnv, args []string) error { return listCells(env, "plan", args) },
	})
	register(&command{
		name:  "status",
		usage: "SPEC [--json] [--store DIR]: list the experiment's cells with state, duration and failure reason",
		run:   func(ctx context.Context, env *cmdEnv, args []string) error { return listCells(env, "status", args) },
	})
}

// cellRow is one cell in `lab plan/status --json` (schema: stable).
type cellRow struct {
	Hash            string             `json:"hash"`
	Params          map[string]float64 `json:"params"`
	Repeat          int                `json:"repeat"`
	Seed            int64              `json:"seed"`
	State           string             `json:"state"`
	DurationSeconds *float64           `json:"duration_seconds,omitempty"`
	ExitCode        *int               `json:"exit_code,omitempty"`
	Reason          string             `json:"reason,omitempty"`
	Attempts        int                `json:"attempts,omitempty"`
	End             *time.Time         `json:"end,omitempty"`
	// Requests, RequestsFailed and Unavailable are the cell's
	// run_summary.json facts (cells whose engine writes one).
	Requests       *int     `json:"requests,omitempty"`
	RequestsFailed *int     `json:"requests_failed,omitempty"`
	Unavailable    []string `json:"unavailable,omitempty"`
}

type cellList struct {
	Experiment     string         `json:"experiment"`
	Spec           string         `json:"spec"`
	ExperimentHash string         `json:"experiment_hash"`
	Engine         string         `json:"engine"`
	Store          string         `json:"store"`
	Counts         map[string]int `json:"counts"`
	Cells          []cellRow      `json:"cells"`
	// Slurm (status only): the Slurm runs of the experiment's cells with
	// tasks still queued or running, and the latest one.
	Slurm []slurm.RunStatus `json:"slurm,omitempty"`
}

func listCells(env *cmdEnv, name string, args []string) error {
	fs := newFlags(env, name, "SPEC [--json] [--store DIR]")
	storeRoot := fs.String("store", store.DefaultRoot(), "store folder ($LAB_STORE overrides the default)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return &exitCodeError{code: 2, err: fmt.Errorf("expected one SPEC file, got %d arguments", len(pos))}
	}
	// Listing writes nothing: no store appears where none was.
	x, err := experiment.Open(pos[0], *storeRoot, experiment.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	cells, err := x.Cells()
	if err != nil {
		return err
	}
	l := cellList{
		Experiment: x.Spec.Name, Spec: pos[0], ExperimentHash: x.Spec.Hash(), Engine: x.Engine.Kind(),
		Store: x.Store.Root(), Counts: map[string]int{},
	}
	// The four usual states are always counted; corrupt only when present.
	for _, st := range []experiment.State{experiment.Missing, experiment.OK, experiment.Failed, experiment.Running} {
		l.Counts[string(st)] = 0
	}
	hashes := make([]string, len(cells))
	for i, c := range cells {
		row := cellRow{Hash: c.Hash, Params: c.Point, Repeat: c.Repeat, Seed: c.Seed, State: string(c.State), Reason: c.Reason}
		if rec := c.Record; rec != nil {
			d, code, end := rec.DurationSeconds, rec.ExitCode, rec.End
			row.DurationSeconds, row.ExitCode, row.End = &d, &code, &end
			row.Reason, row.Attempts = rec.Reason, rec.Attempts
		}
		if c.State == experiment.OK {
			if err := addRunFacts(&row, x.Store.CellDir(c.Hash)); err != nil {
				return err
			}
		}
		l.Counts[string(c.State)]++
		l.Cells = append(l.Cells, row)
		hashes[i] = c.Hash
	}
	if name == "status" {
		if l.Slurm, err = slurm.Status(context.Background(), x.Store.Root(), hashes); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(l)
	}
	printCells(env.stdout, &l, x.Spec.ParamNames(), name == "status")
	for _, r := range l.Slurm {
		fmt.Fprintln(env.stdout, r.String())
	}
	return nil
}

func printCells(w io.Writer, l *cellList, names []string, status bool) {
	todo := l.Counts[string(experiment.Missing)] + l.Counts[string(experiment.Failed)]
	corrupt := ""
	if n := l.Counts[string(experiment.Corrupt)]; n > 0 {
		corrupt = fmt.Sprintf(", %d corrupt (lab verify)", n)
	}
	fmt.Fprintf(w, "%s (%s engine, experiment %s): %d cells: %d ok, %d failed, %d missing, %d running%s; %d to run\n",
		l.Experiment, l.Engine, l.ExperimentHash[:12], len(l.Cells), l.Counts[string(experiment.OK)], l.Counts[string(experiment.Failed)],
		l.Counts[string(experiment.Missing)], l.Counts[string(experiment.Running)], corrupt, todo)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if status {
		fmt.Fprintln(tw, "HASH\tPARAMETERS\tREPEAT\tSTATE\tDURATION\tREASON")
	} else {
		fmt.Fprintln(tw, "HASH\tPARAMETERS\tREPEAT\tSTATE")
	}
	for _, c := range l.Cells {
		key := spec.Point(c.Params).Key(names)
		if !status {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", c.Hash[:12], key, c.Repeat, c.State)
			continue
		}
		dur := "-"
		if c.DurationSeconds != nil {
			dur = statusDuration(*c.DurationSeconds)
		}
		reason := strings.ReplaceAll(c.Reason, "\n", " ")
		if c.State == string(experiment.Failed) && c.ExitCode != nil {
			reason = fmt.Sprintf("exit %d: %s", *c.ExitCode, reason)
		}
		if c.State == string(experiment.OK) && c.RequestsFailed != nil && *c.RequestsFailed > 0 {
			reason = fmt.Sprintf("%d of %d requests failed", *c.RequestsFailed, *c.Requests)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", c.Hash[:12], key, c.Repeat, c.State, dur, reason)
	}
	tw.Flush()
}

// statusDuration formats a cell's duration for lab status: to the
// millisecond under a second (a simulator cell takes ~50 ms, which rounding
// to tenths showed as "0s" or "100ms"), to a tenth of a second above.
func statusDuration(seconds float64) string {
	d := time.Duration(math.Round(seconds*1e3)) * time.Millisecond
	if d < time.Second {
		return d.String()
	}
	return d.Round(100 * time.Millisecond).String()
}
