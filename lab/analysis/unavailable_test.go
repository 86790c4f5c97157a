package analysis

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// clientUnavailable are the summary metrics a benchmark client cannot see.
var clientUnavailable = []string{sarathi.RequestExecutionTime, sarathi.RequestExecutionTimeNormalized, sarathi.PrefillExecPlusPreemptNorm}

// writeClientCell writes the files a client-side reader leaves: TTFT and
// the normalized decode time only, scaled by f.
func writeClientCell(t *testing.T, dir string, f float64) {
	t.Helper()
	var ttft, dec []sarathi.Row
	for i := range 20 {
		id := string(rune('a' + i))
		ttft = append(ttft, sarathi.Row{RequestID: id, Value: f * (0.1 + 0.01*float64(i))})
		dec = append(dec, sarathi.Row{RequestID: id, Value: f * (0.02 + 0.001*float64(i%5))})
	}
	if err := sarathi.Write(dir, sarathi.PrefillE2ETime, ttft); err != nil {
		t.Fatal(err)
	}
	if err := sarathi.Write(dir, sarathi.DecodeExecPlusPreemptNorm, dec); err != nil {
		t.Fatal(err)
	}
}

func clientTable(t *testing.T) *Table {
	t.Helper()
	pts := []Point{{0}, {4}, {8}}
	tab := NewTable([]string{"min_chunk_threshold"}, pts, []string{"r0", "r1", "r2"})
	var cells []CellFiles
	for r := range 3 {
		for p, pt := range pts {
			dir := filepath.Join(t.TempDir(), "plots")
			writeClientCell(t, dir, 1+0.1*float64(p*p)+0.01*float64(r))
			cells = append(cells, CellFiles{Repeat: r, Point: pt, Dir: dir, Unavailable: clientUnavailable})
		}
	}
	if err := tab.Load(cells); err != nil {
		t.Fatal(err)
	}
	return tab
}

// Cells whose source declares metrics unavailable load without their
// files; weights of 0 on them give a selection whose ratios for them are
// NaN in Go and null in JSON, and whose statistics leave them out.
func TestUnavailableMetricsWeightZero(t *testing.T) {
	tab := clientTable(t)
	c := tab.Cells[0][0]
	if !math.IsNaN(c.Summary.RequestP95) || c.Summary.Requests != 20 || c.Summary.Has(sarathi.RequestExecutionTime) || !c.Summary.Has(sarathi.PrefillE2ETime) {
		t.Fatalf("summary: %+v", c.Summary)
	}
	w := spec.Weights{Prefill: 0.6, Decode: 0.4}
	sel, err := Select(tab, Options{Weights: w, Baseline: Point{0}})
	if err != nil {
		t.Fatal(err)
	}
	if got := sel.Recommended(); got.Compare(Point{0}) != 0 {
		t.Errorf("recommended %v, want 0 (the latencies grow with the point)", got)
	}
	row := sel.Rows[1]
	if !math.IsNaN(row.Ratios.Request) || !(row.Ratios.Prefill > 1) || math.IsNaN(row.Score) {
		t.Errorf("row: %+v", row)
	}
	b, err := json.Marshal(sel.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"request_ratio":null`) || strings.Contains(string(b), "NaN") {
		t.Errorf("JSON: %s", b)
	}
	if b, err := json.Marshal(c.Summary.JSON()); err != nil || !strings.Contains(string(b), `"request_p95":null`) {
		t.Errorf("summary JSON: %s %v", b, err)
	}
	sig, err := sel.Significance(SignificanceOptions{Seed: 1, Margin: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	ps := sig.Points[1]
	if !math.IsNaN(ps.MetricRatio[0]) || math.IsNaN(ps.MetricRatio[2]) || math.IsNaN(ps.ScoreCI[0]) {
		t.Errorf("significance of point 4: %+v", ps)
	}
	if _, err := json.Marshal(sig.RowJSON(1)); err != nil {
		t.Error(err)
	}
}

// A weight on an unavailable metric is an error naming the metric; the
// prompt_weight files of an unavailable metric are ErrUnavailable.
func TestUnavailableMetricsWeighted(t *testing.T) {
	tab := clientTable(t)
	for _, w := range []spec.Weights{spec.DefaultWeights, {Prefill: 1, PrefillExecNorm: 0.1}} {
		_, err := Select(tab, Options{Weights: w})
		if err == nil || !strings.Contains(err.Error(), "this source cannot observe") {
			t.Errorf("weights %+v: %v", w, err)
		}
	}
	if _, err := tab.Files(Point{0}, sarathi.PrefillExecPlusPreemptNorm); err == nil || !strings.Contains(err.Error(), ErrUnavailable.Error()) {
		t.Errorf("Files: %v", err)
	}
	if fs, err := tab.Files(Point{0}, sarathi.PrefillE2ETime); err != nil || len(fs) != 3 {
		t.Errorf("Files of an available metric: %v %v", fs, err)
	}
}

// A cell that lacks a metric it does not declare unavailable still fails.
func TestUndeclaredMissingMetricFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plots")
	writeClientCell(t, dir, 1)
	tab := NewTable([]string{"x"}, []Point{{0}}, []string{"r"})
	err := tab.Load([]CellFiles{{Repeat: 0, Point: Point{0}, Dir: dir}})
	if err == nil || !strings.Contains(err.Error(), sarathi.FileName(sarathi.RequestExecutionTime)) {
		t.Errorf("got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, sarathi.FileName(sarathi.RequestExecutionTime))); err == nil {
		t.Fatal("fixture has the file")
	}
}

// Score skips zero weights, which for finite ratios is the same sum bit for
// bit (the parity with the old script rests on it).
func TestScoreZeroWeightsBitIdentical(t *testing.T) {
	cases := []struct {
		w spec.Weights
		r Ratios
	}{
		{spec.DefaultWeights, Ratios{1.1, 0.9, 1.3, 0.7, 1.01}},
		{spec.Weights{Prefill: 1}, Ratios{0.1234567, 1e-9, 3.3, 2.2, 7.7}},
		{spec.Weights{Request: 0.3, Decode: 0.7}, Ratios{1.0000001, 5, 0.999999, 8, 0.3333333}},
	}
	for _, c := range cases {
		w, r := c.w, c.r
		full := float64(w.Request*r.Request) + float64(w.Prefill*r.Prefill) +
			float64(w.PrefillExecNorm*r.PrefillExecNorm) + float64(w.RequestExecNorm*r.RequestExecNorm) +
			float64(w.Decode*r.Decode)
		if got := Score(w, r); math.Float64bits(got) != math.Float64bits(full) {
			t.Errorf("Score(%+v, %+v) = %v, full sum %v", w, r, got, full)
		}
	}
}
