package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/analysis"
)

// TestCountersSection: with per-point counters the page has their section
// (chart and table) and summary.json their field; without, neither.
func TestCountersSection(t *testing.T) {
	in := inputFromTree(t, tree{thresholds: 3, repeats: 2, rows: 20, seed: 2})
	var html bytes.Buffer
	if err := RenderHTML(&html, in); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html.String(), "chart-counters-threshold") || buildSummary(in).SchedulerCounters != nil {
		t.Fatal("counters section without counters")
	}
	in.Counters = []PointCounters{
		{Point: analysis.Point{0}, Cells: 2, SkipsBudget: 0.5},
		{Point: analysis.Point{1}, Cells: 2, ThresholdBlockedAdmissions: 12.5, SkipsThreshold: 1},
		{Point: analysis.Point{2}, Cells: 2, ThresholdBlockedAdmissions: 40, PredictorBlockedAdmissions: 3},
	}
	html.Reset()
	if err := RenderHTML(&html, in); err != nil {
		t.Fatal(err)
	}
	page := html.String()
	for _, want := range []string{"Scheduler counters: did the knob act?", "chart-counters-threshold", "threshold-blocked admissions", `<td class="num">12.5</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The page with the section renders cleanly in the browser, with one
	// chart more than the other report pages.
	res := openInBrowser(t, filepath.Join(writeReport(t, in), HTMLFile))
	checkClean(t, res)
	checkCharts(t, res, 3*len(metricViews)+len(testPresets)+2+1+1)
	var js bytes.Buffer
	if err := buildSummary(in).writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Counters []map[string]any `json:"scheduler_counters"`
	}
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Counters) != 3 || got.Counters[1]["threshold_blocked_admissions"] != 12.5 || got.Counters[2]["predictor_blocked_admissions"] != 3.0 {
		t.Errorf("summary.json scheduler_counters = %v", got.Counters)
	}
}
