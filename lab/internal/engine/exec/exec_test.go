package exec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

var fake string // path of the built fake engine

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fakeengine-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fake = filepath.Join(dir, "fakeengine")
	cmd := osexec.Command("go", "build", "-o", fake, "github.com/schedlab/schedlab/lab/cmd/fakeengine")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the fake engine:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func cell(th float64, repeat int, seed int64) spec.Cell {
	return spec.Cell{Point: spec.Point{"min_chunk_threshold": th}, Repeat: repeat, Seed: seed}
}

var params = []string{"min_chunk_threshold"}

func newEngine(t *testing.T, cfg spec.ExecConfig) *Engine {
	t.Helper()
	e, err := New(&cfg, "", params)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// standalone runs the fake engine directly for (threshold, seed) and returns
// its plots folder: what a cell's CSVs must equal byte for byte.
func standalone(t *testing.T, th float64, seed int64) string {
	t.Helper()
	out := t.TempDir()
	cmd := osexec.Command(fake, "--out", out, "--threshold", strconv.FormatFloat(th, 'g', -1, 64), "--seed", strconv.FormatInt(seed, 10))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return filepath.Join(out, sarathi.PlotsDir)
}

func sameCSVs(t *testing.T, got, want string) {
	t.Helper()
	ents, err := os.ReadDir(want)
	if err != nil {
		t.Fatal(err)
	}
	gotEnts, err := os.ReadDir(got)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotEnts) != len(ents) {
		t.Errorf("%s has %d files, want %d", got, len(gotEnts), len(ents))
	}
	for _, e := range ents {
		w, _ := os.ReadFile(filepath.Join(want, e.Name()))
		g, err := os.ReadFile(filepath.Join(got, e.Name()))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if !bytes.Equal(g, w) {
			t.Errorf("%s/%s differs from the standalone run", got, e.Name())
		}
	}
}

func TestRunOutputDir(t *testing.T) {
	e := newEngine(t, spec.ExecConfig{Command: []string{fake, "--out", "{{.OutputDir}}",
		"--threshold", "{{.min_chunk_threshold}}", "--seed", "{{.Seed}}", "--repeat", "{{.Repeat}}"}})
	var wg sync.WaitGroup
	dirs := make([]string, 6)
	errs := make([]error, 6)
	lockDir := t.TempDir() // not the system temp folder: lock files stay
	for i := range dirs {
		dirs[i] = t.TempDir()
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var out, errb bytes.Buffer
			errs[i] = e.Run(context.Background(), engine.Request{Cell: cell(float64(i), i%2, int64(100+i)), Dir: dirs[i], Stdout: &out, Stderr: &errb, LockDir: lockDir})
			if !strings.Contains(out.String(), fmt.Sprintf("threshold=%d seed=%d", i, 100+i)) {
				t.Errorf("stdout %q", out.String())
			}
		}(i)
	}
	wg.Wait()
	for i, d := range dirs {
		if errs[i] != nil {
			t.Fatalf("cell %d: %v", i, errs[i])
		}
		sameCSVs(t, filepath.Join(d, sarathi.PlotsDir), standalone(t, float64(i), int64(100+i)))
		if _, err := os.Stat(filepath.Join(d, "output")); !os.IsNotExist(err) {
			t.Errorf("empty output folder left behind: %v", err)
		}
		if err := sarathi.Check(filepath.Join(d, sarathi.PlotsDir)); err != nil {
			t.Error(err)
		}
	}
}

func TestRunOutputsGlob(t *testing.T) {
	wd := t.TempDir()
	// A folder from an earlier, unrelated run must never be taken.
	old := filepath.Join(wd, "offline_inference_output", "2000-01-01_00-00-00", sarathi.PlotsDir)
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, spec.ExecConfig{Workdir: wd, Outputs: "offline_inference_output/*/replica_0/plots",
		Command: []string{fake, "--root", "offline_inference_output", "--threshold", "{{.min_chunk_threshold}}", "--seed", "{{.Seed}}"}})
	lockDir := t.TempDir()
	// Each run tells the runner it waits for the shared root (so that its
	// time limit stops meanwhile), and that it has it.
	var queued, got atomic.Int64
	queue := func() func() {
		queued.Add(1)
		return func() { got.Add(1) }
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	dirs := make([]string, 5)
	errs := make([]error, 5)
	for i := range dirs {
		dirs[i] = t.TempDir()
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = e.Run(ctx, engine.Request{Cell: cell(float64(i), 0, int64(7+i)), Dir: dirs[i], Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, LockDir: lockDir, Queued: queue})
		}(i)
	}
	wg.Wait()
	for i, d := range dirs {
		if errs[i] != nil {
			t.Fatalf("cell %d: %v", i, errs[i])
		}
		sameCSVs(t, filepath.Join(d, sarathi.PlotsDir), standalone(t, float64(i), int64(7+i)))
	}
	if queued.Load() != 5 || got.Load() != 5 {
		t.Errorf("engine.Queue: %d waits, %d done; want 5 and 5", queued.Load(), got.Load())
	}
	runs, _ := filepath.Glob(filepath.Join(wd, "offline_inference_output", "*"))
	if len(runs) != 6 {
		t.Errorf("the engine's own folders should stay: %d, want 6", len(runs))
	}
	if locks, _ := filepath.Glob(filepath.Join(lockDir, "exec-outputs-*.lock")); len(locks) != 1 {
		t.Errorf("lock files in the lock folder: %v", locks)
	}
}

func TestRunFailures(t *testing.T) {
	wd := t.TempDir()
	tests := []struct {
		name    string
		cfg     spec.ExecConfig
		code    int
		reason  string
		noExit  bool // error is not an ExitError
		prepare func()
	}{
		{name: "exit status", code: 5, reason: "exited with status 5",
			cfg: spec.ExecConfig{Command: []string{fake, "--out", "{{.OutputDir}}", "--fail", "5"}}},
		{name: "no plots", reason: "wrote no replica_0/plots folder under {{.OutputDir}}",
			cfg: spec.ExecConfig{Command: []string{"sh", "-c", "echo {{.OutputDir}} >/dev/null"}}},
		{name: "not found", code: 127, reason: "cannot start",
			cfg: spec.ExecConfig{Command: []string{filepath.Join(wd, "nope"), "{{.OutputDir}}"}}},
		{name: "no workdir", code: 127, reason: "cannot start ./bench.sh: workdir " + filepath.Join(wd, "gone") + " is not a folder",
			cfg: spec.ExecConfig{Workdir: filepath.Join(wd, "gone"), Command: []string{"./bench.sh", "{{.OutputDir}}"}}},
		{name: "no new folder", reason: "created no new folder matching outputs",
			cfg: spec.ExecConfig{Workdir: wd, Outputs: "root/*/replica_0/plots", Command: []string{"true"}}},
		{name: "two new folders", reason: "created 2 new folders matching outputs",
			cfg: spec.ExecConfig{Workdir: wd, Outputs: "root2/*/replica_0/plots",
				Command: []string{"mkdir", "-p", "root2/a/replica_0/plots", "root2/b/replica_0/plots"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, tc.cfg)
			err := e.Run(context.Background(), engine.Request{Cell: cell(1, 0, 1), Dir: t.TempDir(), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, LockDir: t.TempDir()})
			var xe *engine.ExitError
			if !errors.As(err, &xe) {
				t.Fatalf("err = %v, want an ExitError", err)
			}
			if xe.Code != tc.code || !strings.Contains(xe.Reason, tc.reason) {
				t.Errorf("got code %d reason %q, want %d and %q", xe.Code, xe.Reason, tc.code, tc.reason)
			}
		})
	}
}

// gone reports whether pid no longer runs (a zombie counts as gone: in a
// container nobody may reap it).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func TestCancelKillsProcessGroup(t *testing.T) {
	for _, ignoreTerm := range []bool{false, true} {
		t.Run(fmt.Sprintf("ignore-term=%v", ignoreTerm), func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pids")
			cmd := []string{fake, "--out", "{{.OutputDir}}", "--hang", "--pid-file", pidFile}
			if ignoreTerm {
				cmd = append(cmd, "--ignore-term")
			}
			e := newEngine(t, spec.ExecConfig{Command: cmd})
			e.Grace = 300 * time.Millisecond
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				errc <- e.Run(ctx, engine.Request{Cell: cell(0, 0, 0), Dir: t.TempDir(), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, LockDir: t.TempDir()})
			}()
			var pids []int
			for deadline := time.Now().Add(10 * time.Second); len(pids) < 2; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the fake engine did not start")
				}
				b, _ := os.ReadFile(pidFile)
				pids = pids[:0]
				for _, f := range strings.Fields(string(b)) {
					n, _ := strconv.Atoi(f)
					pids = append(pids, n)
				}
			}
			cancel()
			select {
			case err := <-errc:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after cancel")
			}
			for _, pid := range pids {
				for deadline := time.Now().Add(2 * time.Second); !gone(pid); time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Errorf("process %d still running", pid)
						break
					}
				}
			}
		})
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("LAB_TEST_INHERITED", "yes")
	e := newEngine(t, spec.ExecConfig{
		Command: []string{"sh", "-c", `echo "$A|$LAB_TEST_INHERITED|$CUDA_VISIBLE_DEVICES|$PWD" ; mkdir -p "$OUT/replica_0/plots"`},
		Env:     map[string]string{"A": "t={{.min_chunk_threshold}} r={{.Repeat}}", "OUT": "{{.OutputDir}}", "CUDA_VISIBLE_DEVICES": "9"},
		Workdir: "/",
	})
	var out bytes.Buffer
	err := e.Run(context.Background(), engine.Request{Cell: cell(0.5, 3, 0), Dir: t.TempDir(), Stdout: &out, Stderr: &bytes.Buffer{}, GPU: "2", LockDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "t=0.5 r=3|yes|2|/\n"; got != want {
		t.Errorf("env = %q, want %q", got, want)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name   string
		cfg    spec.ExecConfig
		params []string
		want   string
	}{
		{"empty", spec.ExecConfig{}, params, "command is empty"},
		{"no output", spec.ExecConfig{Command: []string{"x"}}, params, "does not take {{.OutputDir}} and outputs is empty"},
		{"both", spec.ExecConfig{Command: []string{"x", "{{.OutputDir}}"}, Outputs: "a/*"}, params, "outputs is set too"},
		{"bad template", spec.ExecConfig{Command: []string{"x", "{{.OutputDir"}}, params, "command[1]"},
		{"unknown field", spec.ExecConfig{Command: []string{"x", "{{.OutputDir}}", "{{.nope}}"}}, params, `map has no entry for key "nope"`},
		{"no wildcard", spec.ExecConfig{Command: []string{"x"}, Outputs: "out/replica_0/plots"}, params, "has no wildcard"},
		{"bad glob", spec.ExecConfig{Command: []string{"x"}, Outputs: "out/[/plots"}, params, "not a valid glob"},
		{"collision", spec.ExecConfig{Command: []string{"x", "{{.OutputDir}}"}}, []string{"Seed"}, "collides"},
		{"bad env", spec.ExecConfig{Command: []string{"x", "{{.OutputDir}}"}, Env: map[string]string{"A=B": "1"}}, params, "not a valid variable name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(&tc.cfg, "", tc.params)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestIdentityAndWorkdir(t *testing.T) {
	home, _ := os.UserHomeDir()
	base := spec.ExecConfig{Command: []string{"x", "{{.OutputDir}}"}, Workdir: "~/sarathi"}
	a, err := New(&base, "/specs/a.yaml", params)
	if err != nil {
		t.Fatal(err)
	}
	if a.Workdir() != filepath.Join(home, "sarathi") {
		t.Errorf("workdir %q", a.Workdir())
	}
	longer := base
	longer.Timeout = spec.Duration{Duration: time.Hour}
	b, _ := New(&longer, "/specs/a.yaml", params)
	if fmt.Sprint(a.Identity()) != fmt.Sprint(b.Identity()) {
		t.Error("the timeout changed the identity")
	}
	if b.DefaultTimeout() != time.Hour {
		t.Errorf("DefaultTimeout = %v", b.DefaultTimeout())
	}
	rel := spec.ExecConfig{Command: base.Command, Workdir: "../bench"}
	c, _ := New(&rel, "/specs/x/a.yaml", params)
	if c.Workdir() != "/specs/bench" {
		t.Errorf("relative workdir resolved to %q, want /specs/bench (relative to the spec file)", c.Workdir())
	}
	argv, err := c.Argv(cell(0.25, 2, 11), "/o")
	if err != nil || strings.Join(argv, " ") != "x /o" {
		t.Errorf("argv %q %v", argv, err)
	}
}
