package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/golden"
)

const smallConditions = `name: small-conditions
engine:
  sim:
    model: llama-3-8b
    gpu: h100
    scheduler: {chunk_size: 64}
    workload:
      lengths: {prompt: {kind: uniform, min: 16, max: 120}, output: {kind: lognormal, mu: 4, sigma: 0.5, min: 1, max: 256}}
      requests: 60
      arrival: {process: poisson}
sweep:
  qps: [4, 40]
  max_num_seqs: [8, 32]
  min_chunk_threshold: [0, 16]
repeats: 6
seed: 2
select:
  by: [qps, max_num_seqs]
`

const smallJoint = `name: small-joint
engine:
  sim:
    model: llama-3-8b
    gpu: h100
    scheduler: {chunk_size: 64, max_num_seqs: 32, policy: aging, order_waiting: true}
    workload:
      lengths: {prompt: {kind: uniform, min: 16, max: 120}, output: {kind: lognormal, mu: 4, sigma: 0.5, min: 1, max: 256}}
      requests: 60
      arrival: {process: poisson, qps: 30}
sweep:
  min_chunk_threshold: [0, 16]
  prompt_weight: [-0.01, 0]
repeats: 6
seed: 2
`

// runSpecGolden runs a small simulator spec into a fresh store, then pins
// the text of lab select and checks what its --json holds.
func runSpecGolden(t *testing.T, name, yaml string) map[string]json.RawMessage {
	t.Helper()
	dir := t.TempDir()
	specPath := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(specPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	storeDir := filepath.Join(dir, "store")
	if code, _, stderr := runLab(t, "run", specPath, "--store", storeDir, "--no-report", "--no-select"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	code, out, stderr := runLab(t, "select", specPath, "--store", storeDir)
	if code != 0 {
		t.Fatalf("select: exit %d: %s", code, stderr)
	}
	path := filepath.Join("testdata", "select", name+".txt")
	if *golden.Update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update)", err, t.Name())
	}
	if out != string(want) {
		t.Errorf("output differs from %s (rerun with -update if intended):\n%s", path, out)
	}
	code, js, stderr := runLab(t, "select", specPath, "--store", storeDir, "--json")
	if code != 0 {
		t.Fatalf("select --json: exit %d: %s", code, stderr)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSelectByCondition: select.by gives one decision per condition (the
// table and the map, pinned) and "conditions" in --json.
func TestSelectByCondition(t *testing.T) {
	m := runSpecGolden(t, "small-conditions", smallConditions)
	var conds []struct {
		Condition map[string]float64 `json:"condition"`
		Decision  struct {
			Verdict string `json:"verdict"`
			Reason  string `json:"reason"`
		} `json:"decision"`
	}
	if err := json.Unmarshal(m["conditions"], &conds); err != nil {
		t.Fatal(err)
	}
	if len(conds) != 4 {
		t.Fatalf("%d conditions, want 4", len(conds))
	}
	for _, c := range conds {
		if (c.Decision.Verdict != "change" && c.Decision.Verdict != "keep") || c.Decision.Reason == "" {
			t.Errorf("condition %v: decision %+v", c.Condition, c.Decision)
		}
	}
}

// TestSelectJoint: a two-parameter sweep prints its grid and slices
// (pinned) and --json carries the grid.
func TestSelectJoint(t *testing.T) {
	m := runSpecGolden(t, "small-joint", smallJoint)
	var j struct {
		Params []string `json:"params"`
		Grids  []struct {
			Ratio [][]*float64 `json:"score_ratio"`
		} `json:"grids"`
		Decision struct {
			Verdict string `json:"verdict"`
		} `json:"decision"`
	}
	if err := json.Unmarshal(m["joint"], &j); err != nil {
		t.Fatal(err)
	}
	if strings.Join(j.Params, ",") != "min_chunk_threshold,prompt_weight" || len(j.Grids) != 1 || len(j.Grids[0].Ratio) != 2 || j.Decision.Verdict == "" {
		t.Errorf("joint: %+v", j)
	}
}
