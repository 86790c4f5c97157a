package slurm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
)

// Config is what `lab run --executor slurm` passes to sbatch and how the
// controller behaves. Retries and the per-cell timeout come from
// runner.Options (--retries, --timeout), like for local runs.
type Config struct {
	// Partition, Gres and Time become sbatch --partition, --gres (e.g.
	// "gpu:1": Slurm then sets CUDA_VISIBLE_DEVICES per task, which the
	// cell records) and --time; empty ones are left to the cluster's
	// defaults.
	Partition, Gres, Time string
	// MaxParallel caps the tasks of an array running at once (the %N of
	// --array); 0 means no cap.
	MaxParallel int
	// SbatchArgs are passed to sbatch as they are, after ours (sbatch lets
	// a later option win), e.g. --account=… or --qos=….
	SbatchArgs []string
	// Detach submits and returns: no controller polls the arrays, so a
	// failed cell is retried inside its task (lab cell run --retries)
	// rather than resubmitted.
	Detach bool
	// Poll is how often squeue is asked (default 2s).
	Poll time.Duration
	// LabBinary is the lab executable tasks run (default: this process's
	// own, os.Executable); it must be reachable from the compute nodes.
	LabBinary string
	// SpecPath is the spec file tasks read (default: the spec's own Path).
	SpecPath string
	// LostGrace is how long a task may be gone from squeue without its
	// exit record before it counts as lost (default 30s: exit records can
	// take a while to show on a network filesystem).
	LostGrace time.Duration
	// CancelWait bounds the wait for cancelled tasks to leave squeue
	// (default 2m, more than Slurm's default KillWait of 30s).
	CancelWait time.Duration
	// ArrayLimit caps the tasks of one array below the cluster's
	// MaxArraySize (0: MaxArraySize only); a bigger plan becomes several
	// arrays, each waiting for the one before (--dependency=afterany).
	ArrayLimit int
}

func (c *Config) check() error {
	switch {
	case c.MaxParallel < 0:
		return fmt.Errorf("slurm: --max-parallel must be ≥ 0, got %d", c.MaxParallel)
	case c.ArrayLimit < 0:
		return fmt.Errorf("slurm: array limit must be ≥ 0, got %d", c.ArrayLimit)
	case c.Poll < 0:
		return fmt.Errorf("slurm: poll interval must be > 0, got %v", c.Poll)
	}
	for _, a := range c.SbatchArgs {
		if strings.HasPrefix(a, "--array") || a == "-a" || strings.HasPrefix(a, "--wait") || a == "-W" {
			return fmt.Errorf("slurm: --sbatch-arg %q: lab sets the array itself and polls squeue instead of waiting", a)
		}
	}
	return nil
}

// Executor runs cells as Slurm job arrays (runner.Executor). Use one
// Executor per run.
type Executor struct {
	Config

	mu  sync.Mutex
	dir string
	m   *Manifest
}

// RunDir is the folder of the last run Execute started ("" before).
func (e *Executor) RunDir() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dir
}

// JobIDs are the array job ids the last run submitted, in order.
func (e *Executor) JobIDs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		return nil
	}
	var ids []string
	for _, a := range e.m.Arrays {
		if a.JobID != "" {
			ids = append(ids, a.JobID)
		}
	}
	return ids
}

// controller is one run: its manifest, and the outcomes it has reported.
type controller struct {
	e     *Executor
	opts  *runner.Options
	dir   string
	m     *Manifest
	cells map[string]runner.Planned
	out   io.Writer
	poll  time.Duration
	max   int // tasks per array (Slurm's MaxArraySize)
}

// Execute implements runner.Executor: it submits cells as one array (more
// when the plan exceeds the cluster's MaxArraySize: they then run one
// after the other) and, unless Detach, follows them to the end.
func (e *Executor) Execute(ctx context.Context, opts *runner.Options, cells []runner.Planned, done func(runner.Outcome)) error {
	if err := e.check(); err != nil {
		return err
	}
	if len(cells) == 0 {
		return nil
	}
	c, err := e.start(ctx, opts, cells)
	if err != nil {
		return err
	}
	if e.Detach {
		_, err := c.submit(ctx, cells, 1)
		return err
	}
	pending := cells
	for round := 1; ; round++ {
		arrays, err := c.submit(ctx, pending, round)
		if err != nil {
			return err
		}
		final := round > opts.Retries
		failed, err := c.watch(ctx, arrays, final, done)
		if err != nil || ctx.Err() != nil || len(failed) == 0 {
			return err
		}
		fmt.Fprintf(c.out, "slurm: %d cells failed; resubmitting them (retry %d of %d)\n", len(failed), round, opts.Retries)
		pending = failed
	}
}

// start creates the run folder and its first manifest.
func (e *Executor) start(ctx context.Context, opts *runner.Options, cells []runner.Planned) (*controller, error) {
	lab := e.LabBinary
	if lab == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("slurm: finding the lab binary for the tasks: %w", err)
		}
		if exe, err = filepath.EvalSymlinks(exe); err != nil {
			return nil, fmt.Errorf("slurm: finding the lab binary for the tasks: %w", err)
		}
		lab = exe
	}
	specPath := e.SpecPath
	if specPath == "" {
		specPath = opts.Spec.Path
	}
	if specPath == "" {
		return nil, errors.New("slurm: the spec has no file: tasks read the spec from a file every node can see")
	}
	var err error
	if lab, err = filepath.Abs(lab); err != nil {
		return nil, err
	}
	if specPath, err = filepath.Abs(specPath); err != nil {
		return nil, err
	}
	id, err := newRunID(time.Now())
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(opts.Store.Root(), Dir, id)
	for _, d := range []string{"exit", "out"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o777); err != nil {
			return nil, fmt.Errorf("slurm: %w", err)
		}
	}
	m := &Manifest{
		Format: ManifestFormat, Run: id, Experiment: opts.Spec.Name, ExperimentHash: opts.Spec.Hash(),
		Spec: specPath, Store: opts.Store.Root(), Lab: lab, Created: time.Now().UTC(), Detached: e.Detach,
		Sbatch: e.sbatchOptions(), Arrays: []Array{},
	}
	if err := m.write(dir); err != nil {
		return nil, fmt.Errorf("slurm: %w", err)
	}
	e.mu.Lock()
	e.dir, e.m = dir, m
	e.mu.Unlock()
	c := &controller{e: e, opts: opts, dir: dir, m: m, cells: map[string]runner.Planned{}, out: opts.Progress, poll: e.Poll}
	if c.out == nil {
		c.out = io.Discard
	}
	if c.poll <= 0 {
		c.poll = 2 * time.Second
	}
	for _, p := range cells {
		c.cells[p.Hash] = p
	}
	c.max = maxArraySize(ctx)
	if e.ArrayLimit > 0 && e.ArrayLimit < c.max {
		c.max = e.ArrayLimit
	}
	c.warnActive(ctx)
	return c, nil
}

// warnActive says when an earlier run with some of our cells still has
// tasks in Slurm's queue: those cells are submitted again (the store's locks make
// the second task wait for the first and take its result, so nothing runs
// twice, but it holds a slot meanwhile).
func (c *controller) warnActive(ctx context.Context) {
	hashes := make([]string, 0, len(c.cells))
	for h := range c.cells {
		hashes = append(hashes, h)
	}
	runs, err := Status(ctx, c.opts.Store.Root(), hashes)
	if err != nil {
		return
	}
	for _, r := range runs {
		if r.Run != c.m.Run && r.Active() {
			fmt.Fprintf(c.out, "slurm: warning: an earlier run is still active (%s); its cells still missing are submitted again and wait for it (or scancel %s)\n",
				r.String(), strings.Join(r.Jobs, " "))
		}
	}
}

// sbatchOptions are the options every array of the run gets besides
// --array, --output and --dependency.
func (e *Executor) sbatchOptions() []string {
	var args []string
	if e.Partition != "" {
		args = append(args, "--partition="+e.Partition)
	}
	if e.Gres != "" {
		args = append(args, "--gres="+e.Gres)
	}
	if e.Time != "" {
		args = append(args, "--time="+e.Time)
	}
	return append(args, e.SbatchArgs...)
}

// outputPattern is sbatch's --output for a run folder: out/<job>_<task>.out.
// sbatch expands %-sequences (%j, %u, %A, …) anywhere in the pattern, so a
// '%' in the store's path is written as "%%", which sbatch turns back into
// one '%'.
func outputPattern(runDir string) string {
	return strings.ReplaceAll(filepath.Join(runDir, "out"), "%", "%%") + string(filepath.Separator) + "%A_%a.out"
}

// maxArraySize is the cluster's MaxArraySize (task ids must stay below
// it); Slurm's default, 1001, when scontrol does not say.
func maxArraySize(ctx context.Context) int {
	out, err := run(ctx, "scontrol", "show", "config")
	if err == nil {
		for _, line := range strings.Split(out, "\n") {
			f := strings.SplitN(line, "=", 2)
			if len(f) == 2 && strings.TrimSpace(f[0]) == "MaxArraySize" {
				if n, err := strconv.Atoi(strings.TrimSpace(f[1])); err == nil && n > 0 {
					return n
				}
			}
		}
	}
	return 1001
}

// submit submits cells as arrays of round round (several when they exceed
// MaxArraySize, each depending on the one before so that --max-parallel
// holds for the run).
func (c *controller) submit(ctx context.Context, cells []runner.Planned, round int) ([]*Array, error) {
	var cellArgs []string
	if t := c.opts.Timeout; t > 0 {
		cellArgs = append(cellArgs, "--timeout", t.String())
	}
	retries := 0
	if c.e.Detach {
		retries = c.opts.Retries
	}
	cellArgs = append(cellArgs, "--retries", strconv.Itoa(retries))

	var arrays []*Array
	prev := ""
	for start := 0; start < len(cells); start += c.max {
		chunk := cells[start:min(start+c.max, len(cells))]
		a := Array{N: len(c.m.Arrays) + 1, Round: round}
		for i, p := range chunk {
			a.Tasks = append(a.Tasks, Task{Task: i, Cell: p.Hash, Params: p.Cell.Point, Repeat: p.Cell.Repeat})
		}
		script := filepath.Join(c.dir, fmt.Sprintf("array-%d.sh", a.N))
		body := batchScript(scriptParams{Lab: c.m.Lab, Spec: c.m.Spec, Store: c.m.Store, RunDir: c.dir,
			CellArgs: cellArgs, Run: c.m.Run, N: a.N}, &a)
		if err := writeAtomic(script, []byte(body), 0o755); err != nil {
			return nil, c.undo(arrays, fmt.Errorf("slurm: %w", err))
		}
		spec := fmt.Sprintf("0-%d", len(chunk)-1)
		if c.e.MaxParallel > 0 {
			spec += "%" + strconv.Itoa(c.e.MaxParallel)
		}
		args := []string{"--parsable", "--array=" + spec, "--job-name=" + jobName(c.m.Experiment),
			"--output=" + outputPattern(c.dir)}
		if prev != "" {
			args = append(args, "--dependency=afterany:"+prev)
		}
		args = append(args, c.m.Sbatch...)
		args = append(args, script)
		a.Submitted = time.Now().UTC()
		// sbatch is not interrupted: a job it submitted must be known to
		// be cancelled. A cancelled ctx is the caller's to act on.
		out, err := run(context.WithoutCancel(ctx), "sbatch", args...)
		if err != nil {
			return nil, c.undo(arrays, fmt.Errorf("slurm: submitting array %d of run %s: %w", a.N, c.m.Run, err))
		}
		if a.JobID, err = parseJobID(out); err != nil {
			return nil, c.undo(arrays, fmt.Errorf("slurm: %w", err))
		}
		prev = a.JobID
		c.e.mu.Lock()
		c.m.Arrays = append(c.m.Arrays, a)
		werr := c.m.write(c.dir)
		stored := &c.m.Arrays[len(c.m.Arrays)-1]
		c.e.mu.Unlock()
		if werr != nil {
			return nil, c.undo(append(arrays, stored), fmt.Errorf("slurm: array job %s was submitted but its manifest could not be written: %w", a.JobID, werr))
		}
		arrays = append(arrays, stored)
		par := "all at once"
		if c.e.MaxParallel > 0 {
			par = fmt.Sprintf("at most %d at once", c.e.MaxParallel)
		}
		fmt.Fprintf(c.out, "slurm: submitted array job %s: %d cells, %s (run %s)\n", a.JobID, len(chunk), par, c.dir)
	}
	return arrays, nil
}

// undo cancels the arrays a failed submission had already submitted, so
// that a run never leaves arrays that nobody follows behind an error.
func (c *controller) undo(arrays []*Array, err error) error {
	var jobs []string
	for _, a := range arrays {
		jobs = append(jobs, a.JobID)
	}
	if len(jobs) == 0 {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	if cerr := scancel(ctx, jobs, false); cerr != nil {
		return fmt.Errorf("%w; cancelling the arrays already submitted failed too (scancel %s): %v", err, strings.Join(jobs, " "), cerr)
	}
	return fmt.Errorf("%w (arrays %s already submitted were cancelled)", err, strings.Join(jobs, ","))
}

// jobName is the Slurm job name of an experiment's arrays.
func jobName(experiment string) string {
	var b strings.Builder
	for _, r := range experiment {
		if r < 0x80 && (r == '-' || r == '_' || r == '.' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = s[:40]
	}
	return "lab-" + s
}

// squeueFailures is how long squeue may keep failing before the
// controller gives up (the arrays keep running; lab status follows them).
const squeueFailures = 5 * time.Minute

// watch follows arrays until every task has ended. It reports ok cells to
// done at once, failed ones too when final; otherwise it returns them to
// be resubmitted.
func (c *controller) watch(ctx context.Context, arrays []*Array, final bool, done func(runner.Outcome)) ([]runner.Planned, error) {
	active := map[taskKey]*Array{}
	tasks := map[taskKey]Task{}
	var jobs []string
	for _, a := range arrays {
		jobs = append(jobs, a.JobID)
		for _, t := range a.Tasks {
			k := taskKey{a.JobID, t.Task}
			active[k], tasks[k] = a, t
		}
	}
	running := map[taskKey]bool{}
	gone := map[taskKey]time.Time{}
	grace := c.e.LostGrace
	if grace <= 0 {
		grace = 30 * time.Second
	}
	var failed []runner.Planned
	var retry []runner.Outcome // the failures of failed, reported if the run is cancelled
	var failingSince time.Time
	failFast := false
	first := true
	for len(active) > 0 {
		wait := c.poll
		if first {
			wait, first = 0, false
		}
		select {
		case <-ctx.Done():
			for _, o := range retry {
				done(o) // no retry will come
			}
			return nil, c.cancel(jobs, active, tasks, running, done)
		case <-time.After(wait):
		}
		// Without squeue, tasks that wrote their exit record still end;
		// the others wait for squeue to answer again.
		q, qerr := squeue(ctx, jobs)
		switch {
		case qerr != nil && ctx.Err() != nil:
			continue
		case qerr != nil:
			if failingSince.IsZero() {
				failingSince = time.Now()
				fmt.Fprintf(c.out, "slurm: %v (retrying)\n", qerr)
			}
			if time.Since(failingSince) > squeueFailures {
				return nil, fmt.Errorf("slurm: squeue has failed for %v: %w; the arrays %s keep running: follow them with lab status", squeueFailures, qerr, strings.Join(jobs, ","))
			}
		default:
			failingSince = time.Time{}
		}
		exits, err := readExitRecords(c.dir)
		if err != nil {
			return nil, fmt.Errorf("slurm: %w", err)
		}
		for _, k := range sortedKeys(active) {
			a := active[k]
			st, queuedNow := q[k]
			if queuedNow {
				running[k] = st != "PENDING"
				delete(gone, k)
			}
			ex := exits[k]
			if ex == nil && failFast && !queuedNow && qerr == nil && !running[k] {
				// A pending task --fail-fast cancelled: never started,
				// unless it slipped through between two polls.
				delete(active, k)
				if rec, err := c.opts.Store.Get(tasks[k].Cell); err == nil && rec.OK() {
					done(runner.Outcome{Cell: c.cells[tasks[k].Cell].Cell, Hash: tasks[k].Cell, State: runner.StateOK, Record: rec})
				}
				continue
			}
			if ex == nil {
				if queuedNow || qerr != nil {
					continue
				}
				if gone[k].IsZero() {
					gone[k] = time.Now()
				}
				if time.Since(gone[k]) < grace {
					continue
				}
			}
			delete(active, k)
			o := c.outcome(k, tasks[k], ex, a.Submitted, true)
			if o.State == runner.StateFailed && !final {
				failed = append(failed, c.cells[tasks[k].Cell])
				retry = append(retry, o)
				continue
			}
			done(o)
			if o.State == runner.StateFailed && c.opts.FailFast && !failFast {
				failFast = true
				fmt.Fprintf(c.out, "slurm: --fail-fast: cancelling the tasks that have not started\n")
				if err := scancel(context.WithoutCancel(ctx), jobs, true); err != nil {
					fmt.Fprintf(c.out, "slurm: %v\n", err)
				}
			}
		}
	}
	sort.Slice(failed, func(i, j int) bool { return failed[i].Hash < failed[j].Hash })
	return failed, nil
}

func sortedKeys(m map[taskKey]*Array) []taskKey {
	keys := make([]taskKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Job != keys[j].Job {
			return keys[i].Job < keys[j].Job
		}
		return keys[i].Task < keys[j].Task
	})
	return keys
}

// clockSlack is how much earlier than its array's submission a failed
// record may end and still be taken as this task's (compute nodes' clocks
// differ from the controller's).
const clockSlack = time.Minute

// outcome is what became of a task that has ended: the store's record of
// its cell when the task made one, otherwise a failure naming the task and
// the last line of its Slurm output. With commit, that failure is also
// committed to the store (with the output as slurm.out), so lab status
// shows why the cell is missing.
func (c *controller) outcome(k taskKey, t Task, ex *ExitRecord, submitted time.Time, commit bool) runner.Outcome {
	p := c.cells[t.Cell]
	o := runner.Outcome{Cell: p.Cell, Hash: t.Cell, State: runner.StateFailed}
	rec, err := c.opts.Store.Get(t.Cell)
	switch {
	case err != nil:
		rec = nil
	case rec.OK():
		o.State, o.Record = runner.StateOK, rec
		return o
	case rec != nil && !rec.End.Before(submitted.Add(-clockSlack)):
		o.Record = rec
		return o
	}
	outFile := filepath.Join(c.dir, "out", k.String()+".out")
	var why string
	code := -1
	if ex == nil {
		why = "ended without an exit record (cancelled, killed at its time limit, or its node failed)"
	} else {
		code = ex.ExitCode
		why = fmt.Sprintf("exited %d without recording the cell", ex.ExitCode)
	}
	reason := fmt.Sprintf("slurm task %s %s", k, why)
	if last := lastLine(outFile); last != "" {
		reason += ": " + last
	}
	reason += " (output: " + outFile + ")"
	r := &store.Record{
		Hash: t.Cell, Inputs: runner.CellInputs(c.opts.Spec, c.opts.Engine, p.Cell), Status: store.StatusFailed,
		ExitCode: code, Reason: reason, Start: submitted, End: time.Now().UTC(), Attempts: 1,
		LabVersion: c.opts.LabVersion, LabCommit: c.opts.LabCommit, Executor: "slurm",
	}
	r.DurationSeconds = r.End.Sub(r.Start).Seconds()
	if ex != nil {
		r.Host, r.CUDAVisibleDevices = ex.Host, ex.CUDAVisibleDevices
	}
	if commit {
		if err := c.commitFailure(r, outFile); err != nil {
			fmt.Fprintf(c.out, "slurm: recording the failure of cell %s: %v\n", t.Cell, err)
		}
	}
	o.Record = r
	return o
}

// commitFailure records r through the store's ordinary transaction. A
// cell that is locked (its task is somehow still running) or ok by now is
// left alone.
func (c *controller) commitFailure(r *store.Record, outFile string) error {
	txn, err := c.opts.Store.Begin(r.Hash)
	if errors.Is(err, store.ErrLocked) || errors.Is(err, store.ErrExists) {
		return nil
	}
	if err != nil {
		return err
	}
	if b, err := os.ReadFile(outFile); err == nil {
		if err := os.WriteFile(filepath.Join(txn.Dir(), "slurm.out"), b, 0o644); err != nil {
			txn.Abort()
			return err
		}
	}
	return txn.Commit(r)
}

// lastLine is the last non-empty line of a file (at most 300 bytes), or "".
func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	s := strings.TrimSpace(lines[len(lines)-1])
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// cancel scancels the arrays, waits (bounded) for their tasks to leave
// squeue, so that each has aborted its transaction, and reports what
// finished meanwhile: ok and failed cells as recorded, cells whose task was
// running as interrupted; cells that never started stay not-run. The
// store is left as a resumable run would want it.
func (c *controller) cancel(jobs []string, active map[taskKey]*Array, tasks map[taskKey]Task, running map[taskKey]bool, done func(runner.Outcome)) error {
	wait := c.e.CancelWait
	if wait <= 0 {
		wait = 2 * time.Minute
	}
	ctx, stop := context.WithTimeout(context.Background(), wait)
	defer stop()
	fmt.Fprintf(c.out, "slurm: cancelling array jobs %s\n", strings.Join(jobs, ","))
	cerr := scancel(ctx, jobs, false)
	for ctx.Err() == nil {
		q, err := squeue(ctx, jobs)
		if err == nil {
			left := false
			for k := range active {
				if _, ok := q[k]; ok {
					left = true
					if q[k] != "PENDING" {
						running[k] = true
					}
				}
			}
			if !left {
				break
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(c.poll, 500*time.Millisecond)):
		}
	}
	exits, _ := readExitRecords(c.dir)
	for _, k := range sortedKeys(active) {
		t := tasks[k]
		p := c.cells[t.Cell]
		rec, err := c.opts.Store.Get(t.Cell)
		switch {
		case err == nil && rec.OK():
			done(runner.Outcome{Cell: p.Cell, Hash: t.Cell, State: runner.StateOK, Record: rec})
		case err == nil && rec != nil && exits[k] != nil && !rec.End.Before(active[k].Submitted.Add(-clockSlack)):
			done(runner.Outcome{Cell: p.Cell, Hash: t.Cell, State: runner.StateFailed, Record: rec})
		case running[k]:
			done(runner.Outcome{Cell: p.Cell, Hash: t.Cell, State: runner.StateInterrupted})
		}
	}
	if cerr != nil {
		return fmt.Errorf("slurm: cancelling: %w; cancel the arrays by hand: scancel %s", cerr, strings.Join(jobs, " "))
	}
	return nil
}

// Describe is how the run's progress header names where cells run.
func (e *Executor) Describe() string {
	if e.MaxParallel > 0 {
		return fmt.Sprintf("slurm array, at most %d at once", e.MaxParallel)
	}
	return "slurm array"
}
