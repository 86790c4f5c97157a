package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/present"
)

// hmCell is one cell of a heatmap: its value (NaN: no result, drawn empty)
// and the text written in it.
type hmCell struct {
	V     float64
	Label string
}

// hmMark is a point drawn over a heatmap cell (the decision, the baseline).
type hmMark struct {
	Name   string
	X, Y   int
	Symbol string
	Color  string
}

// heatmap draws cells[iy][ix] over the categories xs (across) and ys (up),
// coloured by visualMap (an ECharts visualMap object), with each cell's
// label written in it and marks drawn over their cells as a scatter series
// with a legend entry each.
func heatmap(id string, f frame, xs, ys []string, cells [][]hmCell, visualMap map[string]any, marks []hmMark) *Chart {
	f.Legend = len(marks) > 0
	c := charts.NewHeatMap()
	c.SetGlobalOptions(f.globals()...)
	c.SetGlobalOptions(charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}))
	c.SetXAxis(xs)
	c.AddSeries(f.Title, nil)
	m := optionOf(c)
	m["yAxis"] = []any{map[string]any{"type": "category", "data": ys, "name": f.YName, "nameLocation": "end", "nameGap": 14,
		"nameTextStyle": map[string]any{"align": "left"}, "splitArea": map[string]any{"show": true}}}
	if xa, ok := m["xAxis"].([]any); ok && len(xa) > 0 {
		xa[0].(map[string]any)["splitArea"] = map[string]any{"show": true}
	}
	var data []any
	for iy, row := range cells {
		for ix, cl := range row {
			v := round(cl.V)
			if v == nil {
				v = "-"
			}
			data = append(data, map[string]any{"value": []any{ix, iy, v}, "label": map[string]any{"formatter": cl.Label}})
		}
	}
	series := []any{map[string]any{
		"name": f.Title, "type": "heatmap", "data": data,
		"label":    map[string]any{"show": true, "fontSize": 11},
		"emphasis": map[string]any{"itemStyle": map[string]any{"borderColor": "#333", "borderWidth": 1}},
	}}
	var legend []string
	for _, mk := range marks {
		legend = append(legend, mk.Name)
		series = append(series, map[string]any{
			"name": mk.Name, "type": "scatter", "symbol": mk.Symbol, "symbolSize": 14, "z": 3,
			"symbolOffset": []any{0, -16},
			"itemStyle":    map[string]any{"color": mk.Color, "borderColor": "#fff", "borderWidth": 1},
			"data":         []any{[]any{mk.X, mk.Y}},
		})
	}
	m["series"] = series
	if lg, ok := m["legend"].([]any); ok && len(lg) > 0 {
		lg[0].(map[string]any)["data"] = legend
	}
	visualMap["calculable"] = false
	visualMap["orient"] = "horizontal"
	visualMap["left"] = "center"
	visualMap["bottom"] = 0
	visualMap["seriesIndex"] = 0
	m["visualMap"] = []any{visualMap}
	if gr, ok := m["grid"].([]any); ok && len(gr) > 0 {
		gr[0].(map[string]any)["bottom"] = "84"
	}
	h := 120 + 44*len(ys) + 90
	return &Chart{ID: id, Title: f.Title, Height: max(h, 320), Option: m}
}

// divergingMap colours a signed percent change: blue for lower (better
// scores), red for higher, white at 0; the range is symmetric around 0 and
// covers every value.
func divergingMap(cells [][]hmCell, text string) map[string]any {
	lim := 0.0
	for _, row := range cells {
		for _, c := range row {
			if !math.IsNaN(c.V) {
				lim = math.Max(lim, math.Abs(c.V))
			}
		}
	}
	if lim == 0 {
		lim = 1
	}
	return map[string]any{"type": "continuous", "min": round(-lim), "max": round(lim), "precision": 2,
		"text":    []any{text + " higher", "lower"},
		"inRange": map[string]any{"color": []any{"#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b"}}}
}

// verdictMap colours the verdicts: 1 better, 2 better but blocked by a
// guard, 0 same, −1 worse.
func verdictMap() map[string]any {
	return map[string]any{"type": "piecewise", "pieces": []any{
		map[string]any{"value": 1, "label": "better", "color": "#4daf4a"},
		map[string]any{"value": 2, "label": "better score, blocked by a guard", "color": "#ff7f00"},
		map[string]any{"value": 0, "label": "same (no significant difference beyond the margin)", "color": "#dddddd"},
		map[string]any{"value": -1, "label": "worse", "color": "#e41a1c"},
	}}
}

func verdictValue(v analysis.Verdict) float64 {
	switch v {
	case analysis.Better:
		return 1
	case analysis.Worse:
		return -1
	case analysis.Same:
		return 0
	}
	return math.NaN()
}

func labelsOf(vs []float64) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = analysis.Point{v}.String()
	}
	return out
}

// pctChange is a ratio as a percent change, NaN stays NaN.
func pctChange(r float64) float64 { return 100 * (r - 1) }

// jointSection shows a sweep of two or more parameters as grids: per pair
// of parameters the score, its ratio to the baseline and the verdict, then
// each parameter's slice through the decision.
func (b *builder) jointSection() *section {
	j := b.in.Joint
	s := &section{ID: "joint", Title: "The grid"}
	s.strong("Decision: %s (baseline %s; the old script's lowest score: %s). %s.",
		present.PointName(j.Params, j.Decided), present.PointName(j.Params, j.Baseline), present.PointName(j.Params, j.Lowest), present.Capitalize(strings.TrimSuffix(j.Decision.Reason, ".")))
	if len(j.Params) > 2 {
		s.text("With %d swept parameters each grid below is a slice: the parameters not on its axes are held at their values at the decision (named in each title).", len(j.Params))
	}
	s.text("Each cell is one point of the sweep. The markers show the decision (star) and the baseline (circle). Colours of the ratio map: blue is a lower (better) score than the baseline, red a higher one.")
	for _, c := range JointCharts(j, "preset "+b.head.Preset+", "+b.head.Agg) {
		s.add(block{Chart: c})
	}
	for _, sl := range j.Slices {
		t := &table{Caption: fmt.Sprintf("Slice along %s %s", sl.Param, analysis.Label(sl.AtParams, sl.At)),
			Header: []string{sl.Param, "score", "score vs baseline [95% CI]", "verdict", ""}, Num: []bool{true, true, true, false, false}}
		for _, r := range sl.Rows {
			var note []string
			if r.Decided {
				note = append(note, "decision")
			}
			if r.Baseline {
				note = append(note, "baseline")
			}
			if r.Lowest {
				note = append(note, "lowest score")
			}
			if !r.Present {
				t.Rows = append(t.Rows, []string{analysis.Point{r.Value}.String(), "no results", "", "", ""})
			} else {
				t.Rows = append(t.Rows, []string{analysis.Point{r.Value}.String(), fmtNum(r.Score, 6), present.ChangeCI(r.Ratio, r.CI), string(r.Verdict), strings.Join(note, ", ")})
			}
			t.Mark = append(t.Mark, r.Decided)
		}
		s.add(block{Table: t})
	}
	return s
}

// JointCharts are the heatmaps of a joint analysis, three per grid (every
// pair of parameters): the score (scoreOf names its preset and
// aggregation), the score ratio to the baseline in percent and the verdict,
// each with the decision and the baseline marked. The report's grid
// section and the notebooks draw these.
func JointCharts(j *analysis.Joint, scoreOf string) []*Chart {
	var out []*Chart
	for gi, g := range j.Grids {
		at := analysis.Label(g.AtParams, g.At)
		sub := g.Y + " × " + g.X
		if at != "" {
			sub += ", slice " + at
		}
		xs, ys := labelsOf(g.XValues), labelsOf(g.YValues)
		score := make([][]hmCell, len(g.Cells))
		ratio := make([][]hmCell, len(g.Cells))
		verd := make([][]hmCell, len(g.Cells))
		var marks []hmMark
		for iy, row := range g.Cells {
			for ix, c := range row {
				score[iy] = append(score[iy], hmCell{V: c.Score, Label: fmtNum(c.Score, 4)})
				ratio[iy] = append(ratio[iy], hmCell{V: pctChange(c.Ratio), Label: present.Change(c.Ratio)})
				vv, vl := verdictValue(c.Verdict), string(c.Verdict)
				if c.Blocked == analysis.BlockedGuardWorse || c.Blocked == analysis.BlockedGuardInconclusive {
					vv, vl = 2, "blocked"
				}
				verd[iy] = append(verd[iy], hmCell{V: vv, Label: vl})
				if c.Decided {
					marks = append(marks, hmMark{Name: "decision", X: ix, Y: iy, Symbol: "pin", Color: "#000"})
				}
				if c.Baseline {
					marks = append(marks, hmMark{Name: "baseline", X: ix, Y: iy, Symbol: "circle", Color: "#666"})
				}
			}
		}
		id := fmt.Sprintf("joint-%d", gi)
		fr := func(title string) frame {
			return frame{Title: title, Subtitle: sub, XName: axisName(g.X), YName: axisName(g.Y)}
		}
		out = append(out,
			heatmap(id+"-score", fr("Score ("+scoreOf+")"), xs, ys, score,
				map[string]any{"type": "continuous", "min": round(minMax(score, math.Min)), "max": round(minMax(score, math.Max)), "precision": 4,
					"inRange": map[string]any{"color": []any{"#2166ac", "#f7f7f7", "#b2182b"}}}, marks),
			heatmap(id+"-ratio", fr("Score vs baseline, % (paired by repeat)"), xs, ys, ratio, divergingMap(ratio, "score"), marks),
			heatmap(id+"-verdict", fr("Verdict vs baseline (Holm, margin; blocked: better score, a guard fails)"), xs, ys, verd, verdictMap(), marks))
	}
	return out
}

// conditionsSection shows one decision per condition: a map over the first
// two condition parameters (colour: the decided point's score change; text:
// the decided value) and a table with every condition.
func (b *builder) conditionsSection() *section {
	c := b.in.Conditions
	s := &section{ID: "conditions", Title: "Choices per condition"}
	changed := 0
	for _, r := range c.Results {
		if r.Decision.Verdict == analysis.Change {
			changed++
		}
	}
	s.strong("%s is chosen separately for each %s: %d of %d conditions change it from the baseline.",
		strings.Join(c.Knobs, ", "), strings.Join(c.By, " × "), changed, len(c.Results))
	s.text("Each condition compares its points with its own baseline (%s) under the same preset, statistics and guard rails as the rest of this page: a condition keeps the baseline unless a point is significantly better on the score and passes every guard.",
		present.PointName(c.Knobs, c.Results[0].Decision.Baseline))
	if len(c.By) >= 2 {
		s.add(block{Chart: ConditionMapChart(c)})
	}
	t := &table{Caption: "Decision per condition", Num: []bool{}}
	t.Header = append(append([]string{}, c.By...), "decision", "verdict", "score vs baseline [95% CI]", "old script's lowest score [95% CI]", "reason")
	for range c.By {
		t.Num = append(t.Num, true)
	}
	t.Num = append(t.Num, true, false, true, false, false)
	t.Rows, _ = c.Rows(present.ChangeCI, func(d *analysis.Decision) string { return d.Reason })
	for _, r := range c.Results {
		t.Mark = append(t.Mark, r.Decision.Verdict == analysis.Change)
	}
	s.add(block{Table: t})
	return s
}

// ConditionMapChart is the heatmap of per-condition decisions over the
// first two condition parameters (further ones, if any, are named in the
// cell labels); the report and the notebooks draw it.
func ConditionMapChart(c *analysis.Conditions) *Chart {
	var ys, xs []float64
	for _, r := range c.Results {
		ys, xs = appendNew(ys, r.Values[0]), appendNew(xs, r.Values[1])
	}
	sortF(ys)
	sortF(xs)
	cells := make([][]hmCell, len(ys))
	for iy := range ys {
		cells[iy] = make([]hmCell, len(xs))
		for ix := range xs {
			cells[iy][ix] = hmCell{V: math.NaN(), Label: "no results"}
		}
	}
	for _, r := range c.Results {
		iy, ix := indexF(ys, r.Values[0]), indexF(xs, r.Values[1])
		d := r.Decision
		label := "keep " + d.Point.String()
		v := 0.0
		if d.Verdict == analysis.Change {
			v = pctChange(r.Effect)
			label = d.Point.String() + "\n" + present.ChangeCI(r.Effect, r.EffectCI)
		} else if len(d.Blocked) > 0 && d.Blocked[0].Kind != analysis.BlockedNotSignificant {
			label += "\n(" + d.Blocked[0].Point.String() + " blocked by a guard)"
		}
		if len(c.By) > 2 {
			label = analysis.Label(c.By[2:], r.Values[2:]) + ": " + label
		}
		cells[iy][ix] = hmCell{V: v, Label: label}
	}
	f := frame{Title: "Decided " + strings.Join(c.Knobs, ", ") + " per condition",
		Subtitle: "cell text: the decided value and its score change vs the baseline [95% CI]; colour: that change (white: keep)",
		XName:    axisName(c.By[1]), YName: axisName(c.By[0])}
	return heatmap("conditions-map", f, labelsOf(xs), labelsOf(ys), cells, divergingMap(cells, "score"), nil)
}

func axisName(p string) string {
	if u, ok := paramUnits[p]; ok {
		return p + " (" + u + ")"
	}
	return p
}

func fmtNum(v float64, digits int) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", digits, v)
}

func minMax(cells [][]hmCell, pick func(a, b float64) float64) float64 {
	out := math.NaN()
	for _, row := range cells {
		for _, c := range row {
			if math.IsNaN(c.V) {
				continue
			}
			if math.IsNaN(out) {
				out = c.V
			} else {
				out = pick(out, c.V)
			}
		}
	}
	return out
}

func appendNew(xs []float64, v float64) []float64 {
	if indexF(xs, v) >= 0 {
		return xs
	}
	return append(xs, v)
}

func indexF(xs []float64, v float64) int {
	for i, x := range xs {
		if x == v {
			return i
		}
	}
	return -1
}

func sortF(xs []float64) {
	for i := 1; i < len(xs); i++ {
		for k := i; k > 0 && xs[k] < xs[k-1]; k-- {
			xs[k], xs[k-1] = xs[k-1], xs[k]
		}
	}
}
