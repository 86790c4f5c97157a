package experiment

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/spec"
)

const confirmSpecYAML = `name: confirm
engine:
  sim:
    model: llama-3-8b
    gpu: h200
    kv_blocks: 120
    scheduler: {chunk_size: 128, max_num_seqs: 8, policy: %s, prompt_weight: -0.02}
    workload: {trace: splitwise_conv, requests: 40, max_tokens: 64, arrival: {process: poisson, qps: 20}}
sweep:
  min_chunk_threshold: [0, 8]
repeats: 3
seed: 5
`

func parseConfirmSpec(t *testing.T, policy string) *spec.Spec {
	t.Helper()
	p := filepath.Join(t.TempDir(), "confirm.yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(confirmSpecYAML, "%s", policy, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.ParseFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ConfirmSpec fixes the other parameters at the decision and sweeps the
// configured weight (the baseline), the derived one and its multiples;
// a non-AGING scheduler has nothing to confirm.
func TestConfirmSpec(t *testing.T) {
	s := parseConfirmSpec(t, "aging")
	c, configured, err := ConfirmSpec(s, analysis.Point{8}, -5e-5)
	if err != nil {
		t.Fatal(err)
	}
	if configured != -0.02 || c.Name != "confirm-confirm-prompt-weight" || c.Seed != s.Seed || c.Repeats != s.Repeats {
		t.Errorf("configured %v, spec %s seed %d repeats %d", configured, c.Name, c.Seed, c.Repeats)
	}
	want := []float64{-0.02, -5e-4, -5e-5, -5e-6}
	slices.Sort(want)
	if len(c.Sweep) != 2 || c.Sweep[0].Name != "min_chunk_threshold" || !slices.Equal(c.Sweep[0].Values, []float64{8}) ||
		c.Sweep[1].Name != "prompt_weight" || len(c.Sweep[1].Values) != 4 || c.Baseline["prompt_weight"] != -0.02 {
		t.Errorf("sweep %+v baseline %v, want min_chunk_threshold [8], prompt_weight %v", c.Sweep, c.Baseline, want)
	}
	for i, v := range c.Sweep[1].Values {
		if math.Abs(v-want[i]) > 1e-15 {
			t.Errorf("weights %v, want %v", c.Sweep[1].Values, want)
		}
	}
	for _, tc := range []struct {
		policy  string
		derived float64
	}{{"fcfs", -5e-5}, {"aging", 0}, {"aging", math.Inf(-1)}} {
		if _, _, err := ConfirmSpec(parseConfirmSpec(t, tc.policy), analysis.Point{8}, tc.derived); !errors.Is(err, ErrNoConfirmation) {
			t.Errorf("%s, derived %v: error %v, want ErrNoConfirmation", tc.policy, tc.derived, err)
		}
	}
}

// Confirm runs the weights as cells of the store, then loads them again
// without running; the numbers agree and the verdicts cover every weight.
func TestConfirmRunsAndLoads(t *testing.T) {
	s := parseConfirmSpec(t, "aging")
	x, err := OpenSpec(s, filepath.Join(t.TempDir(), "store"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := &Analysis{Decision: &analysis.Decision{Point: analysis.Point{0}}, PromptWeightAt: analysis.Point{0},
		PromptWeight: &analysis.PromptWeightResult{Stats: []analysis.PromptWeightStat{{Stat: "mean", TimeWeightOne: analysis.Weighting{PromptWeight: -5e-5}}}}}
	if _, err := x.Confirm(context.Background(), a, ConfirmOptions{}); !errors.Is(err, ErrNotConfirmed) {
		t.Fatalf("before running: %v, want ErrNotConfirmed", err)
	}
	ran, err := x.Confirm(context.Background(), a, ConfirmOptions{Run: true, RunOptions: RunOptions{Jobs: 2}})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := x.Confirm(context.Background(), a, ConfirmOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ran.Run == nil || ran.Run.Ran != 12 || loaded.Run != nil {
		t.Errorf("runs: %+v then %+v", ran.Run, loaded.Run)
	}
	rv, lv := ran.Verdicts(), loaded.Verdicts()
	if len(rv) != 4 || len(lv) != 4 {
		t.Fatalf("%d and %d verdict rows, want 4", len(rv), len(lv))
	}
	for i := range rv {
		if rv[i].Score != lv[i].Score || rv[i].Verdict != lv[i].Verdict || rv[i].Label != lv[i].Label {
			t.Errorf("row %d: ran %+v, loaded %+v", i, rv[i], lv[i])
		}
		if math.IsNaN(rv[i].Preemptions) {
			t.Errorf("row %d: no preemption count", i)
		}
	}
	if rv[0].Label != "configured" || rv[0].Verdict != "baseline" || rv[0].PromptWeight != -0.02 {
		t.Errorf("first row %+v, want the configured weight -0.02 (the smallest) as the baseline", rv[0])
	}
	if !strings.Contains(ran.Sentence(), "derived prompt_weight -5e-05 (mean): ") {
		t.Errorf("sentence %q", ran.Sentence())
	}
	var b strings.Builder
	if err := WriteConfirmation(&b, ran); err != nil || !strings.Contains(b.String(), "confirmation: ") {
		t.Errorf("WriteConfirmation: %v\n%s", err, b.String())
	}
}
