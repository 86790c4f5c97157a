package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/schedlab/schedlab/lab/internal/engine/engines" // specs name engine kinds
	"github.com/schedlab/schedlab/lab/internal/labtest"

	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

var labBin, fakeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lab-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	labBin, fakeBin, err = labtest.BuildCommands(dir, os.Getenv("LAB_E2E_RACE") != "") // LAB_E2E_RACE=1: a race-checked lab binary
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// experiment is a spec file in its own folder, with the fake engine's
// start log next to it.
type experiment struct {
	dir, spec, log string
}

// newExperiment writes a spec sweeping min_chunk_threshold over values ×
// repeats; extra are more fake engine arguments, engineYAML more exec keys.
func newExperiment(t *testing.T, values string, repeats int, extra []string, engineYAML string) *experiment {
	t.Helper()
	dir := t.TempDir()
	x := &experiment{dir: dir, spec: filepath.Join(dir, "exp.yaml"), log: filepath.Join(dir, "starts.log")}
	args := []string{fakeBin, "--out", "{{.OutputDir}}", "--threshold", "{{.min_chunk_threshold}}",
		"--seed", "{{.Seed}}", "--repeat", "{{.Repeat}}", "--log", x.log}
	args = append(args, extra...)
	var q []string
	for _, a := range args {
		q = append(q, strconv.Quote(a))
	}
	body := fmt.Sprintf("name: e2e\nengine:\n  exec:\n    command: [%s]\n%ssweep:\n  min_chunk_threshold: %s\nrepeats: %d\nseed: 3\n",
		strings.Join(q, ", "), engineYAML, values, repeats)
	if err := os.WriteFile(x.spec, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return x
}

type result struct {
	stdout, stderr string
	code           int
}

func (x *experiment) lab(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(labBin, args...)
	cmd.Dir = x.dir
	cmd.Env = append(os.Environ(), "LAB_STORE=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if xe, ok := err.(*exec.ExitError); ok {
		r.code = xe.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

func (x *experiment) starts(t *testing.T) int {
	b, err := os.ReadFile(x.log)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

func (x *experiment) store(t *testing.T, name string) *store.Store {
	st, err := store.Open(filepath.Join(x.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func verifyClean(t *testing.T, st *store.Store) {
	t.Helper()
	ps, err := st.Verify()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		t.Errorf("lab verify: %s", p)
	}
}

func mustOK(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// standaloneDigests runs the fake engine by hand for (threshold, seed) and
// returns the sha256 of each CSV it wrote, keyed like Record.Files.
func standaloneDigests(t *testing.T, th float64, seed int64) map[string]string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command(fakeBin, "--out", out, "--threshold", strconv.FormatFloat(th, 'g', -1, 64), "--seed", strconv.FormatInt(seed, 10))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	plots := filepath.Join(out, sarathi.PlotsDir)
	ents, _ := os.ReadDir(plots)
	m := map[string]string{}
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(plots, e.Name()))
		sum := sha256.Sum256(b)
		m[sarathi.PlotsDir+"/"+e.Name()] = hex.EncodeToString(sum[:])
	}
	return m
}

// checkNoCrosstalk asserts that every cell's CSVs are exactly what the
// engine writes for that cell's own threshold and seed.
func checkNoCrosstalk(t *testing.T, recs map[string]*store.Record) {
	t.Helper()
	for h, r := range recs {
		th := r.Inputs.Params["min_chunk_threshold"]
		want := standaloneDigests(t, th, spec.CellSeed(r.Inputs.Seed, r.Inputs.Repeat))
		for f, d := range want {
			if r.Files[f] != d {
				t.Errorf("cell %s (threshold %g repeat %d): %s differs from its own standalone run", h[:12], th, r.Inputs.Repeat, f)
			}
		}
	}
}

// Cells of an engine writing under a fixed offline_inference_output/
// <timestamp>/ root run with -j 4 and still get their own files.
func TestFixedOutputRootNoCrosstalk(t *testing.T) {
	x := newExperiment(t, "[0, 1, 2, 3]", 2, nil, "")
	body, _ := os.ReadFile(x.spec)
	body = bytes.Replace(body, []byte(`"--out", "{{.OutputDir}}"`), []byte(`"--root", "offline_inference_output"`), 1)
	body = bytes.Replace(body, []byte("    command:"), []byte("    outputs: offline_inference_output/*/replica_0/plots\n    command:"), 1)
	os.WriteFile(x.spec, body, 0o644)
	mustOK(t, x.lab(t, "run", "exp.yaml", "-j", "4"))
	recs := labtest.Records[*store.Record](t, x.store(t, ".lab"))
	if len(recs) != 8 {
		t.Fatalf("%d cells", len(recs))
	}
	checkNoCrosstalk(t, recs)
	runs, _ := filepath.Glob(filepath.Join(x.dir, "offline_inference_output", "*"))
	if len(runs) != 8 {
		t.Errorf("%d engine run folders, want 8", len(runs))
	}
}

// waitCells polls until the store holds at least n committed cells.
func waitCells(t *testing.T, dir string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ents, _ := os.ReadDir(filepath.Join(dir, "cells"))
		if len(ents) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %d cells in %s (have %d)", n, dir, len(ents))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKill9ThenResume(t *testing.T) {
	x := newExperiment(t, "{from: 0, to: 5, step: 1}", 2, []string{"--sleep", "150ms"}, "")
	cmd := exec.Command(labBin, "run", "exp.yaml", "-j", "2", "--store", "killed")
	cmd.Dir = x.dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitCells(t, filepath.Join(x.dir, "killed"), 4)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	time.Sleep(300 * time.Millisecond) // engines of the killed run get SIGTERM (parent-death signal)
	killed := x.store(t, "killed")
	done := len(labtest.Records[*store.Record](t, killed))
	if done >= 12 {
		t.Skip("the run finished before it was killed")
	}
	before := x.starts(t)
	r := x.lab(t, "run", "exp.yaml", "-j", "2", "--store", "killed")
	mustOK(t, r)
	if want := fmt.Sprintf("12 cells: %d cached, %d ran", done, 12-done); !strings.Contains(r.stdout, want) {
		t.Errorf("rerun: %s, want %q", r.stdout, want)
	}
	if n := x.starts(t) - before; n != 12-done {
		t.Errorf("the rerun started %d engines, want %d (only the missing cells)", n, 12-done)
	}
	verifyClean(t, killed)

	mustOK(t, x.lab(t, "run", "exp.yaml", "-j", "2", "--store", "clean"))
	a, b := labtest.Records[*store.Record](t, killed), labtest.Records[*store.Record](t, x.store(t, "clean"))
	if len(a) != 12 || len(b) != 12 {
		t.Fatalf("cells: %d resumed, %d uninterrupted", len(a), len(b))
	}
	for h, ra := range a {
		rb, ok := b[h]
		if !ok {
			t.Errorf("cell %s only in the resumed store", h)
			continue
		}
		if !reflect.DeepEqual(ra.Files, rb.Files) {
			t.Errorf("cell %s: files differ between resumed and uninterrupted store:\n%v\n%v", h, ra.Files, rb.Files)
		}
	}
}

func TestConcurrentRunsRunEachCellOnce(t *testing.T) {
	x := newExperiment(t, "{from: 0, to: 5, step: 1}", 2, []string{"--sleep", "50ms"}, "")
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for range 2 {
		cmd := exec.Command(labBin, "run", "exp.yaml", "-j", "3")
		cmd.Dir = x.dir
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &b)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("run %d: %v\n%s", i, err, outs[i])
		}
	}
	if n := x.starts(t); n != 12 {
		t.Errorf("engine started %d times for 12 cells", n)
	}
	// Each summary accounts for every cell once, and the cells the two
	// runs say they ran add up to the 12 the engine started.
	summary := regexp.MustCompile(`(\d+) cells: (\d+) cached, (\d+) ran(?:, (\d+) run by another process)?`)
	ran := 0
	for i, out := range outs {
		m := summary.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("run %d: no summary in\n%s", i, out)
		}
		n := make([]int, 4)
		for j := range n {
			n[j], _ = strconv.Atoi(m[j+1])
		}
		if n[0] != 12 || n[1]+n[2]+n[3] != 12 {
			t.Errorf("run %d: summary %q does not account for 12 cells", i, m[0])
		}
		ran += n[2]
	}
	if ran != 12 {
		t.Errorf("the two runs say they ran %d cells, the engine ran 12", ran)
	}
	st := x.store(t, ".lab")
	recs := labtest.Records[*store.Record](t, st)
	if len(recs) != 12 {
		t.Errorf("%d cells", len(recs))
	}
	checkNoCrosstalk(t, recs)
	verifyClean(t, st)
}

func gone(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
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

func pidsIn(t *testing.T, pattern string) []int {
	files, _ := filepath.Glob(pattern)
	var pids []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			n, err := strconv.Atoi(s)
			if err == nil {
				pids = append(pids, n)
			}
		}
	}
	return pids
}

func TestHangingEngineKilledAtTimeout(t *testing.T) {
	pids := t.TempDir()
	x := newExperiment(t, "[0]", 1, []string{"--hang", "--pid-file", pids + "/{{.min_chunk_threshold}}-{{.Repeat}}"}, "    timeout: 1s\n")
	start := time.Now()
	r := x.lab(t, "run", "exp.yaml")
	if r.code != 1 {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
	r = x.lab(t, "status", "exp.yaml")
	if !strings.Contains(r.stdout, "failed") || !strings.Contains(r.stdout, "exit -1: timed out after 1s") {
		t.Errorf("status: %s", r.stdout)
	}
	ps := pidsIn(t, pids+"/*")
	if len(ps) != 2 {
		t.Fatalf("pids %v", ps)
	}
	for _, p := range ps {
		if !gone(p) {
			t.Errorf("process %d (engine or its child) still running after the timeout", p)
		}
	}
}

func TestFailingCellRecordedOthersContinue(t *testing.T) {
	x := newExperiment(t, "{from: 0, to: 9, step: 1}", 1, []string{"--fail", "4", "--fail-at", "7"}, "")
	r := x.lab(t, "run", "exp.yaml", "-j", "2")
	if r.code != 1 || !strings.Contains(r.stdout, "10 ran (9 ok, 1 failed)") {
		t.Fatalf("exit %d: %s", r.code, r.stdout)
	}
	st := x.store(t, ".lab")
	var failed *store.Record
	for _, rec := range labtest.Records[*store.Record](t, st) {
		if rec.Status == "failed" {
			failed = rec
		}
	}
	if failed == nil || failed.ExitCode != 4 || failed.Inputs.Params["min_chunk_threshold"] != 7 || !strings.Contains(failed.Reason, "status 4") {
		t.Fatalf("failed record %+v", failed)
	}
	log, _ := os.ReadFile(filepath.Join(st.CellDir(failed.Hash), "stderr.log"))
	if !strings.Contains(string(log), "failing with status 4 as asked") {
		t.Errorf("stderr.log: %q", log)
	}
	var js struct {
		Counts map[string]int `json:"counts"`
		Cells  []struct {
			State    string `json:"state"`
			ExitCode *int   `json:"exit_code"`
		} `json:"cells"`
	}
	r = x.lab(t, "status", "exp.yaml", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil {
		t.Fatal(err, r.stdout)
	}
	if js.Counts["ok"] != 9 || js.Counts["failed"] != 1 || js.Cells[7].State != "failed" || *js.Cells[7].ExitCode != 4 {
		t.Errorf("status --json: %+v", js)
	}
}

func TestFailFast(t *testing.T) {
	x := newExperiment(t, "{from: 0, to: 5, step: 1}", 1, []string{"--fail", "2", "--fail-at", "2"}, "")
	r := x.lab(t, "run", "exp.yaml", "-j", "1", "--fail-fast")
	if r.code != 1 || !strings.Contains(r.stdout, "3 ran (2 ok, 1 failed), 3 not run") {
		t.Errorf("exit %d: %s", r.code, r.stdout)
	}
	if x.starts(t) != 3 {
		t.Errorf("%d starts", x.starts(t))
	}
}

func TestRetries(t *testing.T) {
	state := t.TempDir()
	x := newExperiment(t, "[0, 1]", 1, []string{"--fail-times", "1", "--state", state + "/{{.min_chunk_threshold}}"}, "")
	r := x.lab(t, "run", "exp.yaml", "--retries", "1")
	mustOK(t, r)
	st := x.store(t, ".lab")
	for h, rec := range labtest.Records[*store.Record](t, st) {
		if rec.Status != "ok" || rec.Attempts != 2 {
			t.Errorf("cell %s: %s after %d attempts", h[:12], rec.Status, rec.Attempts)
		}
		if _, ok := rec.Files["attempts/1/stderr.log"]; !ok {
			t.Errorf("cell %s keeps no log of attempt 1: %v", h[:12], rec.Files)
		}
	}
}

func TestSIGINTKeepsFinishedCells(t *testing.T) {
	x := newExperiment(t, "{from: 0, to: 7, step: 1}", 1, []string{"--sleep", "400ms"}, "")
	cmd := exec.Command(labBin, "run", "exp.yaml", "-j", "2")
	cmd.Dir = x.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitCells(t, filepath.Join(x.dir, ".lab"), 2)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if xe, ok := err.(*exec.ExitError); !ok || xe.ExitCode() != 1 {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("lab run did not stop after SIGINT")
	}
	if !strings.Contains(out.String(), "interrupted:") {
		t.Errorf("output: %s", out.String())
	}
	st := x.store(t, ".lab")
	recs := labtest.Records[*store.Record](t, st)
	if len(recs) < 2 || len(recs) == 8 {
		t.Errorf("%d cells kept", len(recs))
	}
	for h, r := range recs {
		if r.Status != "ok" {
			t.Errorf("cell %s: %s", h[:12], r.Status)
		}
	}
	verifyClean(t, st) // no half cell, no temporary folder
	log, _ := os.ReadFile(x.log)
	for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		i := strings.Index(line, "pid=")
		pid, _ := strconv.Atoi(line[i+4:])
		if !gone(pid) {
			t.Errorf("engine %d still running after SIGINT", pid)
		}
	}
	// The rest runs on the next `lab run`.
	r := x.lab(t, "run", "exp.yaml", "-j", "2")
	mustOK(t, r)
	if !strings.Contains(r.stdout, fmt.Sprintf("%d cached, %d ran", len(recs), 8-len(recs))) {
		t.Errorf("rerun: %s", r.stdout)
	}
}

func TestGPUSlots(t *testing.T) {
	x := newExperiment(t, "{from: 0, to: 5, step: 1}", 1, []string{"--print-env", "CUDA_VISIBLE_DEVICES", "--sleep", "30ms"}, "")
	mustOK(t, x.lab(t, "run", "exp.yaml", "--gpus", "0,1", "-j", "4"))
	st := x.store(t, ".lab")
	seen := map[string]int{}
	for h, r := range labtest.Records[*store.Record](t, st) {
		b, _ := os.ReadFile(filepath.Join(st.CellDir(h), "stdout.log"))
		if !strings.Contains(string(b), "CUDA_VISIBLE_DEVICES="+r.CUDAVisibleDevices+"\n") {
			t.Errorf("cell %s: record says %q, engine saw %q", h[:12], r.CUDAVisibleDevices, b)
		}
		seen[r.CUDAVisibleDevices]++
	}
	if seen["0"]+seen["1"] != 6 {
		t.Errorf("GPUs used: %v", seen)
	}
}

func TestCellRun(t *testing.T) {
	x := newExperiment(t, "[0, 1]", 1, nil, "")
	var plan struct {
		Cells []struct {
			Hash string `json:"hash"`
		} `json:"cells"`
	}
	r := x.lab(t, "plan", "exp.yaml", "--json")
	mustOK(t, r)
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil || len(plan.Cells) != 2 {
		t.Fatal(err, r.stdout)
	}
	h := plan.Cells[1].Hash
	r = x.lab(t, "cell", "run", "exp.yaml", "--cell", h, "--executor", "slurm")
	mustOK(t, r)
	if !strings.HasPrefix(r.stdout, "ok min_chunk_threshold=1 repeat=0 "+h) {
		t.Errorf("stdout %q", r.stdout)
	}
	rec, err := x.store(t, ".lab").Get(h)
	if err != nil || rec == nil || rec.Executor != "slurm" || rec.Status != "ok" {
		t.Fatalf("record %+v %v", rec, err)
	}
	// The 12-character prefix `lab plan` prints names the cell too.
	r = x.lab(t, "cell", "run", "exp.yaml", "--cell", h[:12])
	if r.code != 0 || !strings.HasPrefix(r.stdout, "cached ") || x.starts(t) != 1 {
		t.Errorf("second cell run: %d %q, %d starts", r.code, r.stdout, x.starts(t))
	}
	r = x.lab(t, "cell", "run", "exp.yaml", "--cell", "")
	if r.code != 2 {
		t.Errorf("--cell with no hash: exit %d, want 2: %s", r.code, r.stderr)
	}
	r = x.lab(t, "cell", "run", "exp.yaml", "--cell", strings.Repeat("0", 64))
	if r.code != 2 || !strings.Contains(r.stderr, "has no cell") {
		t.Errorf("unknown cell: %d %s", r.code, r.stderr)
	}
}

func TestImportLegacyTree(t *testing.T) {
	x := newExperiment(t, "[0]", 1, nil, "")
	tree := filepath.Join(x.dir, "threshold_output")
	for r, ts := range []string{"20250101_120000", "20250102_120000"} {
		for th := 0; th <= 3; th++ {
			out := t.TempDir()
			cmd := exec.Command(fakeBin, "--out", out, "--threshold", strconv.Itoa(th), "--seed", strconv.Itoa(r))
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v %s", err, b)
			}
			dst := filepath.Join(tree, ts, strconv.Itoa(th))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(out, sarathi.PlotsDir), dst); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.Remove(filepath.Join(tree, "20250102_120000", "3", sarathi.FileName(sarathi.PrefillE2ETime)))
	os.MkdirAll(filepath.Join(tree, "20250102_120000", "notes"), 0o755)

	r := x.lab(t, "import", "threshold_output", "--spec-out", "legacy.yaml")
	mustOK(t, r)
	if !strings.Contains(r.stdout, "2 repeats × 4 thresholds") || !strings.Contains(r.stdout, "7 cells imported, 0 already in the store, 1 missing, 2 skipped") {
		t.Errorf("import: %s", r.stdout)
	}
	s, err := spec.ParseFile(filepath.Join(x.dir, "legacy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "threshold_output" || s.Repeats != 2 || len(s.Sweep) != 1 || !reflect.DeepEqual(s.Sweep[0].Values, []float64{0, 1, 2, 3}) {
		t.Errorf("spec %+v", s)
	}
	r = x.lab(t, "import", "threshold_output", "--spec-out", "legacy.yaml")
	mustOK(t, r)
	if !strings.Contains(r.stdout, "0 cells imported, 7 already in the store") {
		t.Errorf("second import: %s", r.stdout)
	}
	r = x.lab(t, "status", "legacy.yaml")
	mustOK(t, r)
	if !strings.Contains(r.stdout, "8 cells: 7 ok, 0 failed, 1 missing") {
		t.Errorf("status: %s", r.stdout)
	}
	st := x.store(t, ".lab")
	verifyClean(t, st)
	// The CSVs in the store are the tree's, byte for byte.
	for h, rec := range labtest.Records[*store.Record](t, st) {
		th := int(rec.Inputs.Params["min_chunk_threshold"])
		ts := []string{"20250101_120000", "20250102_120000"}[rec.Inputs.Repeat]
		for _, m := range sarathi.Required {
			a, _ := os.ReadFile(filepath.Join(tree, ts, strconv.Itoa(th), sarathi.FileName(m)))
			b, _ := os.ReadFile(filepath.Join(st.CellDir(h), sarathi.PlotsDir, sarathi.FileName(m)))
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Errorf("cell %s: %s differs from the tree", h[:12], m)
			}
		}
	}
}

// Running an imported experiment does not try to run the marker command:
// the cells the tree lacked fail with a clear reason, the others stay.
func TestRunImportedExperiment(t *testing.T) {
	x := newExperiment(t, "[0]", 1, nil, "")
	tree := filepath.Join(x.dir, "old")
	for _, th := range []string{"0", "1"} {
		out := t.TempDir()
		if b, err := exec.Command(fakeBin, "--out", out, "--threshold", th).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, b)
		}
		os.MkdirAll(filepath.Join(tree, "ts1"), 0o755)
		if err := os.Rename(filepath.Join(out, sarathi.PlotsDir), filepath.Join(tree, "ts1", th)); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(tree, "ts2", "1"), 0o755)
	os.Rename(filepath.Join(tree, "ts1", "0"), filepath.Join(tree, "ts2", "0"))
	mustOK(t, x.lab(t, "import", "old", "--spec-out", "old.yaml"))
	r := x.lab(t, "run", "old.yaml")
	if r.code != 1 || !strings.Contains(r.stdout, "2 cached, 2 ran (0 ok, 2 failed)") ||
		!strings.Contains(r.stdout, "exit 127: imported experiment: this cell was not in the legacy tree") {
		t.Errorf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
}
