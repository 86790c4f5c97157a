package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/sim/simcfg"
	"github.com/schedlab/schedlab/lab/spec"
)

const workloadSweep = `
name: wl
engine:
  sim:
    model: llama-3-8b
    gpu: h100
    scheduler: {chunk_size: 128, max_num_seqs: 16}
    workload:
      lengths: {prompt: {kind: uniform, min: 16, max: 200}, output: {kind: lognormal, mu: 4, sigma: 0.5, min: 1, max: 256}}
      arrival: {process: poisson}
sweep:
  qps: [5, 40]
  requests: [60, 80]
  max_tokens: [0, 32]
repeats: 1
seed: 5
`

func simJSON(t *testing.T, e *Engine, c spec.Cell) Summary {
	t.Helper()
	dir := t.TempDir()
	if err := e.Run(context.Background(), engine.Request{Cell: c, Dir: dir, Stdout: io.Discard, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "sim.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWorkloadSweep: qps, requests and max_tokens set per point change what
// runs (request count, decode tokens, simulated time), and the same rate at
// the same seed repeats byte for byte.
func TestWorkloadSweep(t *testing.T) {
	e, _ := newEngine(t, workloadSweep)
	at := func(qps, n, maxTok float64) spec.Cell {
		return spec.Cell{Point: spec.Point{"qps": qps, "requests": n, "max_tokens": maxTok}, Seed: spec.CellSeed(5, 0)}
	}
	slow, fast := simJSON(t, e, at(5, 60, 0)), simJSON(t, e, at(40, 60, 0))
	if slow.Requests != 60 || fast.Requests != 60 {
		t.Fatalf("requests %d, %d, want 60", slow.Requests, fast.Requests)
	}
	if slow.DecodeTokens != fast.DecodeTokens || slow.PrefillTokens != fast.PrefillTokens {
		t.Errorf("the rate changed the requests: decode %d vs %d, prefill %d vs %d", slow.DecodeTokens, fast.DecodeTokens, slow.PrefillTokens, fast.PrefillTokens)
	}
	if !(slow.SimulatedSeconds > fast.SimulatedSeconds) {
		t.Errorf("5 req/s took %v s, 40 req/s %v s: want the slower rate to take longer", slow.SimulatedSeconds, fast.SimulatedSeconds)
	}
	if more := simJSON(t, e, at(5, 80, 0)); more.Requests != 80 {
		t.Errorf("requests=80 ran %d", more.Requests)
	}
	if capped := simJSON(t, e, at(5, 60, 32)); !(capped.DecodeTokens < slow.DecodeTokens) || capped.DecodeTokens > 60*32 {
		t.Errorf("max_tokens=32: %d decode tokens (uncapped %d)", capped.DecodeTokens, slow.DecodeTokens)
	}
	if again := simJSON(t, e, at(5, 60, 0)); !reflect.DeepEqual(again, slow) {
		t.Errorf("same point, different run: %+v vs %+v", again, slow)
	}
	// The identity keeps the spec's literal workload (no qps, no request
	// count): the swept values are in each cell's parameters instead.
	id := e.Identity().(Identity)
	if id.Config.QPS != 0 || id.Config.Requests != 0 || id.Config.MaxTokens != 0 {
		t.Errorf("identity carries swept values: %+v", id.Config.Load)
	}
}

// TestWorkloadSweepErrors: bad swept workload values fail when the engine
// is built, naming the point; a rate without poisson arrivals, or a field
// the simulator does not read, fails validation at the sweep.
func TestWorkloadSweepErrors(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{"requests: [60, 80]", "requests: [60, 80.5]", "sweep point qps=5 requests=80.5 max_tokens=0: requests = 80.5: expected a whole number"},
		{"requests: [60, 80]", "requests: [0, 80]", "requests = 0: expected ≥ 1"},
		{"qps: [5, 40]", "qps: [0, 40]", "qps = 0: expected a rate > 0"},
	} {
		_, err := New(parse(t, strings.Replace(workloadSweep, tc.from, tc.to, 1)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.to, err, tc.want)
		}
	}
	trace := strings.Replace(workloadSweep, "lengths: {prompt: {kind: uniform, min: 16, max: 200}, output: {kind: lognormal, mu: 4, sigma: 0.5, min: 1, max: 256}}", "trace: splitwise_conv", 1)
	if _, err := New(parse(t, strings.Replace(trace, "requests: [60, 80]", "requests: [60, 100000000]", 1))); err == nil || !strings.Contains(err.Error(), "but trace splitwise_conv has only") {
		t.Errorf("more requests than the trace has: %v", err)
	}
	for _, tc := range []struct{ from, to, want string }{
		{"{process: poisson}", "{process: offline}", "sweep.qps: qps is the rate of poisson arrivals; expected workload.arrival.process: poisson"},
		{"max_tokens: [0, 32]", "max_model_len: [512, 1024]", `this engine does not read "max_model_len"`},
	} {
		_, err := spec.Parse("test.yaml", []byte(strings.Replace(workloadSweep, tc.from, tc.to, 1)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.to, err, tc.want)
		}
	}
}

// TestSweepableAgrees: what the spec lets a sweep set is what the engine
// applies.
func TestSweepableAgrees(t *testing.T) {
	var buf bytes.Buffer
	for _, n := range simcfg.Sweepable {
		buf.WriteString(n + ": [1, 2]\n  ")
	}
	y := strings.Replace(workloadSweep, "qps: [5, 40]\n  requests: [60, 80]\n  max_tokens: [0, 32]\n", strings.TrimSpace(buf.String())+"\n", 1)
	_, err := spec.Parse("test.yaml", []byte(y))
	if err != nil && strings.Contains(err.Error(), "does not read") {
		t.Errorf("the spec rejects a parameter the engine sweeps: %v", err)
	}
	if !slices.IsSorted(simcfg.Sweepable) {
		t.Errorf("simcfg.Sweepable not sorted: %v", simcfg.Sweepable)
	}
}
