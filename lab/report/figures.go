package report

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/metrics"
	"github.com/schedlab/schedlab/lab/present"
)

// The exported builders below draw the report's charts of the selection
// steps from lab/analysis results. The report's sections call them, and so
// do the Go notebooks (displayed with lab.ChartHTML): one implementation
// of each chart, so a notebook shows what the report shows.

// axis is how the points of a sweep sit on a chart's x axis: category
// labels, the axis name (with the unit of a known parameter) and whether
// the sweep is long enough to need a zoom slider.
type axis struct {
	points []analysis.Point
	labels []string
	name   string
	zoom   bool
}

// newAxis lays out points of the parameter(s) params (param: their
// joined name) on a category axis.
func newAxis(param string, params []string, points []analysis.Point) axis {
	a := axis{points: points, labels: make([]string, len(points)), name: param, zoom: len(points) > zoomAbove}
	for i, p := range points {
		a.labels[i] = p.String()
	}
	if u, ok := paramUnits[param]; ok && len(params) <= 1 {
		a.name += " (" + u + ")"
	}
	return a
}

// selectionAxis is the axis of sel's points (those with results).
func selectionAxis(sel *analysis.Selection) axis {
	points := make([]analysis.Point, len(sel.Rows))
	for i, r := range sel.Rows {
		points[i] = r.Point
	}
	return newAxis(sel.Param, sel.Params, points)
}

func (a axis) frame(title, subtitle, yName string, legend bool) frame {
	return frame{Title: title, Subtitle: subtitle, XName: a.name, YName: yName, Legend: legend, Zoom: a.zoom}
}

// rowsByPoint maps each of points to its row in s (-1 where s has none).
// Both are sorted.
func rowsByPoint(points []analysis.Point, s *analysis.Selection) []int {
	idx := make([]int, len(points))
	j := 0
	for p, pt := range points {
		idx[p] = -1
		for j < len(s.Rows) && s.Rows[j].Point.Compare(pt) < 0 {
			j++
		}
		if j < len(s.Rows) && s.Rows[j].Point.Compare(pt) == 0 {
			idx[p] = j
		}
	}
	return idx
}

// metricByName finds one of the five selection metrics by its key
// ("prefill") or its ratio's name ("prefill_ratio").
func metricByName(name string) (metricView, error) {
	m, err := metrics.ByKey(name)
	if err != nil {
		return metricView{}, err
	}
	for _, v := range metricViews {
		if v.key == m.Key {
			return v, nil
		}
	}
	return metricView{}, fmt.Errorf("metric %q has no view in the report", m.Key)
}

// NormalizationChart is the normalization step of sel for one metric
// (report section 3): each repeat's ratio to its own baseline over the
// sweep, a line per repeat, the baseline at 1. metric is "request",
// "request_exec_norm", "prefill", "prefill_exec_norm" or "decode" (a
// "_ratio" suffix is allowed).
func NormalizationChart(sel *analysis.Selection, metric string) (*Chart, error) {
	m, err := metricByName(metric)
	if err != nil {
		return nil, err
	}
	return normalizationChart(selectionAxis(sel), sel, m), nil
}

func normalizationChart(a axis, sel *analysis.Selection, m metricView) *Chart {
	idx := rowsByPoint(a.points, sel)
	series := make([]lineSeries, len(sel.Repeats))
	for r := range sel.Repeats {
		ys := make([]float64, len(a.points))
		for p := range ys {
			ys[p] = math.NaN()
			if i := idx[p]; i >= 0 && sel.Rows[i].PerRepeat[r].Present {
				ys[p] = m.ratio(sel.Rows[i].PerRepeat[r].Ratios)
			}
		}
		series[r] = lineSeries{Name: repeatLabel(sel.Repeats[r]), Y: ys, Width: 1.5, Symbol: "circle"}
	}
	if len(series) > 0 {
		series[0].HLines = []hline{{Label: "baseline", Y: 1}}
	}
	f := a.frame(m.summary+" ratio", "each repeat ÷ its own baseline", "ratio to baseline (1)", true)
	return lineChart("chart-norm-"+m.key, f, a.labels, series)
}

var aggColors = map[string]string{"mean": "#5470c6", "median": "#3ba272", "p90": "#fc8452", "max": "#ee6666"}

// AggregationChart is the aggregation step for one metric (report section
// 4): the aggregated ratios of sels — selections of one table, typically
// one preset under each aggregation — a line each; the selection under
// headAgg is solid, the others dashed.
func AggregationChart(sels []*analysis.Selection, metric, headAgg string) (*Chart, error) {
	if len(sels) == 0 {
		return nil, errors.New("AggregationChart: no selection")
	}
	m, err := metricByName(metric)
	if err != nil {
		return nil, err
	}
	return aggregationChart(selectionAxis(sels[0]), sels, m, headAgg), nil
}

func aggregationChart(a axis, sels []*analysis.Selection, m metricView, headAgg string) *Chart {
	var series []lineSeries
	var aggs []string
	for _, sel := range sels {
		idx := rowsByPoint(a.points, sel)
		ys := make([]float64, len(a.points))
		for p := range ys {
			ys[p] = math.NaN()
			if i := idx[p]; i >= 0 {
				ys[p] = m.ratio(sel.Rows[i].Ratios)
			}
		}
		series = append(series, lineSeries{Name: sel.Agg, Y: ys, Color: aggColors[sel.Agg], Dashed: sel.Agg != headAgg})
		aggs = append(aggs, sel.Agg)
	}
	series[0].HLines = []hline{{Label: "baseline", Y: 1}}
	sub := listText(aggs) + " of the repeats' ratios"
	if len(sels) > 1 && slices.Contains(aggs, headAgg) {
		sub += "; solid: " + headAgg + " (the headline)"
	}
	f := a.frame(m.summary+" ratio, aggregated", sub, "ratio to baseline (1)", true)
	return lineChart("chart-agg-"+m.key, f, a.labels, series)
}

// listText joins names as "a, b and c".
func listText(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// Mark is a vertical line at X on a chart's value axis (e.g. a derived
// prompt_weight), drawn as a dashed series named in the legend rather than
// an ECharts markLine, whose label would collide with its neighbours'.
type Mark struct {
	Name string
	X    float64
}

// ScoreChart is the scoring step (report section 5): the score of each of
// sels (selections of one table) over the sweep, each line's minimum — its
// choice — pinned. Lines are named by what tells the selections apart:
// the aggregation, the preset, or both. With marks, the x axis is numeric
// (a one-parameter sweep only) and each mark is a dashed vertical line
// over the range of the scores.
func ScoreChart(title string, sels []*analysis.Selection, marks ...Mark) (*Chart, error) {
	if len(sels) == 0 {
		return nil, errors.New("ScoreChart: no selection")
	}
	if len(marks) > 0 && len(sels[0].Params) != 1 {
		return nil, fmt.Errorf("ScoreChart: marks need a one-parameter sweep, not %s", sels[0].Param)
	}
	return scoreChart(selectionAxis(sels[0]), title, sels, marks)
}

func scoreChart(a axis, title string, sels []*analysis.Selection, marks []Mark) (*Chart, error) {
	samePreset, sameAgg, sameWeights := true, true, true
	for _, s := range sels[1:] {
		samePreset = samePreset && s.Preset == sels[0].Preset
		sameAgg = sameAgg && s.Agg == sels[0].Agg
		sameWeights = sameWeights && s.Weights == sels[0].Weights
	}
	var series []lineSeries
	var xs [][]float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, sel := range sels {
		idx := rowsByPoint(a.points, sel)
		ys := make([]float64, len(a.points))
		x := make([]float64, len(a.points))
		for p := range ys {
			ys[p] = math.NaN()
			if j := idx[p]; j >= 0 {
				ys[p] = sel.Rows[j].Score
				if !math.IsNaN(ys[p]) && !math.IsInf(ys[p], 0) {
					lo, hi = min(lo, ys[p]), max(hi, ys[p])
				}
			}
			x[p] = a.points[p][0]
		}
		s := lineSeries{Y: ys, Color: palette[i%len(palette)]}
		switch {
		case len(sels) > 1 && samePreset && !sameAgg:
			s.Name, s.Color = sel.Agg, aggColors[sel.Agg]
		case len(sels) > 1 && sameAgg && !samePreset:
			s.Name = sel.Preset
		case sel.Preset == "":
			s.Name = sel.Agg
		default:
			s.Name = sel.Preset + " / " + sel.Agg
		}
		best := sel.Rows[sel.Best]
		var at any = best.Point.String()
		if len(marks) > 0 {
			at = best.Point[0]
		}
		s.Marks = []mark{{Label: best.Point.String(), X: at, Y: best.Score}}
		series = append(series, s)
		xs = append(xs, x)
	}
	sub := "lower is better"
	if sameWeights {
		w := sels[0].Weights
		sub = fmt.Sprintf("weights: request %s, prefill %s, prefill_exec_norm %s, request_exec_norm %s, decode %s",
			present.Num(w.Request), present.Num(w.Prefill), present.Num(w.PrefillExecNorm), present.Num(w.RequestExecNorm), present.Num(w.Decode))
	}
	f := a.frame(title, sub, "score (weighted ratio, 1)", true)
	if len(marks) == 0 {
		return lineChart("chart-score", f, a.labels, series), nil
	}
	// A numeric axis, so that marks between sweep points sit where they
	// belong; a slider zooms into sweeps over decades.
	f.Zoom = true
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	for i, m := range marks {
		if slices.ContainsFunc(series, func(s lineSeries) bool { return s.Name == m.Name }) {
			return nil, fmt.Errorf("ScoreChart: mark %q has the name of another line (ECharts would merge their legend entries)", m.Name)
		}
		series = append(series, lineSeries{Name: m.Name, Y: []float64{lo, hi}, Color: palette[(len(sels)+i)%len(palette)],
			Dashed: true, Width: 1.5, Symbol: "none"})
		xs = append(xs, []float64{m.X, m.X})
	}
	return xyLineChart("chart-score", f, xs, series), nil
}

// PromptWeightChart is the distribution of seconds per prefill token of a
// prompt_weight derivation (report section 7) with each statistic marked;
// at names where it was measured ("min_chunk_threshold = 16"). Values
// spanning more than a decade get a log axis: the long right tail of
// preempted requests would otherwise squeeze the body of the distribution
// and its marks against the axis.
func PromptWeightChart(pw *analysis.PromptWeightResult, at string) (*Chart, error) {
	if pw == nil || len(pw.Sorted) == 0 {
		return nil, errors.New("PromptWeightChart: no values")
	}
	xs := cdf(pw.Sorted)
	qs := make([]float64, cdfQuantiles)
	for i := range qs {
		qs[i] = float64(i) / float64(cdfQuantiles-1)
	}
	f := frame{Title: "Seconds per prefill token at " + at,
		Subtitle: fmt.Sprintf("distribution over %d requests (drawn with %d quantiles)", pw.N, cdfQuantiles),
		XName:    "seconds per prefill token (s/token)", YName: "fraction of requests ≤ x (1)", YMin: 0, Legend: true}
	if lo, hi := pw.Sorted[0], pw.Sorted[len(pw.Sorted)-1]; lo > 0 && hi/lo > 10 {
		f.LogX = true
		f.XName = "seconds per prefill token (s/token, log scale)"
	}
	series := []lineSeries{{Name: "CDF", Y: qs, Symbol: "none"}}
	all := [][]float64{xs}
	for i, st := range pw.Stats {
		series = append(series, lineSeries{Name: st.Stat + " " + present.Num(st.Seconds), Y: []float64{0, 1},
			Color: palette[(i+1)%len(palette)], Dashed: true, Width: 1.5, Symbol: "none"})
		all = append(all, []float64{st.Seconds, st.Seconds})
	}
	return xyLineChart("chart-pw-cdf", f, all, series), nil
}
