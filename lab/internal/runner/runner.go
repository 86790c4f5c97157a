// Package runner executes an experiment's plan: every cell (sweep point ×
// repeat) that the store does not hold yet, on an engine, with workers, GPU
// slots, per-cell timeouts, retries and crash-safe commits.
//
// The per-cell path is RunCell: take the cell's lock in the store, run the
// engine into the transaction's folder with its stdout and stderr in
// stdout.log and stderr.log, check the five metric CSVs, record and commit.
// Run plans, skips cache hits, and hands the rest to an Executor: Local runs
// them here with a worker pool; a cluster executor (Slurm) submits tasks
// that each call RunCell through `lab cell run`, so both paths record cells
// the same way.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/fsutil"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/spec"
)

// Cell states in outcomes, records and `lab status`.
const (
	StateOK          = store.StatusOK
	StateFailed      = store.StatusFailed
	StateCached      = "cached"      // an ok record existed before this run
	StateInterrupted = "interrupted" // cancelled before it finished; nothing recorded
	StateNotRun      = "not-run"     // never started (--fail-fast or an error stopped the run)
)

// Options configure a run. Spec, Engine and Store are required.
type Options struct {
	Spec   *spec.Spec
	Engine engine.Engine
	Store  *store.Store

	// Jobs is how many cells run at once (default 1, or the engine's
	// DefaultJobs; with GPUs, the number of GPUs, and never more than that).
	Jobs int
	// GPUs are device ids; each running cell takes one and gets it as
	// CUDA_VISIBLE_DEVICES.
	GPUs []string
	// Timeout per cell attempt; 0 means the engine's own default (the exec
	// spec's timeout), if any.
	Timeout time.Duration
	// Retries is how many times a failed cell is run again before it is
	// recorded as failed.
	Retries int
	// FailFast stops launching cells after the first failure; cells
	// already running finish and are recorded.
	FailFast bool
	// Progress receives progress output (nil: none). IsTTY selects a
	// progress bar instead of one line per finished cell.
	Progress io.Writer
	IsTTY    bool
	// Executor runs the cells that are not cached (nil: Local).
	Executor Executor

	// LabVersion and LabCommit are recorded in every cell.
	LabVersion, LabCommit string
	// ExecutorName is recorded in every cell ("local" when empty).
	ExecutorName string
	// Host is recorded in every cell; nil: collected once per run.
	Host *store.HostInfo
	// Poll is how often a cell locked by another process is checked
	// (default 200ms).
	Poll time.Duration
}

// Outcome is what became of one cell.
type Outcome struct {
	Cell  spec.Cell
	Hash  string
	State string // one of the State constants
	// Record is the cell's record (nil for interrupted and not-run cells).
	Record *store.Record
	// Elsewhere is true when another process ran the cell while this one
	// waited for its lock; its record is taken as ours.
	Elsewhere bool
}

// Result summarizes a run. Outcomes are in the spec's cell order.
//
// Every cell is counted once in Cached, Ran, Elsewhere, Interrupted or
// NotRun. Cached: an ok record was in the store before the cell's turn
// (before the run, or committed by a concurrent run before this one tried
// it). Ran: this run ran it. Elsewhere: a concurrent run was running it;
// this one waited and took its record. OK and Failed split Ran +
// Elsewhere by the record's status.
type Result struct {
	Total, Cached, Ran, Elsewhere, OK, Failed, Interrupted, NotRun int
	Outcomes                                                       []Outcome
}

// Planned is a cell to run with its store hash.
type Planned struct {
	Cell spec.Cell
	Hash string
}

// Executor runs cells. It calls done once for every cell it finished (from
// any goroutine; done is safe for concurrent use) and returns when no cell
// is running any more. It stops launching when ctx is done, and after the
// first failure when opts.FailFast is set.
type Executor interface {
	Execute(ctx context.Context, opts *Options, cells []Planned, done func(Outcome)) error
}

// CellInputs is what determines cell c's result under engine e: the store
// hashes it into the cell's address.
func CellInputs(s *spec.Spec, e engine.Engine, c spec.Cell) store.Inputs {
	params := make(map[string]float64, len(c.Point))
	for k, v := range c.Point {
		params[k] = v
	}
	return store.Inputs{Engine: e.Kind(), Config: e.Identity(), Params: params, Repeat: c.Repeat, Seed: s.Seed}
}

// Plan returns every cell of the spec with its hash, in cell order.
func Plan(s *spec.Spec, e engine.Engine) ([]Planned, error) {
	cells := s.Cells()
	out := make([]Planned, len(cells))
	for i, c := range cells {
		h, err := store.HashInputs(CellInputs(s, e, c))
		if err != nil {
			return nil, fmt.Errorf("hashing cell %s repeat %d: %w", c.Point.Key(s.ParamNames()), c.Repeat, err)
		}
		out[i] = Planned{Cell: c, Hash: h}
	}
	return out, nil
}

// warnf prints a warning on the progress writer, if any.
func (o *Options) warnf(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "lab: warning: "+format+"\n", args...)
	}
}

func (o *Options) check() error {
	switch {
	case o.Spec == nil:
		return errors.New("runner: no spec")
	case o.Engine == nil:
		return errors.New("runner: no engine")
	case o.Store == nil:
		return errors.New("runner: no store")
	case o.Retries < 0:
		return fmt.Errorf("runner: retries must be ≥ 0, got %d", o.Retries)
	case o.Jobs < 0:
		return fmt.Errorf("runner: jobs must be ≥ 1, got %d", o.Jobs)
	}
	seen := map[string]bool{}
	for _, g := range o.GPUs {
		if g == "" || seen[g] {
			return fmt.Errorf("runner: GPU list %q has an empty or repeated id", o.GPUs)
		}
		seen[g] = true
	}
	return nil
}

// Run runs every cell of opts.Spec that has no ok record in the store. It
// returns an error when the run could not complete (interrupted, a store
// failure); failed cells are not an error: see Result.Failed.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	// Temporary folders of killed runs go first: their locks are free. One
	// that cannot be deleted is a warning, not a reason to refuse every
	// run on this store: it holds nothing any cell needs.
	if err := opts.Store.CleanTemp(); err != nil {
		opts.warnf("cannot delete leftover temporary folders (`lab verify` lists them): %v", err)
	}
	if opts.Host == nil {
		h := store.CollectHost(ctx)
		opts.Host = &h
	}
	// A run allocates and drops a cell's worth of buffers per cell; with
	// Go's default GOGC=100 the collector ran often enough to cost ~10% of
	// the default experiment's CPU. 400 trades ~50 MB of peak memory for
	// it. GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	plan, err := Plan(opts.Spec, opts.Engine)
	if err != nil {
		return nil, err
	}
	res := &Result{Total: len(plan), Outcomes: make([]Outcome, len(plan))}
	index := make(map[string]int, len(plan))
	var todo []Planned
	for i, p := range plan {
		index[p.Hash] = i
		rec, err := opts.Store.Get(p.Hash)
		var corrupt *store.CorruptError
		if errors.As(err, &corrupt) {
			// Its record cannot be trusted: run the cell again (the
			// commit replaces the folder) rather than stop the run.
			opts.warnf("%v", err)
			rec, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		if rec != nil && rec.Status == StateOK {
			res.Outcomes[i] = Outcome{Cell: p.Cell, Hash: p.Hash, State: StateCached, Record: rec}
			res.Cached++
			continue
		}
		res.Outcomes[i] = Outcome{Cell: p.Cell, Hash: p.Hash, State: StateNotRun}
		todo = append(todo, p)
	}

	prog := newProgress(&opts, res.Total, res.Cached, len(todo))
	var mu sync.Mutex
	done := func(o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		i, ok := index[o.Hash]
		if !ok {
			return
		}
		res.Outcomes[i] = o
		prog.finished(o)
	}
	ex := opts.Executor
	if ex == nil {
		ex = Local{}
	}
	execErr := ex.Execute(ctx, &opts, todo, done)
	prog.close()

	res.Cached = 0 // recounted: cells may have been committed by a concurrent run meanwhile
	for _, o := range res.Outcomes {
		switch o.State {
		case StateCached:
			res.Cached++
		case StateOK, StateFailed:
			if o.Elsewhere {
				res.Elsewhere++
			} else {
				res.Ran++
			}
			if o.State == StateOK {
				res.OK++
			} else {
				res.Failed++
			}
		case StateInterrupted:
			res.Interrupted++
		case StateNotRun:
			res.NotRun++
		}
	}
	if execErr != nil {
		return res, execErr
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("interrupted: %d cells finished in this run (%d ok, %d failed) and are kept, %d remain (%d cached before)",
			res.Ran+res.Elsewhere, res.OK, res.Failed, res.Interrupted+res.NotRun, res.Cached)
	}
	return res, nil
}

// localJobs is how many cells a local run has going at once: Jobs, by
// default the number of GPUs, else what the engine asks for (DefaultJobs:
// the simulator, in-process and CPU-bound, one cell per core), else 1; and
// never more than the GPUs, since each running cell holds one. The progress
// header prints the same number.
func (o *Options) localJobs() int {
	jobs := o.Jobs
	if jobs <= 0 {
		jobs = max(1, len(o.GPUs))
		if d, ok := o.Engine.(interface{ DefaultJobs() int }); ok && len(o.GPUs) == 0 {
			jobs = max(1, d.DefaultJobs())
		}
	}
	if len(o.GPUs) > 0 && jobs > len(o.GPUs) {
		jobs = len(o.GPUs)
	}
	return jobs
}

// Local runs cells in this process with a pool of workers (Options.Jobs)
// and GPU slots (Options.GPUs).
type Local struct{}

// Execute implements Executor.
func (Local) Execute(ctx context.Context, opts *Options, cells []Planned, done func(Outcome)) error {
	jobs := opts.localJobs()
	var slots chan string
	if len(opts.GPUs) > 0 {
		slots = make(chan string, len(opts.GPUs))
		for _, g := range opts.GPUs {
			slots <- g
		}
	}

	// stop ends launching: on a failure with FailFast, or on a store error.
	stopCtx, stop := context.WithCancel(context.Background())
	defer stop()
	var errMu sync.Mutex
	var firstErr error

	work := make(chan Planned)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				var gpu string
				if slots != nil {
					gpu = <-slots
				}
				o, err := RunCell(ctx, opts, p.Cell, gpu)
				if slots != nil {
					slots <- gpu
				}
				if o.Hash == "" {
					o.Hash = p.Hash
				}
				done(o)
				if err != nil && ctx.Err() == nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					stop()
				}
				if o.State == StateFailed && opts.FailFast {
					stop()
				}
			}
		}()
	}
launch:
	for _, p := range cells {
		select {
		case work <- p:
		case <-ctx.Done():
			break launch
		case <-stopCtx.Done():
			break launch
		}
	}
	close(work)
	wg.Wait()
	return firstErr
}

// RunCell runs one cell to a committed record: it is the whole per-cell
// path, used by the local executor and by `lab cell run` (one Slurm array
// task). gpu is the CUDA_VISIBLE_DEVICES slot the executor gave the cell
// (engine.Request.GPU); with "" the process's CUDA_VISIBLE_DEVICES is
// recorded.
//
// When another process holds the cell's lock RunCell waits for it and takes
// its result as ours (the cell never runs twice); if that process gave up
// without a record, RunCell runs the cell itself. A failed cell is an
// Outcome with State failed and a nil error; the error is non-nil when ctx
// was cancelled (State interrupted: the transaction is aborted, nothing is
// recorded) or the store failed.
func RunCell(ctx context.Context, opts *Options, c spec.Cell, gpu string) (Outcome, error) {
	out := Outcome{Cell: c, State: StateInterrupted}
	if err := opts.check(); err != nil {
		return out, err
	}
	h, err := store.HashInputs(CellInputs(opts.Spec, opts.Engine, c))
	if err != nil {
		return out, err
	}
	out.Hash = h
	poll := opts.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	var txn *store.Txn
	waited := time.Time{}
	for {
		txn, err = opts.Store.Begin(h)
		if err == nil {
			break
		}
		switch {
		case errors.Is(err, store.ErrExists):
			rec, gerr := opts.Store.Get(h)
			if gerr != nil {
				return out, gerr
			}
			out.State, out.Record, out.Elsewhere = StateOK, rec, !waited.IsZero()
			if waited.IsZero() {
				out.State = StateCached
			}
			return out, nil
		case errors.Is(err, store.ErrLocked):
			if waited.IsZero() {
				waited = time.Now()
			}
			select {
			case <-ctx.Done():
				return out, ctx.Err()
			case <-time.After(poll):
			}
		default:
			return out, err
		}
	}
	if !waited.IsZero() {
		// We waited for another process. If it recorded a failure while we
		// waited, that was this cell's run: take it rather than run again.
		rec, err := opts.Store.Get(h)
		if err != nil {
			txn.Abort()
			return out, err
		}
		if rec != nil && rec.Status == StateFailed && !rec.End.Before(waited) {
			txn.Abort()
			out.State, out.Record, out.Elsewhere = StateFailed, rec, true
			return out, nil
		}
	}

	rec, err := runAttempts(ctx, opts, c, h, txn.Dir(), gpu)
	if err != nil {
		txn.Abort()
		return out, err
	}
	err = txn.Commit(rec)
	var ce *store.ContentError
	if errors.As(err, &ce) {
		// What this engine run wrote cannot be stored (an unreadable
		// folder, a path too long to open, a cell.json of its own): that
		// is this cell's failure, recorded with the reason, and the run
		// goes on. Every rerun would otherwise stop at the same cell.
		if err = discardOutputs(txn.Dir()); err == nil {
			rec.Status, rec.Reason = StateFailed, ce.Reason+"; the cell's other files were discarded (stdout.log and stderr.log are kept)"
			if rec.ExitCode == 0 {
				rec.ExitCode = -1
			}
			err = txn.Commit(rec)
		}
	}
	if err != nil {
		txn.Abort()
		return out, fmt.Errorf("committing cell %s: %w", h, err)
	}
	out.State, out.Record = rec.Status, rec
	return out, nil
}

// runAttempts runs the engine up to 1+Retries times in dir and returns the
// record of the last attempt. Logs of earlier attempts are kept under
// attempts/<n>/; everything else they wrote is removed before a retry. The
// error is non-nil when ctx was cancelled or the store could not be written
// (no space left, say).
func runAttempts(ctx context.Context, opts *Options, c spec.Cell, hash, dir, gpu string) (*store.Record, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		if d, ok := opts.Engine.(interface{ DefaultTimeout() time.Duration }); ok {
			timeout = d.DefaultTimeout()
		}
	}
	var host store.HostInfo
	if opts.Host != nil {
		host = *opts.Host
	} else {
		host = store.CollectHost(ctx) // a single cell (lab cell run)
	}
	if gpu != "" {
		host = host.WithDevices(gpu)
	}
	rec := &store.Record{
		Hash:       hash,
		Inputs:     CellInputs(opts.Spec, opts.Engine, c),
		Start:      time.Now().UTC(),
		LabVersion: opts.LabVersion,
		LabCommit:  opts.LabCommit,
		Executor:   opts.ExecutorName,
	}
	host.Fill(rec)
	if rec.Executor == "" {
		rec.Executor = "local"
	}
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			if err := keepAttemptLogs(dir, attempt-1); err != nil {
				return nil, err
			}
		}
		code, reason, err := attempt1(ctx, opts.Engine, engine.Request{Cell: c, Dir: dir, GPU: gpu, LockDir: opts.Store.LockDir()}, timeout)
		if err != nil {
			return nil, err
		}
		rec.Attempts = attempt
		rec.ExitCode, rec.Reason = code, reason
		if reason == "" {
			rec.Status = StateOK
			break
		}
		rec.Status = StateFailed
		if attempt > opts.Retries {
			break
		}
	}
	rec.End = time.Now().UTC()
	rec.DurationSeconds = rec.End.Sub(rec.Start).Seconds()
	return rec, nil
}

// attempt1 runs the engine once; reason is "" on success. err is non-nil
// when ctx was cancelled or the cell's folder could not be written.
func attempt1(ctx context.Context, e engine.Engine, req engine.Request, timeout time.Duration) (code int, reason string, err error) {
	dir := req.Dir
	stdout, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		return 0, "", err
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		return 0, "", err
	}
	defer stderr.Close()

	cctx := ctx
	if timeout > 0 {
		var cancel context.CancelCauseFunc
		cctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		limit := newAttemptTimer(timeout, func() { cancel(errTimedOut) })
		defer limit.stop()
		req.Queued = limit.queue
	}
	req.Stdout, req.Stderr = stdout, stderr
	runErr := e.Run(cctx, req)
	if ctx.Err() != nil {
		return 0, "", ctx.Err()
	}
	if err := removeSpecialFiles(dir, stderr); err != nil {
		return 0, "", err
	}
	if errors.Is(context.Cause(cctx), errTimedOut) {
		return -1, fmt.Sprintf("timed out after %v; the engine was stopped", timeout), nil
	}
	if runErr != nil {
		// A full store is not the cell's failure: committing it as failed
		// would fill the summary with one "no space left" per remaining
		// cell. Stop the run instead; the finished cells are kept.
		if errors.Is(runErr, syscall.ENOSPC) || errors.Is(runErr, syscall.EDQUOT) {
			return 0, "", fmt.Errorf("the store is full: %w", runErr)
		}
		var xe *engine.ExitError
		if errors.As(runErr, &xe) {
			return xe.Code, xe.Reason, nil
		}
		return -1, runErr.Error(), nil
	}
	if err := checkMetrics(dir); err != nil {
		// The record outlives the temporary folder: name files relative
		// to the cell.
		msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
		return 0, "engine exited 0 but its metrics are incomplete: " + msg, nil
	}
	return 0, "", nil
}

// errTimedOut is the cause of an attempt's context when its time is up.
var errTimedOut = errors.New("the cell's time limit is up")

// attemptTimer is an attempt's time limit. It counts only while the engine
// works: while the engine waits for a resource other cells share (it calls
// engine.Queue), the timer is stopped, so with -j 4 on an exec engine whose
// cells take turns at one output folder, the fourth cell is not killed for
// the time the first three took.
type attemptTimer struct {
	mu       sync.Mutex
	left     time.Duration // time left when the timer last stopped
	since    time.Time     // when it last started
	timer    *time.Timer   // nil while stopped
	queued   int           // engine.Queue calls not done yet
	finished bool          // fired or stopped for good
	expire   func()
}

func newAttemptTimer(d time.Duration, expire func()) *attemptTimer {
	t := &attemptTimer{left: d, expire: expire}
	t.since = time.Now()
	t.timer = time.AfterFunc(d, t.fire)
	return t
}

func (t *attemptTimer) fire() {
	t.mu.Lock()
	t.finished = true
	t.mu.Unlock()
	t.expire()
}

// queue is engine.Request.Queued: it stops the timer until done is called.
func (t *attemptTimer) queue() (done func()) {
	t.mu.Lock()
	if t.queued == 0 && t.timer != nil && t.timer.Stop() {
		t.left -= time.Since(t.since)
		t.timer = nil
	}
	t.queued++
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			t.queued--
			if t.queued == 0 && t.timer == nil && !t.finished {
				t.since = time.Now()
				t.timer = time.AfterFunc(max(t.left, 0), t.fire)
			}
		})
	}
}

// stop ends the timer for good (the attempt is over).
func (t *attemptTimer) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.finished = true
	if t.timer != nil {
		t.timer.Stop()
	}
}

// removeSpecialFiles deletes what an engine left in the cell's folder that
// a cell cannot hold (a named pipe, a socket, a device: the store keeps
// files, folders and symlinks only), noting each in the cell's stderr.log.
// Left in place, it would make the commit fail and stop the whole run for
// what is a quirk of one command's output.
func removeSpecialFiles(dir string, stderr io.Writer) error {
	var special []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// Unreadable or too deep: not ours to judge here; the
			// commit records the cell as failed with the reason.
			return nil
		}
		if t := d.Type(); !t.IsDir() && !t.IsRegular() && t&fs.ModeSymlink == 0 {
			special = append(special, path)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing the cell's files: %w", err)
	}
	for _, p := range special {
		rel, _ := filepath.Rel(dir, p)
		kind := "a special file"
		if fi, err := os.Lstat(p); err == nil {
			switch t := fi.Mode().Type(); {
			case t&fs.ModeNamedPipe != 0:
				kind = "a named pipe"
			case t&fs.ModeSocket != 0:
				kind = "a socket"
			case t&fs.ModeDevice != 0:
				kind = "a device"
			}
		}
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("removing %s, which a cell cannot hold: %w", rel, err)
		}
		fmt.Fprintf(stderr, "lab: removed %s, %s the engine left in its output: a cell holds only files, folders and symlinks\n", filepath.ToSlash(rel), kind)
	}
	return nil
}

// discardOutputs removes everything from a cell's folder but its logs.
func discardOutputs(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		switch e.Name() {
		case "stdout.log", "stderr.log", "attempts":
			if e.Type().IsRegular() || e.Name() == "attempts" && e.IsDir() {
				continue
			}
		}
		if err := fsutil.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// keepAttemptLogs moves attempt n's logs to attempts/<n>/ and removes every
// other file the attempt left, so the next attempt starts clean.
func keepAttemptLogs(dir string, n int) error {
	keep := filepath.Join(dir, "attempts", fmt.Sprint(n))
	if err := os.MkdirAll(keep, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"stdout.log", "stderr.log"} {
		if err := os.Rename(filepath.Join(dir, f), filepath.Join(keep, f)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Name() == "attempts" {
			continue
		}
		if err := fsutil.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
