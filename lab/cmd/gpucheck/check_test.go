package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const tinySpec = `name: gpu-check-tiny
engine:
  gpu:
    model: tiny
    device: cpu
    scheduler: {chunk_size: 128, max_num_seqs: 8, policy: aging}
    workload:
      trace: splitwise_conv
      requests: 10
      max_tokens: 8
      arrival: {process: poisson, qps: 20}
sweep:
  min_chunk_threshold: [0, 32]
repeats: 2
seed: 3
`

// TestCheckCPU runs the whole comparison with the tiny shape on the CPU
// (against the llama-3-8b H200 profile, so the ratios mean nothing here):
// every cell runs on both engines, the table and JSON have one column per
// point and finite ratios, and without -allow-cpu it refuses to run.
func TestCheckCPU(t *testing.T) {
	py := os.Getenv("LAB_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s cannot import torch (run .ci/setup): %v", py, err)
		}
		t.Skipf("%s cannot import torch: %v", py, err)
	}
	dir := t.TempDir()
	specPath := filepath.Join(dir, "tiny.yaml")
	os.WriteFile(specPath, []byte(strings.Replace(tinySpec, "device: cpu\n", "device: cpu\n    python: "+py+"\n", 1)), 0o644)
	out := filepath.Join(dir, "out")
	t.Setenv("XDG_CACHE_HOME", dir) // the worker script goes there

	// -repeats 1 (as the device run in README uses): repeat 1 never runs.
	o := options{spec: specPath, out: out, repeats: 1}
	var stdout, stderr strings.Builder
	err := run(t.Context(), o, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "not a CUDA GPU") {
		t.Fatalf("without -allow-cpu: %v", err)
	}

	o.allowCPU, o.simGPU, o.simModel = true, "h200", "llama-3-8b"
	if err := run(t.Context(), o, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var r Result
	b, err := os.ReadFile(filepath.Join(out, "gpu-check.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Comparisons) != 2 || r.Comparisons[0].SimProfile != "h200/llama-3-8b/graph" || r.Comparisons[1].SimProfile != "h200/llama-3-8b/eager" || r.KVBlocks != 4096 || r.Attention != "matmul" {
		t.Fatalf("result = %+v", r)
	}
	for _, c := range r.Comparisons {
		if len(c.Points) != 2 || c.Points[0].Point != "min_chunk_threshold=0" {
			t.Fatalf("%s: points %+v", c.SimProfile, c.Points)
		}
		// Every measured batch is predicted once; the groups add up.
		if len(c.Iterations) != 4 || c.Iterations[3].Kind != "all" || c.Iterations[3].N == 0 ||
			c.Iterations[0].N+c.Iterations[1].N+c.Iterations[2].N != c.Iterations[3].N || !(c.Iterations[3].PredictedMS > 0) {
			t.Errorf("%s: iterations %+v", c.SimProfile, c.Iterations)
		}
		for _, p := range c.Points {
			for m := range r.Metrics {
				if !(p.Ratio[m] > 0) || p.Ratio[m] != p.Sim[m]/p.GPU[m] {
					t.Errorf("%s %s %s: ratio %v of %v / %v", c.SimProfile, p.Point, r.Metrics[m], p.Ratio[m], p.Sim[m], p.GPU[m])
				}
			}
		}
	}
	for _, engine := range []string{"gpu", "sim-graph", "sim-eager"} {
		for _, cell := range []string{"min_chunk_threshold-0_r0", "min_chunk_threshold-32_r0"} {
			if _, err := os.Stat(filepath.Join(out, engine, cell, "replica_0", "plots", "prefill_e2e_time.csv")); err != nil {
				t.Error(err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(out, "gpu", "min_chunk_threshold-0_r1")); !os.IsNotExist(err) {
		t.Errorf("-repeats 1 ran repeat 1: %v", err)
	}
	if !strings.Contains(stdout.String(), "| prefill_e2e_time p95 |") {
		t.Errorf("no table in the output:\n%s", stdout.String())
	}
}
