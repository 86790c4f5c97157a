package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// goEngine is an in-process engine: it writes real metric files through
// lab/sarathi, with behaviour chosen per cell, and counts its runs.
type goEngine struct {
	id    string
	runs  atomic.Int64
	mu    sync.Mutex
	byKey map[string]int // runs per cell key
	// behave decides, per cell and attempt (1-based), what the run does.
	behave func(c spec.Cell, attempt int) behaviour

	running, maxRunning atomic.Int64
	gpus                sync.Map // GPU id → currently in use
	gpuClash            atomic.Bool
}

type behaviour struct {
	fail    int           // exit code; 0: succeed
	err     error         // returned as the engine's error (not an exit code)
	fifo    bool          // leave a named pipe in the cell's folder
	queue   time.Duration // wait this long for a shared resource first (engine.Request.Queue)
	omit    string        // metric not written
	block   bool          // wait for ctx
	sleep   time.Duration // work time
	stdout  string
	started chan<- struct{}
	odd     func(dir string) // leaves something odd in the cell's folder after its metrics
}

func newGoEngine(behave func(spec.Cell, int) behaviour) *goEngine {
	if behave == nil {
		behave = func(spec.Cell, int) behaviour { return behaviour{} }
	}
	return &goEngine{id: "test", byKey: map[string]int{}, behave: behave}
}

func (e *goEngine) Kind() string  { return "test" }
func (e *goEngine) Identity() any { return map[string]string{"id": e.id} }

func (e *goEngine) Run(ctx context.Context, req engine.Request) error {
	c, dir, stdout, stderr := req.Cell, req.Dir, req.Stdout, req.Stderr
	n := e.running.Add(1)
	defer e.running.Add(-1)
	for {
		m := e.maxRunning.Load()
		if n <= m || e.maxRunning.CompareAndSwap(m, n) {
			break
		}
	}
	if gpu := req.GPU; gpu != "" {
		if _, busy := e.gpus.LoadOrStore(gpu, true); busy {
			e.gpuClash.Store(true)
		}
		defer e.gpus.Delete(gpu)
	}
	e.runs.Add(1)
	key := fmt.Sprintf("%v/%d", c.Point, c.Repeat)
	e.mu.Lock()
	e.byKey[key]++
	attempt := e.byKey[key]
	e.mu.Unlock()
	b := e.behave(c, attempt)
	fmt.Fprintf(stdout, "cell %s attempt %d %s\n", key, attempt, b.stdout)
	if b.started != nil {
		b.started <- struct{}{}
	}
	if b.queue > 0 {
		done := req.Queue()
		select {
		case <-time.After(b.queue):
		case <-ctx.Done():
		}
		done()
	}
	if b.block {
		<-ctx.Done()
		return ctx.Err()
	}
	if b.sleep > 0 {
		select {
		case <-time.After(b.sleep):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if b.err != nil {
		return b.err
	}
	if b.fifo {
		if err := os.MkdirAll(filepath.Join(dir, "output"), 0o755); err != nil {
			return err
		}
		if err := syscall.Mkfifo(filepath.Join(dir, "output", "pipe"), 0o644); err != nil {
			return err
		}
	}
	if b.fail != 0 {
		fmt.Fprintln(stderr, "failing as asked")
		return &engine.ExitError{Code: b.fail, Reason: fmt.Sprintf("exited with status %d", b.fail)}
	}
	plots := filepath.Join(dir, sarathi.PlotsDir)
	for _, m := range sarathi.Required {
		if m == b.omit {
			continue
		}
		v := c.Point["t"] + float64(c.Seed%1000)/1000
		if err := sarathi.Write(plots, m, []sarathi.Row{{RequestID: "0_0", Value: v + 1}, {RequestID: "0_1", Value: v + 2}}); err != nil {
			return err
		}
	}
	if b.odd != nil {
		b.odd(dir)
	}
	return nil
}

func testSpec(points, repeats int) *spec.Spec {
	var vals []float64
	for i := range points {
		vals = append(vals, float64(i))
	}
	return &spec.Spec{Name: "t", Engine: spec.Engine{Config: &goConfig{ID: "test"}}, Sweep: spec.Sweep{{Name: "t", Values: vals}}, Repeats: repeats, Seed: 1}
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func opts(s *spec.Spec, e engine.Engine, st *store.Store) Options {
	return Options{Spec: s, Engine: e, Store: st, Host: &store.HostInfo{Hostname: "test"}, LabVersion: "v-test", Poll: 10 * time.Millisecond}
}

func noProblems(t *testing.T, st *store.Store) {
	t.Helper()
	ps, err := st.Verify()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		t.Errorf("verify: %s", p)
	}
}

func TestRunAndCache(t *testing.T) {
	s, st := testSpec(5, 3), openStore(t)
	e := newGoEngine(nil)
	o := opts(s, e, st)
	o.Jobs = 4
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 15 || res.Ran != 15 || res.OK != 15 || res.Cached != 0 {
		t.Fatalf("first run: %+v", res)
	}
	if e.runs.Load() != 15 {
		t.Errorf("engine ran %d times, want 15", e.runs.Load())
	}
	if e.maxRunning.Load() > 4 {
		t.Errorf("%d cells ran at once with -j 4", e.maxRunning.Load())
	}
	for _, out := range res.Outcomes {
		r := out.Record
		if r == nil || r.Status != "ok" || r.Attempts != 1 || r.Host != "test" || r.LabVersion != "v-test" || r.Executor != "local" {
			t.Fatalf("record %+v", r)
		}
		if _, ok := r.Files["stdout.log"]; !ok {
			t.Errorf("no stdout.log in %v", r.Files)
		}
		b, _ := os.ReadFile(filepath.Join(st.CellDir(out.Hash), "stdout.log"))
		if want := fmt.Sprintf("cell %v/%d attempt 1", out.Cell.Point, out.Cell.Repeat); !strings.HasPrefix(string(b), want) {
			t.Errorf("stdout.log %q, want %q", b, want)
		}
	}
	res, err = Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cached != 15 || res.Ran != 0 || e.runs.Load() != 15 {
		t.Errorf("rerun: %+v, engine runs %d: the rerun must start no engine", res, e.runs.Load())
	}
	noProblems(t, st)
}

func TestFailuresRetriesAndReasons(t *testing.T) {
	tests := []struct {
		name     string
		behave   func(spec.Cell, int) behaviour
		retries  int
		timeout  time.Duration
		state    string
		code     int
		reason   string
		attempts int
	}{
		{name: "exit code", behave: func(spec.Cell, int) behaviour { return behaviour{fail: 7} },
			state: "failed", code: 7, reason: "exited with status 7", attempts: 1},
		{name: "missing csv", behave: func(spec.Cell, int) behaviour { return behaviour{omit: sarathi.PrefillE2ETime} },
			state: "failed", reason: "metrics are incomplete: replica_0/plots: missing prefill_e2e_time.csv", attempts: 1},
		{name: "retry then ok", retries: 2, behave: func(_ spec.Cell, a int) behaviour {
			if a < 3 {
				return behaviour{fail: 1}
			}
			return behaviour{}
		}, state: "ok", attempts: 3},
		{name: "retries exhausted", retries: 1, behave: func(spec.Cell, int) behaviour { return behaviour{fail: 2} },
			state: "failed", code: 2, reason: "status 2", attempts: 2},
		{name: "timeout", timeout: 50 * time.Millisecond, behave: func(spec.Cell, int) behaviour { return behaviour{block: true} },
			state: "failed", code: -1, reason: "timed out after 50ms", attempts: 1},
		// Waiting for a shared resource (engine.Request.Queue) does not count
		// against the time limit; the work after it does.
		{name: "queued then quick", timeout: 100 * time.Millisecond,
			behave: func(spec.Cell, int) behaviour {
				return behaviour{queue: 300 * time.Millisecond, sleep: 20 * time.Millisecond}
			},
			state: "ok", attempts: 1},
		{name: "queued then too slow", timeout: 100 * time.Millisecond,
			behave: func(spec.Cell, int) behaviour { return behaviour{queue: 150 * time.Millisecond, block: true} },
			state:  "failed", code: -1, reason: "timed out after 100ms", attempts: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, st := testSpec(1, 1), openStore(t)
			o := opts(s, newGoEngine(tc.behave), st)
			o.Retries, o.Timeout = tc.retries, tc.timeout
			res, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			r := res.Outcomes[0].Record
			if r.Status != tc.state || r.ExitCode != tc.code || !strings.Contains(r.Reason, tc.reason) || r.Attempts != tc.attempts {
				t.Errorf("record status=%s code=%d reason=%q attempts=%d; want %s %d %q %d",
					r.Status, r.ExitCode, r.Reason, r.Attempts, tc.state, tc.code, tc.reason, tc.attempts)
			}
			if tc.attempts > 1 {
				for a := 1; a < tc.attempts; a++ {
					b, err := os.ReadFile(filepath.Join(st.CellDir(r.Hash), "attempts", fmt.Sprint(a), "stdout.log"))
					if err != nil || !strings.Contains(string(b), fmt.Sprintf("attempt %d", a)) {
						t.Errorf("log of attempt %d: %q %v", a, b, err)
					}
				}
			}
			if tc.state == "failed" {
				b, _ := os.ReadFile(filepath.Join(st.CellDir(r.Hash), "stderr.log"))
				if tc.code > 0 && !strings.Contains(string(b), "failing as asked") {
					t.Errorf("stderr.log %q", b)
				}
			}
			noProblems(t, st)
		})
	}
}

func TestFailedCellDoesNotStopOthersAndIsRerun(t *testing.T) {
	s, st := testSpec(4, 2), openStore(t)
	fail := atomic.Bool{}
	fail.Store(true)
	e := newGoEngine(func(c spec.Cell, _ int) behaviour {
		if c.Point["t"] == 1 && fail.Load() {
			return behaviour{fail: 3}
		}
		return behaviour{}
	})
	o := opts(s, e, st)
	o.Jobs = 2
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 6 || res.Failed != 2 {
		t.Fatalf("%+v", res)
	}
	fail.Store(false)
	res, err = Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cached != 6 || res.Ran != 2 || res.OK != 2 {
		t.Errorf("rerun after fixing: %+v (only the failed cells must run again)", res)
	}
	noProblems(t, st)
}

// A store that fills up is not the cells' fault: the run stops with the
// error, keeps what finished and records no failure for the cell that hit it.
func TestFullStoreStopsTheRun(t *testing.T) {
	s, st := testSpec(5, 1), openStore(t)
	full := &os.PathError{Op: "write", Path: "x.csv", Err: syscall.ENOSPC}
	e := newGoEngine(func(c spec.Cell, _ int) behaviour {
		if c.Point["t"] == 2 {
			return behaviour{err: fmt.Errorf("writing request_execution_time: %w", full)}
		}
		return behaviour{}
	})
	o := opts(s, e, st)
	res, err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("err = %v, want the store's error", err)
	}
	if res.OK != 2 || res.Failed != 0 || res.Interrupted+res.NotRun != 3 {
		t.Errorf("%+v, want 2 ok, no failure, 3 not run", res)
	}
	if hashes, _ := st.List(); len(hashes) != 2 {
		t.Errorf("store holds %d cells, want the 2 finished", len(hashes))
	}
	noProblems(t, st)
}

// A named pipe an engine leaves behind cannot be committed (a cell holds
// files, folders and symlinks): it is removed and noted in stderr.log, and
// the cell is kept, instead of the commit failing and stopping the run.
func TestSpecialFilesRemoved(t *testing.T) {
	s, st := testSpec(2, 1), openStore(t)
	o := opts(s, newGoEngine(func(spec.Cell, int) behaviour { return behaviour{fifo: true} }), st)
	res, err := Run(context.Background(), o)
	if err != nil || res.OK != 2 {
		t.Fatalf("%+v, %v; want 2 ok cells", res, err)
	}
	for _, out := range res.Outcomes {
		dir := st.CellDir(out.Hash)
		if _, err := os.Lstat(filepath.Join(dir, "output", "pipe")); !os.IsNotExist(err) {
			t.Errorf("the pipe is still in the cell: %v", err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
		if !strings.Contains(string(b), "lab: removed output/pipe, a named pipe") {
			t.Errorf("stderr.log %q does not say what was removed", b)
		}
	}
	noProblems(t, st)
}

func TestFailFast(t *testing.T) {
	s, st := testSpec(5, 2), openStore(t)
	e := newGoEngine(func(c spec.Cell, _ int) behaviour {
		if c.Point["t"] == 1 && c.Repeat == 0 {
			return behaviour{fail: 1}
		}
		return behaviour{}
	})
	o := opts(s, e, st)
	o.Jobs, o.FailFast = 1, true
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// Cells run in order with one worker: t=0 ×2 ok, then t=1 repeat 0 fails.
	if res.OK != 2 || res.Failed != 1 || res.NotRun != 7 {
		t.Errorf("%+v, want 2 ok, 1 failed, 7 not run", res)
	}
}

func TestGPUSlots(t *testing.T) {
	s, st := testSpec(6, 2), openStore(t)
	e := newGoEngine(func(spec.Cell, int) behaviour { return behaviour{sleep: 20 * time.Millisecond} })
	o := opts(s, e, st)
	o.Jobs, o.GPUs = 8, []string{"0", "3"}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if e.gpuClash.Load() {
		t.Error("two running cells shared a GPU")
	}
	if e.maxRunning.Load() > 2 {
		t.Errorf("%d cells ran at once on 2 GPUs", e.maxRunning.Load())
	}
	seen := map[string]int{}
	for _, out := range res.Outcomes {
		seen[out.Record.CUDAVisibleDevices]++
	}
	if seen["0"]+seen["3"] != 12 {
		t.Errorf("CUDA_VISIBLE_DEVICES recorded: %v", seen)
	}
}

func TestCancelKeepsFinishedCells(t *testing.T) {
	s, st := testSpec(6, 1), openStore(t)
	started := make(chan struct{}, 10)
	e := newGoEngine(func(c spec.Cell, _ int) behaviour {
		if c.Point["t"] >= 2 {
			return behaviour{block: true, started: started}
		}
		return behaviour{}
	})
	o := opts(s, e, st)
	o.Jobs = 2
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		<-started
		cancel()
	}()
	res, err := Run(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "interrupted: 2 cells finished") || !strings.Contains(err.Error(), "4 remain") {
		t.Fatalf("err = %v", err)
	}
	if res.OK != 2 || res.Interrupted != 2 || res.NotRun != 2 {
		t.Errorf("%+v", res)
	}
	hashes, _ := st.List()
	if len(hashes) != 2 {
		t.Errorf("store holds %d cells, want the 2 finished", len(hashes))
	}
	noProblems(t, st) // no temporary folder left behind
}

func TestRunCellWaitsForOtherRun(t *testing.T) {
	s, st := testSpec(1, 1), openStore(t)
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	e := newGoEngine(func(spec.Cell, int) behaviour { return behaviour{started: started} })
	blocking := &gateEngine{goEngine: e, gate: release}
	o := opts(s, blocking, st)
	c := s.Cells()[0]
	var first, second Outcome
	var err1, err2 error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); first, err1 = RunCell(context.Background(), &o, c, "") }()
	<-started
	wg.Add(1)
	go func() { defer wg.Done(); second, err2 = RunCell(context.Background(), &o, c, "") }()
	time.Sleep(50 * time.Millisecond) // let the second one find the lock held
	close(release)
	wg.Wait()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if e.runs.Load() != 1 {
		t.Errorf("the cell ran %d times", e.runs.Load())
	}
	if first.State != StateOK || first.Elsewhere || second.State != StateOK || !second.Elsewhere {
		t.Errorf("first %+v second %+v", first, second)
	}
}

// gateEngine holds a run until gate is closed.
type gateEngine struct {
	*goEngine
	gate chan struct{}
}

func (g *gateEngine) Run(ctx context.Context, req engine.Request) error {
	err := g.goEngine.Run(ctx, req)
	<-g.gate
	return err
}

func TestProgressLines(t *testing.T) {
	s, st := testSpec(2, 1), openStore(t)
	e := newGoEngine(func(c spec.Cell, _ int) behaviour {
		if c.Point["t"] == 1 {
			return behaviour{fail: 9}
		}
		return behaviour{}
	})
	var buf bytes.Buffer
	o := opts(s, e, st)
	o.Progress = &buf
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || lines[0] != "t: 2 cells, 0 cached, 2 to run (-j 1)" ||
		!strings.HasPrefix(lines[1], "[1/2] ok   t=0 repeat=0 ") ||
		!strings.HasPrefix(lines[2], "[2/2] FAIL t=1 repeat=0 ") || !strings.HasSuffix(lines[2], ": exit 9: exited with status 9") {
		t.Errorf("progress:\n%s", buf.String())
	}
	// A terminal gets a bar; it must not break the run.
	buf.Reset()
	o.Store, o.IsTTY = openStore(t), true
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "FAIL t=1") {
		t.Errorf("bar output lacks the failure line: %q", buf.String())
	}
}

func TestOptionErrors(t *testing.T) {
	s, st := testSpec(1, 1), openStore(t)
	e := newGoEngine(nil)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Engine: e, Store: st}, "no spec"},
		{Options{Spec: s, Store: st}, "no engine"},
		{Options{Spec: s, Engine: e}, "no store"},
		{Options{Spec: s, Engine: e, Store: st, Retries: -1}, "retries"},
		{Options{Spec: s, Engine: e, Store: st, GPUs: []string{"0", "0"}}, "repeated"},
	} {
		if _, err := Run(context.Background(), tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}

// The header says how many cells run at once, after the GPU cap: -j 4 over
// two GPUs runs two (it printed "-j 4").
func TestLocalJobs(t *testing.T) {
	tests := []struct {
		jobs int
		gpus []string
		want int
	}{
		{0, nil, 1},
		{3, nil, 3},
		{0, []string{"0", "1", "2"}, 3},
		{4, []string{"0", "1"}, 2},
		{1, []string{"0", "1"}, 1},
	}
	for _, tc := range tests {
		o := Options{Jobs: tc.jobs, GPUs: tc.gpus}
		if got := o.localJobs(); got != tc.want {
			t.Errorf("Jobs %d, GPUs %v: %d at once, want %d", tc.jobs, tc.gpus, got, tc.want)
		}
	}
	s, st := testSpec(2, 1), openStore(t)
	var buf bytes.Buffer
	o := opts(s, newGoEngine(func(spec.Cell, int) behaviour { return behaviour{} }), st)
	o.Progress, o.Jobs, o.GPUs = &buf, 4, []string{"0", "1"}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(buf.String(), "\n"); first != "t: 2 cells, 0 cached, 2 to run (-j 2)" {
		t.Errorf("header %q, want -j 2", first)
	}
}
