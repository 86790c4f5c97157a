package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/sim/perfmodel"
)

func TestSimPredict(t *testing.T) {
	code, out, errs := runLab(t, "sim", "predict", "--profile", "h200/llama-3-8b/graph", "--prefill", "256:1024", "--prefill", "64:0", "--decode", "32x1024", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct{ MS float64 }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	m, err := perfmodel.Fit(perfmodel.Name{GPU: "h200", Model: "llama-3-8b", Mode: "graph"})
	if err != nil {
		t.Fatal(err)
	}
	want := m.PredictMS(&perfmodel.Shape{Prefills: []perfmodel.Prefill{{Q: 256, C: 1024}, {Q: 64}}, Decodes: 32, DecodeKV: 32 * 1024})
	if got.MS != want || want < 10 || want > 20 {
		t.Errorf("ms %v, model %v", got.MS, want)
	}
	code, out, _ = runLab(t, "sim", "predict", "--decode", "32x1024")
	if code != 0 || !strings.HasSuffix(out, " ms\n") {
		t.Errorf("text output %q (exit %d)", out, code)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--prefill", "256"}, "expected Q:C"},
		{[]string{"--decode", "32*1024"}, "expected BxK"},
		{[]string{"--profile", "h200/llama-2-7b/fast", "--decode", "1x1"}, "no measured profile h200/llama-2-7b/fast"},
		{nil, "nothing to predict"},
	} {
		code, _, errs := runLab(t, append([]string{"sim", "predict"}, tc.args...)...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errs, tc.want)
		}
	}
}

func TestSimRunAndFit(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "s.yaml")
	os.WriteFile(filepath.Join(dir, "mine.csv"), []byte("num_prefill_tokens,num_decode_tokens\n300,20\n900,40\n100,5\n"), 0o644)
	os.WriteFile(specPath, []byte(`name: s
engine:
  sim:
    model: llama-3-8b
    gpu: h100
    scheduler: {chunk_size: 128, max_num_seqs: 4}
    workload: {trace: mine.csv, requests: 3}
sweep: {min_chunk_threshold: [0, 8]}
`), 0o644)
	out := filepath.Join(dir, "out")
	code, stdout, errs := runLab(t, "sim", "run", specPath, "--set", "min_chunk_threshold=8", "--json", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct {
		Point map[string]float64
		Sim   struct{ Requests, Iterations int }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Point["min_chunk_threshold"] != 8 || res.Sim.Requests != 3 || res.Sim.Iterations < 10 {
		t.Errorf("result %+v", res)
	}
	if _, err := os.Stat(filepath.Join(out, "replica_0", "plots", "prefill_e2e_time.csv")); err != nil {
		t.Error(err)
	}
	if code, _, errs := runLab(t, "sim", "run", specPath, "--set", "block_size=8"); code == 0 || !strings.Contains(errs, `cannot set "block_size"`) {
		t.Errorf("unsweepable --set: exit %d, %q", code, errs)
	}
	code, stdout, _ = runLab(t, "sim", "fit", "--markdown")
	if code != 0 || strings.Count(stdout, "\n") != 2+27 || !strings.Contains(stdout, "| h200/llama-3-8b/graph | mixed |") {
		t.Errorf("fit table:\n%s", stdout)
	}
	// Graph rows meet the target in the printed table too.
	for _, line := range strings.Split(stdout, "\n") {
		f := strings.Split(line, "|")
		if len(f) < 6 || !strings.Contains(f[1], "/graph") {
			continue
		}
		var mean, mx float64
		json.Unmarshal([]byte(strings.TrimSpace(f[4])), &mean)
		json.Unmarshal([]byte(strings.TrimSpace(f[5])), &mx)
		if mean > 5 || mx > 15 || math.IsNaN(mean) {
			t.Errorf("graph row over target: %s", line)
		}
	}
}
