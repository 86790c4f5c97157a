package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schedlab/schedlab/lab/internal/runner"
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

// Cell states listed by plan and status.
const (
	cellMissing = "missing"
	cellOK      = "ok"
	cellFailed  = "failed"
	cellRunning = "running" // its lock is held: a run is writing it now
)

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
	opts, err := openSpecStore(pos[0], *storeRoot, store.OpenReadOnly)
	if err != nil {
		return err
	}
	plan, err := runner.Plan(opts.Spec, opts.Engine)
	if err != nil {
		return err
	}
	l := cellList{
		Experiment: opts.Spec.Name, Spec: pos[0], ExperimentHash: opts.Spec.Hash(), Engine: opts.Engine.Kind(),
		Store: opts.Store.Root(), Counts: map[string]int{cellMissing: 0, cellOK: 0, cellFailed: 0, cellRunning: 0},
	}
	for _, p := range plan {
		state, rec, err := cellState(opts.Store, p.Hash)
		var corrupt *store.CorruptError
		reason := ""
		if errors.As(err, &corrupt) {
			// `lab run` treats it as missing and runs it again.
			state, rec, err, reason = cellMissing, nil, nil, err.Error()
		}
		if err != nil {
			return err
		}
		row := cellRow{Hash: p.Hash, Params: p.Cell.Point, Repeat: p.Cell.Repeat, Seed: p.Cell.Seed, State: state, Reason: reason}
		if rec != nil {
			d, code, end := rec.DurationSeconds, rec.ExitCode, rec.End
			row.DurationSeconds, row.ExitCode, row.End = &d, &code, &end
			row.Reason, row.Attempts = rec.Reason, rec.Attempts
		}
		l.Counts[state]++
		l.Cells = append(l.Cells, row)
	}
	if name == "status" {
		hashes := make([]string, len(plan))
		for i, p := range plan {
			hashes[i] = p.Hash
		}
		if l.Slurm, err = slurm.Status(context.Background(), opts.Store.Root(), hashes); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(l)
	}
	printCells(env.stdout, &l, opts.Spec.ParamNames(), name == "status")
	for _, r := range l.Slurm {
		fmt.Fprintln(env.stdout, r.String())
	}
	return nil
}

// cellState is a cell's state in the store. "running" means a run holds
// the cell's lock (Store.Locked only looks: it writes nothing, so status
// works on a store it cannot write to; where it may not even read the lock
// files, the recorded state is reported). A cell committed ok is ok even
// while locked: the lock holder is then a run that found it done.
func cellState(st *store.Store, hash string) (string, *store.Record, error) {
	rec, err := st.Get(hash)
	if err != nil {
		return "", nil, err
	}
	if rec.OK() {
		return cellOK, rec, nil
	}
	busy, err := st.Locked(hash)
	if errors.Is(err, fs.ErrPermission) {
		// Someone else's store whose lock files we may not open: the
		// recorded state is all we can tell.
		busy, err = false, nil
	}
	if err != nil {
		return "", nil, err
	}
	if busy {
		return cellRunning, rec, nil
	}
	// Read again: a run may have committed the cell (and released its
	// lock) since the first read.
	if rec, err = st.Get(hash); err != nil {
		return "", nil, err
	}
	switch {
	case rec.OK():
		return cellOK, rec, nil
	case rec == nil:
		return cellMissing, nil, nil
	}
	return cellFailed, rec, nil
}

func printCells(w io.Writer, l *cellList, names []string, status bool) {
	todo := l.Counts[cellMissing] + l.Counts[cellFailed]
	fmt.Fprintf(w, "%s (%s engine, experiment %s): %d cells: %d ok, %d failed, %d missing, %d running; %d to run\n",
		l.Experiment, l.Engine, l.ExperimentHash[:12], len(l.Cells), l.Counts[cellOK], l.Counts[cellFailed],
		l.Counts[cellMissing], l.Counts[cellRunning], todo)
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
		if c.State == cellFailed && c.ExitCode != nil {
			reason = fmt.Sprintf("exit %d: %s", *c.ExitCode, reason)
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
