package gpu

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/sim/sched"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// fixedRequests is a hand-made workload: n requests, all at t = 0, with
// prompts and outputs that vary by index.
func fixedRequests(n int) RequestsFunc {
	return func(cell spec.Cell) ([]sched.Request, error) {
		seed := cell.Seed
		reqs := make([]sched.Request, n)
		for i := range reqs {
			reqs[i] = sched.Request{ID: i, PromptTokens: 20 + 13*i%50, OutputTokens: 4 + (i*7+int(seed))%12}
		}
		return reqs, nil
	}
}

// tinySpec is a spec for the tiny shape on the CPU (its workload is
// replaced by WithRequests in the tests that use it).
func tinySpec(kvBlocks int) *spec.Spec {
	return &spec.Spec{Name: "t", Seed: 1, Engine: spec.Engine{GPU: &spec.GPUConfig{
		Model: "tiny", Device: "cpu", KVBlocks: kvBlocks,
		Scheduler: spec.SchedulerConfig{ChunkSize: 32, MaxNumSeqs: 8, Policy: "aging", TimeWeight: 1, PromptWeight: -0.01},
		Workload:  spec.WorkloadConfig{Requests: 12, Lengths: &spec.Lengths{Prompt: spec.Distribution{Kind: "fixed", Value: 40}, Output: spec.Distribution{Kind: "fixed", Value: 5}}},
	}}}
}

var (
	probeOnce sync.Once
	probed    DeviceInfo
	probeErr  error
)

// probeDevice is New's probe of the default device, once per test binary
// (a worker start costs seconds on a busy machine).
func probeDevice(t *testing.T) DeviceInfo {
	t.Helper()
	py := testPython(t)
	probeOnce.Do(func() {
		s := tinySpec(0)
		s.Engine.GPU.Python = py
		var e *Engine
		if e, probeErr = New(s, WithScriptDir(filepath.Dir(testScript(t)))); probeErr == nil {
			probed = e.Device()
		}
	})
	if probeErr != nil {
		t.Fatal(probeErr)
	}
	return probed
}

// newTiny builds an engine with the test interpreter. The device is probed
// once per test binary (probeDevice, which goes through New).
func newTiny(t *testing.T, s *spec.Spec, opts ...Option) *Engine {
	t.Helper()
	s.Engine.GPU.Python = testPython(t)
	opts = append([]Option{WithScriptDir(filepath.Dir(testScript(t)))}, opts...)
	e, err := prepare(s, opts)
	if err == nil {
		e, err = e.withDevice(probeDevice(t))
	}
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEngineRun runs one cell with a KV cache small enough to force
// recompute preemptions, and checks the outputs against the scheduler's
// own view: every request has a row in each of the five files, the
// per-step log matches the iterations, and the worker held no more blocks
// than the scheduler had.
func TestEngineRun(t *testing.T) {
	e := newTiny(t, tinySpec(10), WithRequests(fixedRequests(12)))
	dir := t.TempDir()
	var out, errb strings.Builder
	cell := spec.Cell{Point: spec.Point{"min_chunk_threshold": 4}, Seed: 3}
	// The runner's GPU slot reaches the worker's environment.
	ctx := engine.WithRunEnv(t.Context(), engine.RunEnv{CUDAVisibleDevices: "3"})
	if err := e.Run(ctx, cell, dir, &out, &errb); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "gpu-worker: init tiny on cpu") || !strings.Contains(errb.String(), "CUDA_VISIBLE_DEVICES=3") {
		t.Errorf("the worker's log (with its CUDA_VISIBLE_DEVICES) did not reach the cell's stderr: %q", errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, sarathi.PlotsDir, sarathi.FileName(sarathi.DecodeTokenExecPlusPreempt))); !os.IsNotExist(err) {
		t.Errorf("the per-token TBT file was written without tbt_per_token (stat: %v)", err)
	}
	for _, m := range sarathi.Required {
		vals, err := sarathi.ReadValues(filepath.Join(dir, sarathi.PlotsDir, sarathi.FileName(m)), m)
		if err != nil {
			t.Fatal(err)
		}
		if len(vals) != 12 {
			t.Errorf("%s: %d rows, want 12", m, len(vals))
		}
	}
	var s Summary
	b, err := os.ReadFile(filepath.Join(dir, "gpu.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Preemptions == 0 {
		t.Errorf("no preemption with 10 KV blocks: the recompute path was not exercised")
	}
	if s.Scheduler.NumBlocks != 10 || s.Scheduler.MinChunkThreshold != 4 || s.Worker.Device != "cpu" {
		t.Errorf("summary = %+v", s)
	}
	its := readCSV(t, iterationsPath(t, dir))
	steps, err := ReadSteps(filepath.Join(dir, "gpu_steps.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(its) != s.Iterations || len(steps) != s.Iterations || s.Iterations == 0 {
		t.Fatalf("%d iterations, %d steps, summary says %d", len(its), len(steps), s.Iterations)
	}
	sumDur := 0.0
	for i, st := range steps {
		// The batch the worker ran is the one the scheduler logged;
		// duration = forward + scheduler time; blocks ≤ capacity.
		q := 0
		for _, p := range st.Prefills {
			q += p[0]
		}
		if its[i][6] != strconv.Itoa(st.Tokens) || its[i][3] != strconv.Itoa(len(st.Prefills)) || its[i][4] != strconv.Itoa(q) || its[i][5] != strconv.Itoa(st.Decodes) {
			t.Errorf("iteration %d: logged %v, the worker ran %+v", i, its[i], st)
		}
		dur := num(t, its[i][2])
		if d := dur - (st.ForwardMS+st.SchedMS)/1e3; d > 1e-9 || d < -1e-9 || st.ForwardMS <= 0 {
			t.Errorf("iteration %d: duration %g s, forward %g ms + scheduler %g ms", i, dur, st.ForwardMS, st.SchedMS)
		}
		if st.KVBlocksUsed > 10 {
			t.Errorf("iteration %d: the worker holds %d blocks of 10", i, st.KVBlocksUsed)
		}
		sumDur += dur
	}
	if d := sumDur - s.ClockSeconds; d > 1e-6 || d < -1e-6 {
		t.Errorf("iterations sum to %g s, clock %g s (offline arrivals: no idle time)", sumDur, s.ClockSeconds)
	}
}

// iterationsPath finds the iteration log sched.WriteMetrics wrote.
func iterationsPath(t *testing.T, dir string) string {
	for _, name := range []string{"iterations.csv", "iterations.csv.gz"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return filepath.Join(dir, name)
		}
	}
	t.Fatalf("no iteration log in %s", dir)
	return ""
}

// readCSV reads a CSV file (gzip'd when its name ends in .gz) without its
// header.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Split(l, ","))
	}
	return rows
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestEngineIdentity: the identity names the device, the versions and the
// worker's digest, and changes with the configuration.
func TestEngineIdentity(t *testing.T) {
	e1 := newTiny(t, tinySpec(0))
	s := tinySpec(0)
	s.Engine.GPU.Scheduler.ChunkSize = 64
	e2 := newTiny(t, s)
	j1, _ := json.Marshal(e1.Identity())
	j2, _ := json.Marshal(e2.Identity())
	for _, want := range []string{`"device_kind":"cpu"`, `"model":"tiny"`, `"worker_sha256":"` + ScriptDigest() + `"`, `"dtype":"float32"`, `"version":"gpu/2"`, `"block_size":16`, `"torch":"`} {
		if !strings.Contains(string(j1), want) {
			t.Errorf("identity %s lacks %s", j1, want)
		}
	}
	if string(j1) == string(j2) {
		t.Error("chunk_size does not change the identity")
	}
	if strings.Contains(string(j1), pythonPath) {
		t.Error("the interpreter's path is in the identity")
	}
	// tbt_per_token is in the identity only when set, so the addresses of
	// cells without it did not change when the field was added.
	s3 := tinySpec(0)
	s3.Engine.GPU.TBTPerToken = true
	j3, _ := json.Marshal(newTiny(t, s3).Identity())
	if strings.Contains(string(j1), "tbt_per_token") || !strings.Contains(string(j3), `"tbt_per_token":true`) {
		t.Errorf("tbt_per_token in the identity: without %s\nwith %s", j1, j3)
	}
}

// TestEngineTBTPerToken: with tbt_per_token the gpu engine writes Sarathi's
// per-token TBT file (TestEngineRun checks it is absent by default): per
// request, n_out − 1 rows (n_out from the execution time and its per-token
// normalisation) whose largest is request_max_time_between_tokens; rows
// sorted by value, cdf = rank/N. The KV cache forces preemptions, whose
// gaps span the recompute.
func TestEngineTBTPerToken(t *testing.T) {
	s := tinySpec(10)
	s.Engine.GPU.TBTPerToken = true
	e := newTiny(t, s, WithRequests(fixedRequests(12)))
	dir := t.TempDir()
	var errb strings.Builder
	if err := e.Run(t.Context(), spec.Cell{Point: spec.Point{"min_chunk_threshold": 4}, Seed: 3}, dir, io.Discard, &errb); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, errb.String())
	}
	plots := filepath.Join(dir, sarathi.PlotsDir)
	byID := func(m string) map[string]float64 {
		out := map[string]float64{}
		for _, r := range readCSV(t, filepath.Join(plots, sarathi.FileName(m))) {
			out[r[0]] = num(t, r[1])
		}
		return out
	}
	exec, norm, worst := byID(sarathi.RequestExecutionTime), byID(sarathi.RequestExecutionTimeNormalized), byID(sched.MaxTimeBetweenTokens)
	rows := readCSV(t, filepath.Join(plots, sarathi.FileName(sarathi.DecodeTokenExecPlusPreempt)))
	count, maxGap := map[string]int{}, map[string]float64{}
	prev := 0.0
	for k, r := range rows {
		v, cdf := num(t, r[1]), num(t, r[2])
		if v < prev || v <= 0 || cdf != float64(k+1)/float64(len(rows)) {
			t.Fatalf("row %d %v: want sorted positive values, cdf %d/%d", k+1, r, k+1, len(rows))
		}
		prev = v
		count[r[0]]++
		maxGap[r[0]] = max(maxGap[r[0]], v)
	}
	if len(exec) != 12 {
		t.Fatalf("%d requests in %s", len(exec), sarathi.RequestExecutionTime)
	}
	var sum Summary
	if b, err := os.ReadFile(filepath.Join(dir, "gpu.json")); err != nil || json.Unmarshal(b, &sum) != nil || sum.Preemptions == 0 {
		t.Errorf("no preemption with 10 KV blocks (%v): the gaps across a recompute were not exercised", err)
	}
	for id, x := range exec {
		nout := int(x/norm[id] + 0.5)
		if count[id] != nout-1 || maxGap[id] != worst[id] {
			t.Errorf("request %s: %d rows (max %v), want %d (max %v)", id, count[id], maxGap[id], nout-1, worst[id])
		}
	}
}

func TestEngineErrors(t *testing.T) {
	t.Run("worker error", func(t *testing.T) {
		s := tinySpec(0)
		s.Engine.GPU.Checkpoint = filepath.Join(t.TempDir(), "missing.safetensors")
		e := newTiny(t, s, WithRequests(fixedRequests(2)))
		err := e.Run(t.Context(), spec.Cell{}, t.TempDir(), &strings.Builder{}, &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), "gpu worker: init: checkpoint "+s.Engine.GPU.Checkpoint) {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("bad swept value", func(t *testing.T) {
		e := newTiny(t, tinySpec(0), WithRequests(fixedRequests(2)))
		err := e.Run(t.Context(), spec.Cell{Point: spec.Point{"min_chunk_threshold": 2.5}}, t.TempDir(), &strings.Builder{}, &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), "gpu engine: min_chunk_threshold = 2.5: expected a whole number") {
			t.Fatalf("error = %v", err)
		}
		err = e.Run(t.Context(), spec.Cell{Point: spec.Point{"min_chunk_threshold": 32}}, t.TempDir(), &strings.Builder{}, &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), "min_chunk_threshold: 32, expected < chunk_size (32)") {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("large model without cuda", func(t *testing.T) {
		s := tinySpec(0)
		s.Engine.GPU.Model, s.Engine.GPU.Device = "llama-3-8b", ""
		e, err := prepare(s, []Option{WithScriptDir(t.TempDir())})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.withDevice(DeviceInfo{Device: "cpu", DeviceName: "cpu", Torch: "1.13"})
		if err == nil || !strings.Contains(err.Error(), "model llama-3-8b needs a CUDA GPU") {
			t.Fatalf("error = %v", err)
		}
		s.Engine.GPU.Device = "cpu" // asked for: allowed
		if e, err = prepare(s, []Option{WithScriptDir(t.TempDir())}); err == nil {
			_, err = e.withDevice(DeviceInfo{Device: "cpu", DeviceName: "cpu", Torch: "1.13"})
		}
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestEngineCancel: cancelling the context stops the run promptly, and the
// worker process is gone when Run returns.
func TestEngineCancel(t *testing.T) {
	slow := func(spec.Cell) ([]sched.Request, error) {
		reqs := make([]sched.Request, 400)
		for i := range reqs {
			reqs[i] = sched.Request{ID: i, PromptTokens: 200, OutputTokens: 200}
		}
		return reqs, nil
	}
	e := newTiny(t, tinySpec(0), WithRequests(slow))
	ctx, cancel := context.WithCancel(t.Context())
	var errb strings.Builder
	time.AfterFunc(1500*time.Millisecond, cancel)
	start := time.Now()
	err := e.Run(ctx, spec.Cell{}, t.TempDir(), &strings.Builder{}, &errb)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("Run returned %v after the start", d)
	}
	if kids := childWorkers(t); len(kids) > 0 {
		t.Errorf("worker processes left: %v", kids)
	}
}

// childWorkers lists this process's children running a gpu worker script.
func childWorkers(t *testing.T) []string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	me := strconv.Itoa(os.Getpid())
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) < 2 || f[1] != me {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmd), "gpu-worker") {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return out
}
