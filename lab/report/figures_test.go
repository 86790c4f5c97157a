package report

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/schedlab/schedlab/lab/internal/labtest"
	"github.com/schedlab/schedlab/lab/present"

	"github.com/schedlab/schedlab/lab/analysis"
)

func smallSelections(t *testing.T) []*analysis.Selection {
	t.Helper()
	sels, err := analysis.SelectAll(labtest.SmallTable("min_chunk_threshold", [2]string{"repeat 0", "repeat 1"}), testPresets, analysis.Point{0})
	if err != nil {
		t.Fatal(err)
	}
	return sels
}

// seriesOf returns the option's series as maps.
func seriesOf(c *Chart) []map[string]any {
	var out []map[string]any
	for _, s := range c.Option["series"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

// values returns a category series' values ("-" for a gap).
func values(s map[string]any) []any {
	var out []any
	for _, d := range s["data"].([]any) {
		out = append(out, d.(map[string]any)["value"])
	}
	return out
}

func TestNormalizationChart(t *testing.T) {
	sels := smallSelections(t)
	c, err := NormalizationChart(sels[0], "prefill_ratio")
	if err != nil {
		t.Fatal(err)
	}
	ss := seriesOf(c)
	if len(ss) != 2 {
		t.Fatalf("%d series, want one per repeat", len(ss))
	}
	// Repeat 1's prefill: 2·2, 2·1.7 against its baseline 2·2; no threshold 2.
	want := []any{1.0, 0.85, "-"}
	if got := values(ss[1]); !reflect.DeepEqual(got, want) {
		t.Errorf("repeat 1 ratios %v, want %v", got, want)
	}
	if ss[1]["name"] != "repeat 1" {
		t.Errorf("series name %v", ss[1]["name"])
	}
	if _, err := NormalizationChart(sels[0], "latency"); err == nil || !strings.Contains(err.Error(), "prefill_exec_norm") {
		t.Errorf("unknown metric: error %v, want one listing the metrics", err)
	}
}

func TestAggregationChart(t *testing.T) {
	sels := smallSelections(t)
	var group []*analysis.Selection
	for _, s := range sels {
		if s.Preset == "default" {
			group = append(group, s)
		}
	}
	c, err := AggregationChart(group, "request", "median")
	if err != nil {
		t.Fatal(err)
	}
	ss := seriesOf(c)
	if len(ss) != len(analysis.Aggregations) {
		t.Fatalf("%d series, want one per aggregation", len(ss))
	}
	for i, s := range ss {
		sel := group[i]
		if s["name"] != sel.Agg {
			t.Errorf("series %d named %v, want %s", i, s["name"], sel.Agg)
		}
		dashed := s["lineStyle"].(map[string]any)["type"] == "dashed"
		if dashed != (sel.Agg != "median") {
			t.Errorf("%s dashed = %v; only the headline aggregation is solid", sel.Agg, dashed)
		}
		for p, v := range values(s) {
			if want := round(sel.Rows[p].Ratios.Request); v != want {
				t.Errorf("%s at %s = %v, want %v", sel.Agg, sel.Rows[p].Point, v, want)
			}
		}
	}
	if _, err := AggregationChart(nil, "request", "mean"); err == nil {
		t.Error("no selections: no error")
	}
}

func TestScoreChart(t *testing.T) {
	sels := smallSelections(t)
	// By aggregation (one preset) and by preset (one aggregation).
	var byAgg, byPreset []*analysis.Selection
	for _, s := range sels {
		if s.Preset == "default" {
			byAgg = append(byAgg, s)
		}
		if s.Agg == "mean" {
			byPreset = append(byPreset, s)
		}
	}
	for _, tc := range []struct {
		sels  []*analysis.Selection
		names func(*analysis.Selection) string
	}{
		{byAgg, func(s *analysis.Selection) string { return s.Agg }},
		{byPreset, func(s *analysis.Selection) string { return s.Preset }},
		{sels[:1], func(s *analysis.Selection) string { return s.Preset + " / " + s.Agg }},
	} {
		c, err := ScoreChart("scores", tc.sels)
		if err != nil {
			t.Fatal(err)
		}
		ss := seriesOf(c)
		if len(ss) != len(tc.sels) {
			t.Fatalf("%d series, want %d", len(ss), len(tc.sels))
		}
		for i, s := range ss {
			sel := tc.sels[i]
			if s["name"] != tc.names(sel) {
				t.Errorf("series %d named %v, want %s", i, s["name"], tc.names(sel))
			}
			for p, v := range values(s) {
				if want := round(sel.Rows[p].Score); v != want {
					t.Errorf("%v at %s = %v, want %v", s["name"], sel.Rows[p].Point, v, want)
				}
			}
			pin := s["markPoint"].(map[string]any)["data"].([]any)[0].(map[string]any)["coord"].([]any)
			if best := sel.Rows[sel.Best]; pin[0] != best.Point.String() || pin[1] != round(best.Score) {
				t.Errorf("%v: pin at %v, want its minimum (%s, %v)", s["name"], pin, best.Point, best.Score)
			}
		}
	}

	// Marks: a numeric axis and a dashed series per mark over the scores' range.
	c, err := ScoreChart("scores", byAgg, Mark{Name: "derived", X: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if x := c.Option["xAxis"].([]any)[0].(map[string]any)["type"]; x != "value" {
		t.Errorf("with marks the x axis is %v, want value", x)
	}
	ss := seriesOf(c)
	if len(ss) != len(byAgg)+1 {
		t.Fatalf("%d series, want the selections and the mark", len(ss))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range byAgg {
		for _, r := range s.Rows {
			lo, hi = min(lo, r.Score), max(hi, r.Score)
		}
	}
	m := ss[len(byAgg)]
	pts := m["data"].([]any)
	p0, p1 := pts[0].(map[string]any)["value"].([]any), pts[1].(map[string]any)["value"].([]any)
	if m["name"] != "derived" || p0[0] != 0.5 || p1[0] != 0.5 || p0[1] != round(lo) || p1[1] != round(hi) {
		t.Errorf("mark series %v, want \"derived\" from (0.5, %v) to (0.5, %v)", m, lo, hi)
	}
	if _, err := ScoreChart("clash", byAgg, Mark{Name: "median", X: 1}); err == nil {
		t.Error("a mark named like a score line: no error")
	}
	if _, err := ScoreChart("none", nil); err == nil {
		t.Error("no selections: no error")
	}
}

func TestPromptWeightChart(t *testing.T) {
	for _, tc := range []struct {
		sorted []float64
		axis   string
	}{
		{[]float64{1e-5, 2e-5, 3e-5, 5e-4}, "log"}, // 1.7 decades
		{[]float64{1, 2, 9}, "value"},
	} {
		pw := &analysis.PromptWeightResult{Sorted: tc.sorted, N: len(tc.sorted),
			Stats: []analysis.PromptWeightStat{{Stat: "mean", Seconds: tc.sorted[1]}, {Stat: "p80", Seconds: tc.sorted[2]}}}
		c, err := PromptWeightChart(pw, "min_chunk_threshold = 4")
		if err != nil {
			t.Fatal(err)
		}
		if x := c.Option["xAxis"].([]any)[0].(map[string]any)["type"]; x != tc.axis {
			t.Errorf("values %v: x axis %v, want %s", tc.sorted, x, tc.axis)
		}
		ss := seriesOf(c)
		if len(ss) != 3 || len(ss[0]["data"].([]any)) != cdfQuantiles {
			t.Fatalf("values %v: %d series (want the CDF of %d quantiles and a mark per statistic)", tc.sorted, len(ss), cdfQuantiles)
		}
		if ss[2]["name"] != "p80 "+present.Num(tc.sorted[2]) {
			t.Errorf("mark named %v", ss[2]["name"])
		}
	}
	if _, err := PromptWeightChart(&analysis.PromptWeightResult{}, "x"); err == nil {
		t.Error("no values: no error")
	}
}

// TestReportUsesTheBuilders checks that the report's charts are what the
// exported builders (the notebooks' charts) draw for the same selections.
func TestReportUsesTheBuilders(t *testing.T) {
	in := inputFromTree(t, tree{thresholds: 6, repeats: 3, rows: 50, seed: 4})
	if err := in.check(); err != nil {
		t.Fatal(err)
	}
	p := buildPage(in)
	got := map[string]*Chart{}
	for _, c := range p.charts() {
		got[c.ID] = c
	}
	head := in.headline()
	var group []*analysis.Selection
	for _, agg := range analysis.Aggregations {
		for _, s := range in.Selections {
			if s.Preset == head.Preset && s.Agg == agg {
				group = append(group, s)
			}
		}
	}
	want := map[string]*Chart{}
	for _, m := range metricViews {
		want["chart-norm-"+m.key] = must(NormalizationChart(head, m.key))
		want["chart-agg-"+m.key] = must(AggregationChart(group, m.key, head.Agg))
	}
	want["chart-score-0"] = must(ScoreChart("Score, preset "+head.Preset, group))
	want["chart-pw-cdf"] = must(PromptWeightChart(in.PromptWeight, present.PointName(head.Params, in.Decision.Point)))
	for id, w := range want {
		g := got[id]
		if g == nil {
			t.Errorf("the report has no chart %s", id)
			continue
		}
		if !reflect.DeepEqual(g.Option, w.Option) {
			t.Errorf("chart %s differs from its exported builder's", id)
		}
	}
}

func must(c *Chart, err error) *Chart {
	if err != nil {
		panic(err)
	}
	return c
}

// TestChoiceSentence: the decision leads the section; the old script's
// lowest score is labelled as such and compared with the baseline unless
// it is the baseline.
func TestChoiceSentence(t *testing.T) {
	atBaseline := analysis.NewTable([]string{"min_chunk_threshold"}, []analysis.Point{{0}, {1}}, []string{"repeat 0"})
	for p, f := range []float64{1, 1.2} {
		atBaseline.Cells[0][p] = analysis.Cell{Present: true, Summary: analysis.Summary{
			RequestP95: 10 * f, RequestExecNorm: 0.1 * f, PrefillP95: 2 * f, PrefillExecNorm: 0.001 * f, DecodeNorm: 0.02 * f, Requests: 100}}
	}
	for _, tc := range []struct {
		table     *analysis.Table
		want, not []string
	}{
		{atBaseline, []string{"Decision: keep min_chunk_threshold = 0", "The old script&#39;s lowest score: min_chunk_threshold = 0"}, []string{"differs from it by"}},
		{labtest.SmallTable("min_chunk_threshold", [2]string{"repeat 0", "repeat 1"}),
			[]string{"Decision: keep min_chunk_threshold = 0", "The old script&#39;s lowest score: min_chunk_threshold = 1", "so the lowest score differs from it by"}, []string{"The choice"}},
	} {
		sels, err := analysis.SelectAll(tc.table, testPresets, analysis.Point{0})
		if err != nil {
			t.Fatal(err)
		}
		sig, err := sels[0].Significance(analysis.SignificanceOptions{Seed: 1, Resamples: 200, WinResamples: 20})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := RenderHTML(&b, &Input{Name: "choice", Table: tc.table, Selections: sels, Significance: sig}); err != nil {
			t.Fatal(err)
		}
		page := b.String()
		for _, w := range tc.want {
			if !strings.Contains(page, w) {
				t.Errorf("lowest score %s: the page should say %q", sels[0].Recommended(), w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(page, w) {
				t.Errorf("lowest score %s: the page should not say %q", sels[0].Recommended(), w)
			}
		}
	}
}

// TestNoStatistics: statistics that could not be computed are said so in
// the choice section, the warnings and summary.json's warnings.
func TestNoStatistics(t *testing.T) {
	sels := smallSelections(t)
	why := "no statistics: analysis: ratios must be positive for the statistics (they use log-ratios)"
	in := &Input{Name: "nostats", Table: labtest.SmallTable("min_chunk_threshold", [2]string{"repeat 0", "repeat 1"}), Selections: sels, NoStatistics: why}
	var b strings.Builder
	if err := RenderHTML(&b, in); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.Contains(page, "Not tested: "+why+".") || !strings.Contains(page, "Decision: keep min_chunk_threshold = 0: "+why+".") ||
		!strings.Contains(page, "<li>"+why+"</li>") {
		t.Errorf("the page does not say why it has no statistics (%q)", why)
	}
	if w := buildSummary(in).Warnings; !slices.Contains(w, why) {
		t.Errorf("summary.json warnings %q lack %q", w, why)
	}
	if w := in.Table.Warnings; slices.Contains(w, why) {
		t.Errorf("the table's warnings were changed: %q", w)
	}
}
