// Package experiment is the one way into an experiment: a spec, the engine
// it declares and the store that holds its cells. Every consumer — the lab
// command (run, plan, status, select, prompt-weight, report, import) and
// the notebooks — opens an experiment here, classifies its cells with
// Cells and analyses it with Analyze, so they all see the same cells in
// the same states and print the same numbers.
//
// Opening never runs anything: Run is the only call that runs cells.
package experiment

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
	labversion "github.com/schedlab/schedlab/lab/internal/version"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// Options say how Open opens the store.
type Options struct {
	// ReadOnly opens the store without creating or writing anything, so
	// listing and analysing work on a store the caller may not write to
	// and leave no store where there was none. Run and ImportLegacy need
	// a writable store.
	ReadOnly bool
}

// Experiment is an opened experiment: its spec, its engine and its store.
type Experiment struct {
	Spec   *spec.Spec
	Engine engine.Engine
	Store  *store.Store
}

// Open parses the spec at specPath and opens the store at storeDir. It
// runs nothing and reads no cell.
func Open(specPath, storeDir string, opts Options) (*Experiment, error) {
	s, err := spec.ParseFile(specPath)
	if err != nil {
		return nil, err
	}
	return OpenSpec(s, storeDir, opts)
}

// OpenSpec is Open for a spec already parsed.
func OpenSpec(s *spec.Spec, storeDir string, opts Options) (*Experiment, error) {
	e, err := NewEngine(s)
	if err != nil {
		return nil, err
	}
	open := store.Open
	if opts.ReadOnly {
		open = store.OpenReadOnly
	}
	st, err := open(storeDir)
	if err != nil {
		return nil, err
	}
	return &Experiment{Spec: s, Engine: e, Store: st}, nil
}

// Name names the experiment in messages: its spec file, or "spec NAME"
// for a spec that has no file.
func (x *Experiment) Name() string { return specName(x.Spec) }

// State is a cell's state in the store.
type State string

// The states of a cell. Every cell of an experiment is in exactly one.
const (
	// OK: committed with results; the analysis reads them.
	OK State = "ok"
	// Failed: committed as failed (Cell.Reason says why); a run retries it.
	Failed State = "failed"
	// Missing: not in the store; a run produces it.
	Missing State = "missing"
	// Running: a run holds the cell's lock and is writing it now.
	Running State = "running"
	// Corrupt: the cell's folder is in the store but its record cannot be
	// read (Cell.Reason holds the error); `lab verify` examines it.
	Corrupt State = "corrupt"
)

// Cell is one cell of the experiment with its state.
type Cell struct {
	spec.Cell
	// Hash is the cell's store address.
	Hash  string
	State State
	// Record is the committed record (nil when missing or corrupt, and
	// for a running cell never committed before).
	Record *store.Record
	// Reason says why a failed cell failed (its record's reason) or why a
	// corrupt one cannot be read.
	Reason string
}

// Where names the cell in messages: "min_chunk_threshold=6 repeat 2
// (cell 0123456789ab)".
func (c *Cell) Where(names []string) string {
	return fmt.Sprintf("%s %s (cell %.12s)", c.Point.Key(names), RepeatName(c.Repeat), c.Hash)
}

// Plan is every cell of the experiment with its store address, in the
// order of the spec's cells.
func (x *Experiment) Plan() ([]runner.Planned, error) { return runner.Plan(x.Spec, x.Engine) }

// Cells classifies every cell of the experiment, in the order of the
// spec's cells. It only reads the store (and probes cell locks without
// taking them), so it works on a read-only store.
func (x *Experiment) Cells() ([]Cell, error) {
	plan, err := x.Plan()
	if err != nil {
		return nil, err
	}
	out := make([]Cell, len(plan))
	for i, p := range plan {
		c, err := classify(x.Store, p)
		if err != nil {
			return nil, fmt.Errorf("%s: cell %s: %w", x.Name(), p.Hash, err)
		}
		out[i] = c
	}
	return out, nil
}

// classify is the one place a cell's state is decided. A cell committed
// ok is ok even while locked (the lock holder is then a run that found it
// done). Where the lock files may not be opened (someone else's store)
// the recorded state is reported. After the lock probe the record is read
// again: a run may have committed the cell and released its lock since the
// first read.
func classify(st *store.Store, p runner.Planned) (Cell, error) {
	c := Cell{Cell: p.Cell, Hash: p.Hash}
	rec, err := st.Get(p.Hash)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return c, err
		}
		c.State, c.Reason = Corrupt, corruptReason(st, p.Hash, err)
		return c, nil
	}
	if rec.OK() {
		c.State, c.Record = OK, rec
		return c, nil
	}
	busy, err := st.Locked(p.Hash)
	if errors.Is(err, fs.ErrPermission) {
		busy, err = false, nil
	}
	if err != nil {
		return c, err
	}
	if busy {
		c.State, c.Record = Running, rec
		return c, nil
	}
	if rec, err = st.Get(p.Hash); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return c, err
		}
		c.State, c.Reason = Corrupt, corruptReason(st, p.Hash, err)
		return c, nil
	}
	switch {
	case rec == nil:
		c.State = Missing
	case rec.OK():
		c.State, c.Record = OK, rec
	default:
		c.State, c.Record, c.Reason = Failed, rec, rec.Reason
	}
	return c, nil
}

// corruptReason says which record could not be read and why.
func corruptReason(st *store.Store, hash string, err error) string {
	return filepath.Join(st.CellDir(hash), store.RecordFile) + ": " + err.Error()
}

// Table loads the results of the ok cells among cells (as returned by
// Cells) into an analysis table over the whole sweep. Every other cell is
// left absent and named in the table's warnings; the selection then leaves
// those repeats out at those points. It fails when no cell has results.
func (x *Experiment) Table(cells []Cell) (*analysis.Table, error) {
	s := x.Spec
	names := s.ParamNames()
	specPoints := s.Points()
	points := make([]analysis.Point, len(specPoints))
	for i, p := range specPoints {
		points[i] = SpecPoint(p, names)
	}
	repeats := make([]string, s.Repeats)
	for r := range repeats {
		repeats[r] = RepeatName(r)
	}
	t := analysis.NewTable(names, points, repeats)
	var files []analysis.CellFiles
	var facts runFacts
	failed := 0
	for i := range cells {
		c := &cells[i]
		where := c.Where(names)
		switch c.State {
		case OK:
			dir := filepath.Join(x.Store.CellDir(c.Hash), sarathi.PlotsDir)
			un, err := facts.add(replicaDir(dir), where)
			if err != nil {
				return nil, err
			}
			files = append(files, analysis.CellFiles{
				Repeat:      c.Repeat,
				Point:       SpecPoint(c.Point, names),
				Dir:         dir,
				Unavailable: un,
			})
		case Missing:
			t.Warnings = append(t.Warnings, where+": not run yet")
		case Running:
			t.Warnings = append(t.Warnings, where+": running now")
		case Failed:
			failed++
			t.Warnings = append(t.Warnings, fmt.Sprintf("%s: failed: %s", where, c.Reason))
		case Corrupt:
			failed++
			t.Warnings = append(t.Warnings, fmt.Sprintf("%s: corrupt: %s", where, c.Reason))
		}
	}
	switch {
	case len(files) == 0 && failed > 0:
		return nil, fmt.Errorf("%s: no cell of experiment %s has results in store %s: %d failed (`lab status %s` lists them with their reasons)",
			x.Name(), s.Name, x.Store.Root(), failed, x.Name())
	case len(files) == 0:
		return nil, fmt.Errorf("%s: no cell of experiment %s has results in store %s (run `lab run %s` first)",
			x.Name(), s.Name, x.Store.Root(), x.Name())
	}
	if err := t.Load(files); err != nil {
		return nil, err
	}
	t.Warnings = append(t.Warnings, facts.warnings()...)
	return t, nil
}

// RunOptions say how Run runs the cells; Run fills in the experiment's
// spec, engine and store and the lab's version.
type RunOptions = runner.Options

// RunResult counts what Run did.
type RunResult = runner.Result

// Run runs the cells the store lacks (or holds as failed), as `lab run`
// does; a complete experiment is only looked up.
func (x *Experiment) Run(ctx context.Context, o RunOptions) (*RunResult, error) {
	x.fill(&o)
	return runner.Run(ctx, o)
}

// RunOptions returns the runner options of this experiment with nothing
// else set (one cell at a time, no progress output).
func (x *Experiment) RunOptions() *RunOptions {
	o := &RunOptions{}
	x.fill(o)
	return o
}

func (x *Experiment) fill(o *RunOptions) {
	o.Spec, o.Engine, o.Store = x.Spec, x.Engine, x.Store
	o.LabVersion, o.LabCommit = labversion.Version, labversion.VCSCommit()
}
