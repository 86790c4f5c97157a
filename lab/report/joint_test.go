package report

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/analysis"
)

// jointInput is gridInput with its statistics and the joint analysis at
// the statistics' decision.
func jointInput(t *testing.T) *Input {
	t.Helper()
	in := gridInput(t)
	sig, err := in.Selections[0].Significance(analysis.SignificanceOptions{Seed: 1, Resamples: 1000, WinResamples: 100})
	if err != nil {
		t.Fatal(err)
	}
	in.Significance = sig
	d, err := analysis.Decide(in.Table, in.Selections[0], sig, nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.Joint, err = analysis.NewJoint(in.Selections[0], sig, d); err != nil {
		t.Fatal(err)
	}
	return in
}

// conditionsInput is a sweep of qps × max_num_seqs × min_chunk_threshold
// whose threshold 8 helps only at qps 8 with 64 sequences, decided per
// (qps, max_num_seqs).
func conditionsInput(t *testing.T) *Input {
	t.Helper()
	params := []string{"qps", "max_num_seqs", "min_chunk_threshold"}
	var pts []analysis.Point
	for _, q := range []float64{2, 8} {
		for _, m := range []float64{16, 64} {
			for _, th := range []float64{0, 8} {
				pts = append(pts, analysis.Point{q, m, th})
			}
		}
	}
	repeats := []string{"0", "1", "2", "3", "4", "5"}
	tab := analysis.NewTable(params, pts, repeats)
	for r := range repeats {
		for i, p := range tab.Points {
			f := (1 + 0.01*p[0]) * (1 + 0.05*float64(r)) * (1 + 0.003*math.Sin(float64(5*r+11*i+1)))
			if p[0] == 8 && p[1] == 64 && p[2] == 8 {
				f *= 0.94
			}
			tab.Cells[r][i] = analysis.Cell{Present: true, Summary: analysis.Summary{RequestP95: f, PrefillP95: f, RequestExecNorm: f, PrefillExecNorm: f, DecodeNorm: f}}
		}
	}
	sels, err := analysis.SelectAll(tab, testPresets[:1], analysis.Point{2, 16, 0})
	if err != nil {
		t.Fatal(err)
	}
	c, err := analysis.ByCondition(tab, []string{"qps", "max_num_seqs"}, analysis.Options{Baseline: analysis.Point{2, 16, 0}, Weights: testPresets[0].Weights},
		analysis.SignificanceOptions{Seed: 1, Resamples: 1000, WinResamples: 100},
		func(t *analysis.Table, s *analysis.Selection, sig *analysis.Significance) (*analysis.Decision, error) {
			return analysis.Decide(t, s, sig, nil)
		})
	if err != nil {
		t.Fatal(err)
	}
	return &Input{Name: "conditions", Table: tab, Selections: sels, Conditions: c, Generated: fixedTime}
}

// TestJointReport: a two-parameter sweep gets heatmaps of the score, its
// ratio and the verdict, and slice tables; summary.json carries the grid.
func TestJointReport(t *testing.T) {
	in := jointInput(t)
	dir := writeReport(t, in)
	html, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"The grid", "joint-0-score", "joint-0-ratio", "joint-0-verdict", "Slice along min_chunk_threshold at prompt_weight", `"type":"heatmap"`} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	var sum struct {
		Joint *analysis.JointJSON `json:"joint"`
	}
	b, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Joint == nil || len(sum.Joint.Grids) != 1 || len(sum.Joint.Grids[0].Ratio) != 3 || len(sum.Joint.Grids[0].Ratio[0]) != 3 {
		t.Errorf("summary.json joint: %+v", sum.Joint)
	}
}

// TestConditionsReport: select.by gets the map of decisions and a table
// with one row per condition; summary.json lists the conditions.
func TestConditionsReport(t *testing.T) {
	in := conditionsInput(t)
	dir := writeReport(t, in)
	html, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Choices per condition", "conditions-map", "1 of 4 conditions change it", "Decision per condition"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	var sum struct {
		By         []string `json:"by"`
		Conditions []struct {
			Decision struct{ Verdict string } `json:"decision"`
		} `json:"conditions"`
	}
	b, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	var verdicts []string
	for _, c := range sum.Conditions {
		verdicts = append(verdicts, c.Decision.Verdict)
	}
	if strings.Join(sum.By, ",") != "qps,max_num_seqs" || strings.Join(verdicts, ",") != "keep,keep,keep,change" {
		t.Errorf("summary.json: by %v, verdicts %v", sum.By, verdicts)
	}
}

// TestHeatmapsInBrowser renders the grid's heatmaps and the map of
// decisions in chromium: every chart painted, no console error.
func TestHeatmapsInBrowser(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   func(*testing.T) *Input
		ids  []string
	}{
		{"joint", jointInput, []string{"joint-0-score", "joint-0-ratio", "joint-0-verdict"}},
		{"conditions", conditionsInput, []string{"conditions-map"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeReport(t, tc.in(t))
			res := openInBrowser(t, filepath.Join(dir, HTMLFile))
			checkClean(t, res)
			checkCharts(t, res, -1)
			for _, id := range tc.ids {
				found := false
				for _, c := range res.Charts {
					if strings.HasSuffix(c.ID, id) {
						found = true
					}
				}
				if !found {
					t.Errorf("no chart %s on the page", id)
				}
			}
		})
	}
}
