package gpu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

const sweepSpec = `name: gpu-tiny
engine:
  gpu:
    model: tiny
    device: cpu
    kv_blocks: 64
    scheduler: {chunk_size: 64, max_num_seqs: 8, policy: aging}
    workload:
      lengths: {prompt: {kind: uniform, min: 20, max: 120}, output: {kind: uniform, min: 2, max: 12}}
      requests: 16
      arrival: {process: poisson, qps: 50}
sweep:
  min_chunk_threshold: [0, 16]
repeats: 1
seed: 5
`

// TestSweepEndToEnd parses a spec, builds the engine from it (workload
// drawn by lab/internal/sim/workload) and runs every cell of a small sweep on the tiny
// shape, as the runner would: each cell writes the five metric files with
// one row per request.
func TestSweepEndToEnd(t *testing.T) {
	py := testPython(t)
	path := filepath.Join(t.TempDir(), "gpu-tiny.yaml")
	src := strings.Replace(sweepSpec, "    device: cpu\n", "    device: cpu\n    python: "+py+"\n", 1)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := prepare(s, []Option{WithScriptDir(filepath.Dir(testScript(t)))})
	if err == nil {
		e, err = e.withDevice(probeDevice(t))
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Config(); got.Policy != "aging" || got.TimeWeight != 1 || got.PromptWeight != -0.01 || got.Arrival != "poisson" {
		t.Errorf("resolved = %+v: the simulator's defaults were not applied", got)
	}
	cells := s.Cells()
	if len(cells) != 2 {
		t.Fatalf("%d cells", len(cells))
	}
	for _, c := range cells {
		dir := t.TempDir()
		var errb strings.Builder
		if err := e.Run(t.Context(), engine.Request{Cell: c, Dir: dir, Stdout: &strings.Builder{}, Stderr: &errb}); err != nil {
			t.Fatalf("cell %v: %v\n%s", c, err, errb.String())
		}
		for _, m := range sarathi.Required {
			vals, err := sarathi.ReadValues(filepath.Join(dir, sarathi.PlotsDir, sarathi.FileName(m)), m)
			if err != nil {
				t.Fatal(err)
			}
			if len(vals) != 16 {
				t.Errorf("cell %v %s: %d rows, want 16", c, m, len(vals))
			}
			for _, v := range vals {
				if !(v >= 0) {
					t.Errorf("cell %v %s: value %v", c, m, v)
				}
			}
		}
	}
}

// TestSpecValidation: the gpu block's own checks report through the spec
// parser, with the field's position.
func TestSpecValidation(t *testing.T) {
	bad := strings.Replace(strings.Replace(sweepSpec, "model: tiny", "model: gpt-9", 1), "device: cpu", "device: tpu", 1)
	_, err := spec.Parse("bad.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"bad.yaml:4:", `unknown model shape "gpt-9"`, "bad.yaml:5:", `unknown device "tpu"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
