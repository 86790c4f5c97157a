package slurm_test

// Tests against a real Slurm: CI starts a single-node cluster with
// .ci/slurm-setup.sh and exports SLURM_CONF. Outside CI they skip when
// sinfo is absent or no cluster answers it (Slurm's client installed, no
// cluster configured), saying how to start one; under CI a missing or
// broken Slurm fails them.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/internal/labtest"
	labversion "github.com/schedlab/schedlab/lab/internal/version"

	"github.com/schedlab/schedlab/lab/experiment"
	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/runner/slurm"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/spec"
)

// ciSlurmConf is where .ci/slurm-setup.sh (BASE=/tmp/slurm-ci) writes the
// configuration; used when SLURM_CONF is not set.
const ciSlurmConf = "/tmp/slurm-ci/etc/slurm.conf"

var (
	buildOnce            sync.Once
	buildErr             error
	binDir, labBin, fake string

	verdictOnce sync.Once
	verdictSkip bool
	verdictMsg  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// needSlurm skips without Slurm (outside CI), fails when Slurm is there
// but does not answer, and builds the lab binary and the fake engine that
// the tasks run.
func needSlurm(t *testing.T) {
	t.Helper()
	_, lookErr := exec.LookPath("sinfo")
	if lookErr == nil && os.Getenv("SLURM_CONF") == "" {
		if _, err := os.Stat(ciSlurmConf); err == nil {
			t.Setenv("SLURM_CONF", ciSlurmConf)
		}
	}
	// Asked once per test binary: a configured cluster that is down makes
	// sinfo wait ~9 s for its controller, for every test otherwise.
	verdictOnce.Do(func() {
		var out []byte
		var sinfoErr error
		if lookErr == nil {
			out, sinfoErr = exec.Command("sinfo", "-h", "-o", "%T").CombinedOutput()
		}
		verdictSkip, verdictMsg = clusterVerdict(os.Getenv("CI"), lookErr == nil, string(out), sinfoErr, os.Getenv("SLURM_CONF"))
	})
	switch skip, msg := verdictSkip, verdictMsg; {
	case msg == "":
	case skip:
		t.Skip(msg)
	default:
		t.Fatal(msg)
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "lab-slurm-test-")
		if buildErr != nil {
			return
		}
		labBin, fake, buildErr = labtest.BuildCommands(binDir, false)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// startCluster says how to start the test cluster that CI uses.
const startCluster = "to run these tests, start a single-node test cluster as root: " +
	"BASE=/tmp/slurm-ci FAKE_GPUS=2 CPUS=8 .ci/slurm-setup.sh (stop it with BASE=/tmp/slurm-ci .ci/slurm-stop.sh)"

// clusterVerdict decides whether the cluster tests can run: msg is "" when
// a cluster answers; otherwise skip says whether to skip (outside CI) or
// fail (CI, where .ci/run starts a cluster), and msg says why.
func clusterVerdict(ci string, haveSinfo bool, sinfoOut string, sinfoErr error, slurmConf string) (skip bool, msg string) {
	inCI := ci != "" && ci != "false" && ci != "0"
	switch {
	case !haveSinfo && inCI:
		return false, "CI is set but sinfo is not on PATH: .ci/run should have started Slurm (.ci/slurm-setup.sh)"
	case !haveSinfo:
		return true, "sinfo not found: no Slurm here; " + startCluster
	}
	answers := sinfoErr == nil && (strings.Contains(sinfoOut, "idle") || strings.Contains(sinfoOut, "mix") || strings.Contains(sinfoOut, "alloc"))
	if answers {
		return false, ""
	}
	why := fmt.Sprintf("Slurm's client is installed but no cluster answers (SLURM_CONF=%q): sinfo: %v: %s", slurmConf, sinfoErr, strings.TrimSpace(sinfoOut))
	if inCI {
		return false, why
	}
	return true, why + "; " + startCluster
}

// writeSpec writes a spec file and parses it.
func writeSpec(t *testing.T, dir, body string) *spec.Spec {
	t.Helper()
	path := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func simSpec(name string) string {
	return `name: ` + name + `
engine:
  sim:
    model: llama-3-8b
    gpu: h200
    mode: graph
    scheduler: {chunk_size: 256, max_num_seqs: 10, policy: aging, time_weight: 1.0, prompt_weight: -0.01}
    workload:
      trace: splitwise_conv
      requests: 40
      max_tokens: 64
      arrival: {process: poisson, qps: 6}
sweep:
  min_chunk_threshold: [0, 4, 8]
repeats: 2
seed: 1
baseline: {min_chunk_threshold: 0}
`
}

// execSpec sweeps the fake engine over thresholds × 2 repeats; every start
// is logged to dir/starts.log; extra are more fake engine arguments.
func execSpec(dir, thresholds string, extra ...string) string {
	args := []string{fake, "--out", "{{.OutputDir}}", "--threshold", "{{.min_chunk_threshold}}",
		"--seed", "{{.Seed}}", "--repeat", "{{.Repeat}}", "--log", filepath.Join(dir, "starts.log")}
	var q []string
	for _, a := range append(args, extra...) {
		q = append(q, strconv.Quote(a))
	}
	return fmt.Sprintf("name: slurm-exec\nengine:\n  exec:\n    command: [%s]\nsweep:\n  min_chunk_threshold: %s\nrepeats: 2\nseed: 3\n",
		strings.Join(q, ", "), thresholds)
}

func openRun(t *testing.T, s *spec.Spec, root string) runner.Options {
	t.Helper()
	e, err := experiment.NewEngine(s)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return runner.Options{Spec: s, Engine: e, Store: st, LabVersion: labversion.Version}
}

// newExecutor returns a Slurm executor for tests whose arrays are
// scancelled at the end whatever happens.
func newExecutor(t *testing.T, cfg slurm.Config) *slurm.Executor {
	t.Helper()
	cfg.LabBinary = labBin
	if cfg.Poll == 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.LostGrace == 0 {
		cfg.LostGrace = 5 * time.Second
	}
	x := &slurm.Executor{Config: cfg}
	t.Cleanup(func() { scancelAll(t, x.JobIDs()) })
	return x
}

func scancelAll(t *testing.T, jobs []string) {
	if len(jobs) == 0 {
		return
	}
	if out, err := exec.Command("scancel", jobs...).CombinedOutput(); err != nil {
		t.Logf("cleanup: scancel %v: %v: %s", jobs, err, out)
	}
}

// queuedTasks lists what squeue still shows of jobs.
func queuedTasks(t *testing.T, jobs []string) string {
	t.Helper()
	out, err := exec.Command("squeue", "-h", "-r", "-j", strings.Join(jobs, ","), "-o", "%i %T").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "Invalid job id") {
		t.Fatalf("squeue: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func manifest(t *testing.T, x *slurm.Executor) *slurm.Manifest {
	t.Helper()
	m, err := slurm.ReadManifest(x.RunDir())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestArraySweepMatchesLocal runs a sim sweep as one array with fake GPUs
// and compares the store with a local run of the same spec: the same
// cells with the same files (cell.json differs in host and time only).
func TestArraySweepMatchesLocal(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	s := writeSpec(t, dir, simSpec("slurm-sim"))
	var progress bytes.Buffer
	cluster := openRun(t, s, filepath.Join(dir, "cluster"))
	x := newExecutor(t, slurm.Config{Gres: "gpu:1", MaxParallel: 4})
	cluster.Executor, cluster.ExecutorName, cluster.Progress = x, "slurm", &progress
	res, err := runner.Run(context.Background(), cluster)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if res.Total != 6 || res.OK != 6 || res.Failed != 0 || res.Ran != 6 {
		t.Fatalf("slurm run: %+v\n%s", res, progress.String())
	}
	for _, want := range []string{"6 to run (slurm array, at most 4 at once)", "slurm: submitted array job", "[6/6] ok"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
	local := openRun(t, s, filepath.Join(dir, "local"))
	if _, err := runner.Run(context.Background(), local); err != nil {
		t.Fatal(err)
	}
	got, want := labtest.Records[*store.Record](t, cluster.Store), labtest.Records[*store.Record](t, local.Store)
	if len(got) != 6 || !reflect.DeepEqual(keys(got), keys(want)) {
		t.Fatalf("cells: slurm %v, local %v", keys(got), keys(want))
	}
	for h, r := range got {
		if !reflect.DeepEqual(r.Files, want[h].Files) {
			t.Errorf("cell %.12s: files differ:\nslurm %v\nlocal %v", h, r.Files, want[h].Files)
		}
		if r.Executor != "slurm" || want[h].Executor != "local" {
			t.Errorf("cell %.12s: executors %q and %q", h, r.Executor, want[h].Executor)
		}
		// Slurm's gres picked the GPU; the cell says which.
		if r.CUDAVisibleDevices != "0" && r.CUDAVisibleDevices != "1" {
			t.Errorf("cell %.12s: cuda_visible_devices %q, want a fake GPU of gres (0 or 1)", h, r.CUDAVisibleDevices)
		}
	}
	m := manifest(t, x)
	if len(m.Arrays) != 1 || len(m.Arrays[0].Tasks) != 6 || m.Arrays[0].JobID == "" {
		t.Fatalf("manifest arrays: %+v", m.Arrays)
	}
	for _, task := range m.Arrays[0].Tasks {
		if got[task.Cell] == nil {
			t.Errorf("task %d names cell %.12s, which is not in the store", task.Task, task.Cell)
		}
		b, err := os.ReadFile(filepath.Join(x.RunDir(), "exit", fmt.Sprintf("%s_%d.json", m.Arrays[0].JobID, task.Task)))
		if err != nil {
			t.Fatal(err)
		}
		var ex slurm.ExitRecord
		if err := json.Unmarshal(b, &ex); err != nil || ex.ExitCode != 0 || ex.Cell != task.Cell {
			t.Errorf("exit record of task %d: %s (%v)", task.Task, b, err)
		}
	}
	// The throttle reached Slurm.
	out, err := exec.Command("scontrol", "show", "job", m.Arrays[0].JobID).CombinedOutput()
	if err == nil && !strings.Contains(string(out), "ArrayTaskThrottle=4") {
		t.Errorf("scontrol show job %s: no ArrayTaskThrottle=4:\n%s", m.Arrays[0].JobID, out)
	}
	// A second run finds everything cached and submits nothing.
	again := openRun(t, s, cluster.Store.Root())
	x2 := newExecutor(t, slurm.Config{})
	again.Executor = x2
	res, err = runner.Run(context.Background(), again)
	if err != nil || res.Cached != 6 || len(x2.JobIDs()) != 0 {
		t.Errorf("rerun: %+v, %v, jobs %v", res, err, x2.JobIDs())
	}
}

func keys(m map[string]*store.Record) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestFailedTasksAreResubmitted: the cells of threshold 4 fail on their
// first attempt (a counter file per cell); with --retries 1 they are
// resubmitted as a second array over just them and succeed, with 0 they
// are recorded failed.
func TestFailedTasksAreResubmitted(t *testing.T) {
	needSlurm(t)
	for _, retries := range []int{0, 1} {
		t.Run(fmt.Sprintf("retries=%d", retries), func(t *testing.T) {
			dir := t.TempDir()
			s := writeSpec(t, dir, execSpec(dir, "[2, 4, 6]", "--fail-times", "1",
				"--state", filepath.Join(dir, "count-{{.min_chunk_threshold}}-{{.Repeat}}")))
			// Only threshold 4 starts from a zero count.
			for _, th := range []string{"2", "6"} {
				for r := range 2 {
					if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("count-%s-%d", th, r)), []byte("1"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			var progress bytes.Buffer
			o := openRun(t, s, filepath.Join(dir, "store"))
			x := newExecutor(t, slurm.Config{})
			o.Executor, o.Progress, o.Retries = x, &progress, retries
			res, err := runner.Run(context.Background(), o)
			if err != nil {
				t.Fatalf("%v\n%s", err, progress.String())
			}
			m := manifest(t, x)
			if len(m.Arrays) != 1+retries {
				t.Fatalf("%d arrays submitted, want %d:\n%s", len(m.Arrays), 1+retries, progress.String())
			}
			var fours []string
			for _, task := range m.Arrays[0].Tasks {
				if task.Params["min_chunk_threshold"] == 4 {
					fours = append(fours, task.Cell)
					b, err := os.ReadFile(filepath.Join(x.RunDir(), "exit", fmt.Sprintf("%s_%d.json", m.Arrays[0].JobID, task.Task)))
					if err != nil || !strings.Contains(string(b), `"exit_code":1`) {
						t.Errorf("exit record of the failing task %d: %s, %v", task.Task, b, err)
					}
				}
			}
			sort.Strings(fours)
			recs := labtest.Records[*store.Record](t, o.Store)
			if retries == 0 {
				if res.OK != 4 || res.Failed != 2 {
					t.Fatalf("result %+v\n%s", res, progress.String())
				}
				for _, h := range fours {
					if r := recs[h]; r == nil || r.Status != store.StatusFailed || r.ExitCode != 3 {
						t.Errorf("cell %.12s: record %+v, want failed with exit 3", h, r)
					}
				}
				return
			}
			if res.OK != 6 || res.Failed != 0 {
				t.Fatalf("result %+v\n%s", res, progress.String())
			}
			second := m.Arrays[1]
			var resub []string
			for _, task := range second.Tasks {
				resub = append(resub, task.Cell)
			}
			sort.Strings(resub)
			if second.Round != 2 || !reflect.DeepEqual(resub, fours) {
				t.Errorf("second array: round %d cells %v; want round 2 over the threshold-4 cells %v", second.Round, resub, fours)
			}
			if !strings.Contains(progress.String(), "2 cells failed; resubmitting them (retry 1 of 1)") {
				t.Errorf("progress:\n%s", progress.String())
			}
			for h, r := range recs {
				if !r.OK() {
					t.Errorf("cell %.12s: %s: %s", h, r.Status, r.Reason)
				}
			}
			// Threshold 4 started twice per repeat, the others once.
			b, _ := os.ReadFile(filepath.Join(dir, "starts.log"))
			for th, want := range map[string]int{"2": 2, "4": 4, "6": 2} {
				if n := strings.Count(string(b), "threshold="+th+" "); n != want {
					t.Errorf("threshold %s started %d times, want %d:\n%s", th, n, want, b)
				}
			}
		})
	}
}

// TestCancelThenResume cancels a run mid-way (what Ctrl-C does): the
// arrays are scancelled and leave nothing queued, the cells that finished
// stay, and the next run submits exactly the missing ones.
func TestCancelThenResume(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	s := writeSpec(t, dir, execSpec(dir, "[1, 2, 3, 4]", "--sleep", "1500ms"))
	o := openRun(t, s, filepath.Join(dir, "store"))
	x := newExecutor(t, slurm.Config{MaxParallel: 2})
	var progress bytes.Buffer
	o.Executor, o.Progress = x, &progress
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Cancel once two cells are in the store.
		for ctx.Err() == nil {
			if hs, _ := o.Store.List(); len(hs) >= 2 {
				cancel()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	res, err := runner.Run(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("cancelled run: error %v, result %+v\n%s", err, res, progress.String())
	}
	if q := queuedTasks(t, x.JobIDs()); q != "" {
		t.Errorf("tasks left in Slurm after the cancel:\n%s", q)
	}
	done := labtest.Records[*store.Record](t, o.Store)
	if len(done) < 2 || len(done) >= 8 || res.OK != len(done) {
		t.Fatalf("after the cancel: %d cells in the store, result %+v\n%s", len(done), res, progress.String())
	}
	before, _ := os.ReadFile(filepath.Join(dir, "starts.log"))

	// Resume.
	o2 := openRun(t, s, o.Store.Root())
	x2 := newExecutor(t, slurm.Config{MaxParallel: 4})
	o2.Executor = x2
	res2, err := runner.Run(context.Background(), o2)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Cached != len(done) || res2.OK != 8-len(done) || res2.Failed != 0 {
		t.Fatalf("resume: %+v (had %d cells)", res2, len(done))
	}
	m := manifest(t, x2)
	plan, err := runner.Plan(s, o2.Engine)
	if err != nil {
		t.Fatal(err)
	}
	var missing, submitted []string
	for _, p := range plan {
		if done[p.Hash] == nil {
			missing = append(missing, p.Hash)
		}
	}
	for _, a := range m.Arrays {
		for _, task := range a.Tasks {
			submitted = append(submitted, task.Cell)
		}
	}
	sort.Strings(missing)
	sort.Strings(submitted)
	if !reflect.DeepEqual(missing, submitted) {
		t.Errorf("resume submitted %v, want exactly the missing cells %v", submitted, missing)
	}
	// Cells done before the resume were not started again.
	after, _ := os.ReadFile(filepath.Join(dir, "starts.log"))
	for h, r := range done {
		key := fmt.Sprintf("threshold=%g repeat=%d ", r.Inputs.Params["min_chunk_threshold"], r.Inputs.Repeat)
		if strings.Count(string(after), key) != strings.Count(string(before), key) {
			t.Errorf("cell %.12s (%s) ran again on resume", h, key)
		}
	}
	if n := len(labtest.Records[*store.Record](t, o2.Store)); n != 8 {
		t.Errorf("%d cells after the resume, want 8", n)
	}
	ps, err := o2.Store.Verify()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		t.Errorf("verify: %s", p)
	}
}

// TestDetachAndStatus drives the lab binary: --detach returns at once
// with the array job id, lab status follows the run, and once the tasks
// are done every cell is ok.
func TestDetachAndStatus(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	writeSpec(t, dir, execSpec(dir, "[1, 2]", "--sleep", "300ms"))
	st := filepath.Join(dir, "store")
	labRun := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(labBin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("lab %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := labRun("run", "exp.yaml", "--store", st, "--executor", "slurm", "--detach", "--max-parallel", "1")
	if !strings.Contains(out, "4 submitted as Slurm array job") || !strings.Contains(out, "lab status exp.yaml") {
		t.Fatalf("detach output:\n%s", out)
	}
	runs, err := slurm.Runs(st)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	m, err := slurm.ReadManifest(runs[0])
	if err != nil {
		t.Fatal(err)
	}
	var jobs []string
	for _, a := range m.Arrays {
		jobs = append(jobs, a.JobID)
	}
	t.Cleanup(func() { scancelAll(t, jobs) })
	if !m.Detached {
		t.Error("manifest: detached is false")
	}
	deadline := time.Now().Add(2 * time.Minute)
	var sawQueued bool
	for {
		var l struct {
			Counts map[string]int    `json:"counts"`
			Slurm  []slurm.RunStatus `json:"slurm"`
		}
		if err := json.Unmarshal([]byte(labRun("status", "exp.yaml", "--store", st, "--json")), &l); err != nil {
			t.Fatal(err)
		}
		if len(l.Slurm) != 1 || l.Slurm[0].Tasks != 4 || l.Slurm[0].SqueueError != "" {
			t.Fatalf("status slurm: %+v", l.Slurm)
		}
		if l.Slurm[0].Active() {
			sawQueued = true
		}
		if l.Counts["ok"] == 4 && !l.Slurm[0].Active() {
			if l.Slurm[0].Exited != 4 || l.Slurm[0].Failed != 0 {
				t.Errorf("finished run: %+v", l.Slurm[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("detached run not done after 2 minutes: %+v %+v", l.Counts, l.Slurm)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !sawQueued {
		t.Error("lab status never saw the run's tasks queued or running (4 tasks of 300ms, one at a time)")
	}
	text := labRun("status", "exp.yaml", "--store", st)
	if !strings.Contains(text, "slurm run "+m.Run+" (array job "+jobs[0]+"): 4 tasks: 0 pending, 0 running, 4 exited (0 failed)") {
		t.Errorf("status text:\n%s", text)
	}
}

// TestLostTasksAreRecordedFailed: a task whose lab dies without recording
// its cell (killed, as the OOM killer or a time limit would) leaves an exit
// record but no cell; one whose whole batch script dies (a lost node)
// leaves neither. Either way the controller records the cell failed, with
// Slurm's output in the cell, so that lab status says why.
func TestLostTasksAreRecordedFailed(t *testing.T) {
	needSlurm(t)
	for _, tc := range []struct {
		name, kill, why string
	}{
		// The engine's parent is lab, lab's parent the batch script.
		{"lab killed", `kill -KILL $PPID`, "exited 137 without recording the cell"},
		{"task killed", `kill -KILL $(cut -d' ' -f4 /proc/$PPID/stat) $PPID`, "ended without an exit record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := writeSpec(t, dir, fmt.Sprintf("name: lost\nengine:\n  exec:\n    command: [bash, -c, %q, x, \"{{.min_chunk_threshold}}\", \"{{.OutputDir}}\"]\nsweep:\n  min_chunk_threshold: [1]\nrepeats: 1\nseed: 1\n",
				"echo dying; "+tc.kill+"; sleep 5"))
			o := openRun(t, s, filepath.Join(dir, "store"))
			x := newExecutor(t, slurm.Config{LostGrace: time.Second})
			var progress bytes.Buffer
			o.Executor, o.Progress = x, &progress
			res, err := runner.Run(context.Background(), o)
			if err != nil {
				t.Fatalf("%v\n%s", err, progress.String())
			}
			if res.Failed != 1 || res.OK != 0 {
				t.Fatalf("result %+v\n%s", res, progress.String())
			}
			recs := labtest.Records[*store.Record](t, o.Store)
			if len(recs) != 1 {
				t.Fatalf("%d records, want the failed one", len(recs))
			}
			for h, r := range recs {
				prefix := "slurm task " + x.JobIDs()[0] + "_0 " + tc.why
				if r.Status != store.StatusFailed || !strings.HasPrefix(r.Reason, prefix) || r.Executor != "slurm" {
					t.Errorf("cell %.12s: %s: %q (executor %s); want a reason starting %q", h, r.Status, r.Reason, r.Executor, prefix)
				}
				if _, ok := r.Files["slurm.out"]; !ok {
					t.Errorf("cell %.12s: no slurm.out among %v", h, r.Files)
				}
			}
			if !strings.Contains(progress.String(), "[1/1] FAIL") {
				t.Errorf("progress:\n%s", progress.String())
			}
		})
	}
}

// TestArraysChainedOverTheLimit: a plan bigger than one array may hold is
// split into arrays that run one after the other, and all cells complete.
func TestArraysChainedOverTheLimit(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	s := writeSpec(t, dir, execSpec(dir, "[1, 2, 3]", "--sleep", "1s"))
	o := openRun(t, s, filepath.Join(dir, "store"))
	x := newExecutor(t, slurm.Config{ArrayLimit: 4})
	o.Executor = x
	res, err := runner.Run(context.Background(), o)
	if err != nil || res.OK != 6 {
		t.Fatalf("%+v, %v", res, err)
	}
	m := manifest(t, x)
	if len(m.Arrays) != 2 || len(m.Arrays[0].Tasks) != 4 || len(m.Arrays[1].Tasks) != 2 {
		t.Fatalf("arrays: %+v", m.Arrays)
	}
	// Every task of the second array started after the first had ended.
	_, firstEnd := taskTimes(t, m.Arrays[0].JobID)
	secondStart, _ := taskTimes(t, m.Arrays[1].JobID)
	if secondStart.Before(firstEnd) {
		t.Errorf("the second array started at %v, before the first ended (%v)", secondStart, firstEnd)
	}
}

// taskTimes is the earliest start and the latest end of an array's tasks,
// from scontrol (which remembers them for MinJobAge).
func taskTimes(t *testing.T, job string) (start, end time.Time) {
	t.Helper()
	out, err := exec.Command("scontrol", "-o", "show", "job", job).CombinedOutput()
	if err != nil {
		t.Fatalf("scontrol: %v: %s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			if k != "StartTime" && k != "EndTime" {
				continue
			}
			ts, err := time.ParseInLocation("2006-01-02T15:04:05", v, time.Local)
			if err != nil {
				t.Fatalf("scontrol %s=%q: %v", k, v, err)
			}
			if k == "StartTime" && (start.IsZero() || ts.Before(start)) {
				start = ts
			}
			if k == "EndTime" && ts.After(end) {
				end = ts
			}
		}
	}
	return start, end
}

// TestCtrlC interrupts `lab run --executor slurm` with SIGINT, as a user's
// Ctrl-C does: it scancels its array, exits 1, leaves nothing queued, and a
// second `lab run` completes the experiment.
func TestCtrlC(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	writeSpec(t, dir, execSpec(dir, "[1, 2, 3]", "--sleep", "1s"))
	st := filepath.Join(dir, "store")
	args := []string{"run", "exp.yaml", "--store", st, "--executor", "slurm", "--max-parallel", "2", "--poll", "200ms", "--no-report"}
	cmd := exec.Command(labBin, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cells := filepath.Join(st, "cells")
	for deadline := time.Now().Add(time.Minute); ; {
		if ents, _ := os.ReadDir(cells); len(ents) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no cell after a minute:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	runs, _ := slurm.Runs(st)
	if len(runs) != 1 {
		t.Fatalf("runs: %v", runs)
	}
	m, rerr := slurm.ReadManifest(runs[0])
	if rerr != nil {
		t.Fatal(rerr)
	}
	jobs := []string{m.Arrays[0].JobID}
	t.Cleanup(func() { scancelAll(t, jobs) })
	if xe, ok := err.(*exec.ExitError); !ok || xe.ExitCode() != 1 {
		t.Fatalf("lab run after SIGINT: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "slurm: cancelling array jobs "+jobs[0]) || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	if q := queuedTasks(t, jobs); q != "" {
		t.Errorf("left in Slurm after Ctrl-C:\n%s", q)
	}
	cmd = exec.Command(labBin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ran (") || !strings.Contains(string(out), "0 failed)") {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "6 cells: ") {
		t.Errorf("resume output:\n%s", out)
	}
}

// TestSbatchRejects: sbatch's own complaint reaches the user, and the run
// records no array.
func TestSbatchRejects(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	s := writeSpec(t, dir, execSpec(dir, "[1]"))
	o := openRun(t, s, filepath.Join(dir, "store"))
	x := newExecutor(t, slurm.Config{Partition: "no-such-partition"})
	o.Executor = x
	_, err := runner.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "submitting array 1") || !strings.Contains(strings.ToLower(err.Error()), "partition") {
		t.Fatalf("error %v; want sbatch's complaint about the partition", err)
	}
	if m := manifest(t, x); len(m.Arrays) != 0 || len(x.JobIDs()) != 0 {
		t.Errorf("arrays recorded: %+v", m.Arrays)
	}
}

// TestFailFast: after the first failure the tasks not started yet are
// cancelled; those running finish.
func TestFailFast(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	s := writeSpec(t, dir, execSpec(dir, "[1, 2, 3, 4]", "--sleep", "500ms", "--fail", "3", "--fail-at", "1"))
	o := openRun(t, s, filepath.Join(dir, "store"))
	x := newExecutor(t, slurm.Config{MaxParallel: 1})
	var progress bytes.Buffer
	o.Executor, o.Progress, o.FailFast = x, &progress, true
	res, err := runner.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed < 1 || res.NotRun < 4 || res.Failed+res.OK+res.NotRun != 8 {
		t.Errorf("result %+v: want the first cell failed and most never started\n%s", res, progress.String())
	}
	if !strings.Contains(progress.String(), "--fail-fast: cancelling the tasks that have not started") {
		t.Errorf("progress:\n%s", progress.String())
	}
	if q := queuedTasks(t, x.JobIDs()); q != "" {
		t.Errorf("left in Slurm:\n%s", q)
	}
}

// TestStorePathWithPercent: sbatch expands %-sequences anywhere in
// --output; a store whose path holds '%' still gets its tasks' output
// files where the run reads them.
func TestStorePathWithPercent(t *testing.T) {
	needSlurm(t)
	dir := t.TempDir()
	s := writeSpec(t, dir, execSpec(dir, "[1, 2]"))
	root := filepath.Join(dir, "100%j %u store")
	o := openRun(t, s, root)
	o.Executor = newExecutor(t, slurm.Config{})
	res, err := runner.Run(context.Background(), o)
	if err != nil || res.OK != 4 {
		t.Fatalf("%+v, %v", res, err)
	}
	var outs int
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".out") && filepath.Base(filepath.Dir(p)) == "out" {
			outs++
		}
		return nil
	})
	if outs == 0 {
		t.Errorf("no task output file under %s: sbatch expanded the '%%' of the path", root)
	}
}
