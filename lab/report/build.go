package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/metrics"
	"github.com/schedlab/schedlab/lab/present"
)

// metricView is one metric of metrics.All as the report shows it.
type metricView struct {
	key     string // metrics.Metric.Key, also the chart id suffix
	summary string // what the per-cell number is
	unit    string
	index   int // into metrics.All, Summary.Values and Ratios.Values
}

func (m metricView) value(s analysis.Summary) float64 { return s.Values()[m.index] }
func (m metricView) ratio(r analysis.Ratios) float64  { return r.Values()[m.index] }

// metricViews are the five metrics in the order of metrics.All.
var metricViews = func() []metricView {
	out := make([]metricView, len(metrics.All))
	for i, m := range metrics.All {
		label := m.Label()
		if m.Note != "" {
			label += " (" + m.Note + ")"
		}
		out[i] = metricView{key: m.Key, summary: label, unit: m.Unit, index: i}
	}
	return out
}()

// paramUnits are the units of the parameters users sweep, for axis names.
var paramUnits = map[string]string{
	"min_chunk_threshold": "tokens",
	"threshold":           "tokens",
	"chunk_size":          "tokens",
	"max_num_seqs":        "sequences",
	"prompt_weight":       "s/token",
	"time_weight":         "1",
}

// zoomAbove is the number of sweep points above which charts get a zoom
// slider: a hundred categories are readable only in parts.
const zoomAbove = 30

// RenderHTML writes the report page of in to w.
func RenderHTML(w io.Writer, in *Input) error {
	if err := in.check(); err != nil {
		return err
	}
	p := buildPage(in)
	return p.render(w)
}

// builder holds what every section needs.
type builder struct {
	in   *Input
	head *analysis.Selection
	// axis holds the table's points: every chart shows all of them, a
	// point without results as a gap.
	axis   axis
	labels []string // axis.labels
}

func buildPage(in *Input) *page {
	b := &builder{in: in, head: in.headline()}
	t := in.Table
	b.axis = newAxis(t.Param, t.Params, t.Points)
	b.labels = b.axis.labels

	p := &page{
		Title:     "schedlab report: " + in.Name,
		Subtitle:  in.Description,
		Generated: generatedString(in.Generated),
	}
	if in.Spec != nil && len(in.Spec.Source) > 0 {
		p.SpecYAML = string(in.Spec.Source)
		p.SpecPath = in.Spec.Path
	}
	p.EngineConfig = in.EngineConfig
	p.Meta = b.meta()
	p.Sections = []*section{
		b.choiceSection(),
		b.rawSection(),
		b.normalizationSection(),
		b.aggregationSection(),
		b.scoresSection(),
	}
	if in.Significance != nil {
		p.Sections = append(p.Sections, b.statisticsSection())
	}
	if in.Joint != nil {
		p.Sections = append(p.Sections, b.jointSection())
	}
	if in.Conditions != nil {
		p.Sections = append(p.Sections, b.conditionsSection())
	}
	if in.PromptWeight != nil {
		p.Sections = append(p.Sections, b.promptWeightSection())
	}
	if in.Counters != nil {
		p.Sections = append(p.Sections, b.countersSection())
	}
	// Number the steps in page order (the statistics and prompt_weight
	// sections exist only when computed); the warnings stay unnumbered.
	for i, s := range p.Sections {
		s.Title = strconv.Itoa(i+1) + ". " + s.Title
	}
	p.Sections = append(p.Sections, b.warningsSection())
	return p
}

func (b *builder) meta() []metaRow {
	in := b.in
	t := in.Table
	var m []metaRow
	add := func(k, v string) {
		if v != "" {
			m = append(m, metaRow{k, v})
		}
	}
	add("Experiment", in.Name)
	add("Experiment hash", in.Hash)
	add("Engine", in.Engine)
	sweep := fmt.Sprintf("%s: %d points", t.Param, len(t.Points))
	if n := len(t.Points); n > 0 {
		sweep += fmt.Sprintf(", %s … %s", b.labels[0], b.labels[n-1])
	}
	add("Sweep", sweep)
	add("Baseline", baselineText(b.head))
	add("Repeats", fmt.Sprintf("%d (%d with results)", len(t.Repeats), b.head.Runs))
	if c := in.Cells; c.Total > 0 {
		add("Cells", fmt.Sprintf("%d: %d ok, %d failed, %d missing", c.Total, c.OK, c.Failed, c.Missing))
	}
	add("Headline selection", fmt.Sprintf("preset %s, aggregation %s", b.head.Preset, b.head.Agg))
	add("GPU", strings.Join(in.GPUs, "; "))
	add("Host", strings.Join(in.Hosts, "; "))
	add("Lab version", in.LabVersion)
	add("Generated", generatedString(in.Generated))
	return m
}

func baselineText(s *analysis.Selection) string {
	if s.Baseline == nil {
		return "each repeat's smallest point"
	}
	txt := present.PointName(s.Params, s.Baseline)
	if n := len(s.FellBack); n > 0 {
		txt += fmt.Sprintf(" (%d repeats lack it and use their smallest point)", n)
	}
	return txt
}

// agreement is analysis.Robustness as a sentence of the page ("" for a
// single selection).
func agreement(sels []*analysis.Selection) string {
	r := analysis.Robustness(sels)
	if r == "" {
		return ""
	}
	return present.Capitalize(r) + "."
}

func rowIndex(s *analysis.Selection, p analysis.Point) int {
	if p == nil {
		return -1
	}
	for i, r := range s.Rows {
		if r.Point.Compare(p) == 0 {
			return i
		}
	}
	return -1
}

func (b *builder) frame(title, subtitle, yName string, legend bool) frame {
	return b.axis.frame(title, subtitle, yName, legend)
}

// rawSection: per metric, the spread over repeats of the per-cell summary.
func (b *builder) rawSection() *section {
	s := &section{ID: "raw", Title: "Raw metrics"}
	t := b.in.Table
	s.text("Each cell (one engine run) is summarized by the P95 of request_execution_time and of prefill_e2e_time and by the means of the three normalized metrics. A box spans the repeats at one %s (whiskers: min and max; box: quartiles; line: median); the dots are the individual repeats.", t.Param)
	names := t.Repeats
	for _, m := range metricViews {
		if !observed(t, metrics.All[m.index].File) {
			s.text("%s: not observed by this experiment's engine (see Warnings).", m.summary)
			continue
		}
		boxes := make([][5]float64, len(t.Points))
		dots := make([][]float64, len(t.Repeats))
		for r := range dots {
			dots[r] = make([]float64, len(t.Points))
		}
		var vals []float64
		for p := range t.Points {
			vals = vals[:0]
			for r := range t.Repeats {
				c := t.Cells[r][p]
				if !c.Present {
					dots[r][p] = math.NaN()
					continue
				}
				v := m.value(c.Summary)
				dots[r][p] = v
				vals = append(vals, v)
			}
			boxes[p] = fiveNumbers(vals)
		}
		f := b.frame(m.summary, "per cell, spread over repeats", m.summary+" ("+m.unit+")", true)
		s.add(block{Chart: boxChart("chart-raw-"+m.key, f, b.labels, boxes, dots, repeatNames(names))})
	}
	return s
}

// fiveNumbers is min, Q1, median, Q3, max of vals (reordered), with
// analysis' percentile (numpy's linear interpolation); NaN without values.
func fiveNumbers(vals []float64) [5]float64 {
	if len(vals) == 0 {
		n := math.NaN()
		return [5]float64{n, n, n, n, n}
	}
	slices.Sort(vals)
	return [5]float64{vals[0], analysis.Percentile(vals, 0.25), analysis.Median(vals),
		analysis.Percentile(vals, 0.75), vals[len(vals)-1]}
}

func repeatNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = repeatLabel(n)
	}
	return out
}

// repeatLabel names a repeat in legends: "repeat 20250101_120000" for a
// legacy timestamp folder; store repeats are named "repeat 3" already.
func repeatLabel(name string) string {
	if strings.HasPrefix(name, "repeat") {
		return name
	}
	return "repeat " + name
}

// normalizationSection: each repeat's ratio curve per metric.
func (b *builder) normalizationSection() *section {
	s := &section{ID: "normalization", Title: "Normalization by the baseline"}
	h := b.head
	s.text("Every repeat is divided by its own baseline (%s), so run-to-run drift that moves a whole repeat cancels out: each line is one repeat, and the baseline sits at 1.0. Below 1 is better than the baseline.", baselineText(h))
	for _, m := range metricViews {
		if !observed(b.in.Table, metrics.All[m.index].File) {
			continue
		}
		s.add(block{Chart: normalizationChart(b.axis, h, m)})
	}
	return s
}

// presetSelections returns the headline preset's selections in the order
// of analysis.Aggregations.
func (b *builder) presetSelections(preset string) []*analysis.Selection {
	var out []*analysis.Selection
	for _, agg := range analysis.Aggregations {
		for _, s := range b.in.Selections {
			if s.Preset == preset && s.Agg == agg {
				out = append(out, s)
			}
		}
	}
	return out
}

// presets returns the preset names in the order of the selections.
func (b *builder) presets() []string {
	var out []string
	for _, s := range b.in.Selections {
		if !slices.Contains(out, s.Preset) {
			out = append(out, s.Preset)
		}
	}
	return out
}

// aggregationSection: per metric, the ratios combined across repeats.
func (b *builder) aggregationSection() *section {
	s := &section{ID: "aggregation", Title: "Aggregation across repeats"}
	sels := b.presetSelections(b.head.Preset)
	s.text("At each %s the repeats' ratios are combined: mean (the old script's default), median (robust to one odd run), p90 and max (conservative: a point must not regress even in its bad runs). Aggregates use numpy's definitions (linear interpolation for percentiles).", b.in.Table.Param)
	for _, m := range metricViews {
		s.add(block{Chart: aggregationChart(b.axis, sels, m, b.head.Agg)})
	}
	return s
}

// scoresSection: the score curves of every preset × aggregation, minima
// marked, and the table of choices.
func (b *builder) scoresSection() *section {
	s := &section{ID: "scores", Title: "Scores and the lowest score"}
	s.text("score = w_request·request_ratio + w_prefill·prefill_ratio + w_prefill_exec_norm·prefill_exec_norm_ratio + w_request_exec_norm·request_exec_norm_ratio + w_decode·decode_ratio, with the ratios aggregated as named. The pin marks each curve's minimum: the point it chooses.")
	for pi, preset := range b.presets() {
		c, err := scoreChart(b.axis, "Score, preset "+preset, b.presetSelections(preset), nil)
		if err != nil {
			s.text("%s", err) // not reached: without marks nothing fails
			continue
		}
		c.ID = "chart-score-" + strconv.Itoa(pi)
		s.add(block{Chart: c})
	}
	tb := &table{
		Caption: "The lowest score of every preset × aggregation (highlighted: the headline)",
		Header:  []string{"preset", "aggregation", b.in.Table.Param, "score", "score at baseline", "change", "repeats"},
		Num:     []bool{false, false, true, true, true, true, true},
	}
	for _, sel := range b.in.Selections {
		best := sel.Rows[sel.Best]
		base, change := "–", "–"
		if bi := rowIndex(sel, sel.Baseline); bi >= 0 {
			base = present.Num(sel.Rows[bi].Score)
			change = present.Change(best.Score / sel.Rows[bi].Score)
		}
		tb.Rows = append(tb.Rows, []string{sel.Preset, sel.Agg, best.Point.String(), present.Num(best.Score), base, change, strconv.Itoa(best.Runs)})
		tb.Mark = append(tb.Mark, sel == b.head)
	}
	s.add(block{Table: tb})
	if a := agreement(b.in.Selections); a != "" {
		s.text("%s", a)
	}
	return s
}

// warningsSection lists what the reader must know to trust the numbers.
func (b *builder) warningsSection() *section {
	s := &section{ID: "warnings", Title: "Warnings"}
	var items []string
	for _, f := range b.in.FailedCells {
		items = append(items, "failed cell: "+f)
	}
	if c := b.in.Cells; c.Missing > 0 {
		items = append(items, fmt.Sprintf("%d of %d cells have not run yet: run the experiment again to complete it", c.Missing, c.Total))
	}
	h := b.head
	for _, r := range h.FellBack {
		items = append(items, fmt.Sprintf("%s has no result at the baseline %s: its ratios are taken against its smallest point", repeatLabel(r), present.PointName(h.Params, h.Baseline)))
	}
	for _, row := range h.Rows {
		if row.Runs < h.Runs {
			items = append(items, fmt.Sprintf("%s has results in %d of %d repeats", present.PointName(h.Params, row.Point), row.Runs, h.Runs))
		}
	}
	if len(h.Rows) < len(b.in.Table.Points) {
		items = append(items, fmt.Sprintf("%d of %d points have no result in any repeat", len(b.in.Table.Points)-len(h.Rows), len(b.in.Table.Points)))
	}
	items = append(items, b.in.Table.Warnings...)
	if b.in.Significance == nil && b.in.NoStatistics != "" {
		items = append(items, b.in.NoStatistics)
	}
	if len(items) == 0 {
		s.text("None: every cell ran, every repeat has the baseline and every point has every repeat.")
		return s
	}
	s.add(block{Items: items})
	return s
}

// statisticsSection: is the lowest score really better than the baseline?
func (b *builder) statisticsSection() *section {
	s := &section{ID: "statistics", Title: "Statistics: is the difference real?"}
	sig := b.in.Significance
	h := b.head
	s.strong("Score alone: %s", sig.Conclusion)
	if sig.PowerNote != "" {
		s.text("%s", present.Capitalize(sig.PowerNote))
	}
	o := sig.Options
	s.text("Each %s is compared with %s repeat by repeat: the score ratio is the geometric mean over the repeats that have both of score(point) ÷ score(baseline), with a %s BCa bootstrap interval; p is an exact sign-flip test of the log ratios, Holm-adjusted over the %d points compared. A point is better (worse) only when p ≤ %s and its whole interval lies below 1 − %s (above 1 + %s); otherwise it is the same: no significant difference worth acting on. The win probability is the share of %d bootstrap resamples of the repeats in which the point has the smallest %s score.",
		h.Param, present.PointName(h.Params, sig.Baseline), present.Percent(o.Level), sig.Compared, present.Num(o.Alpha), present.Percent(o.Margin), present.Percent(o.Margin), o.WinResamples, h.Agg)
	idx := rowsByPoint(b.axis.points, h)
	n := len(b.labels)
	ratio := make([]float64, n)
	ci := make([][2]float64, n)
	verdicts := make([]string, n)
	win := make([]float64, n)
	for p := range b.labels {
		ratio[p], ci[p], win[p] = math.NaN(), [2]float64{math.NaN(), math.NaN()}, math.NaN()
		if i := idx[p]; i >= 0 {
			ps := sig.Points[i]
			ratio[p], ci[p], verdicts[p], win[p] = ps.ScoreRatio, ps.ScoreCI, string(ps.Verdict), 100*ps.WinProbability
		}
	}
	refs := []hline{{Label: "baseline", Y: 1}}
	f := b.frame("Score ratio to the baseline, with "+present.Percent(o.Level)+" intervals", "dots coloured by verdict: better, same, worse", "score ÷ baseline score (1)", true)
	band := [2]float64{1 - o.Margin, 1 + o.Margin}
	s.add(block{Chart: ciChart("chart-stats-ratio", f, b.labels, ratio, ci, verdicts, refs, band, "±"+present.Percent(o.Margin)+" margin")})
	f = b.frame("Win probability", fmt.Sprintf("share of %d bootstrap resamples of the repeats in which the point has the smallest %s score", o.WinResamples, h.Agg), "resamples won (%)", false)
	f.YMin = 0
	s.add(block{Chart: barChart("chart-stats-win", f, b.labels, "win probability", win, "#8250df")})
	tb := &table{
		Header: []string{h.Param, "pairs", "score ratio", present.Percent(o.Level) + " interval", "p (Holm)", "verdict", "win probability"},
		Num:    []bool{true, true, true, false, true, false, true},
	}
	for i, ps := range sig.Points {
		tb.Rows = append(tb.Rows, []string{ps.Point.String(), strconv.Itoa(ps.Pairs), present.Num(ps.ScoreRatio),
			present.Interval(ps.ScoreCI), present.Num(ps.P), string(ps.Verdict), present.PercentN(ps.WinProbability, 2)})
		tb.Mark = append(tb.Mark, i == h.Best)
	}
	s.add(block{Table: tb, Collapse: fmt.Sprintf("Every point's comparison (%d rows; highlighted: the old script's lowest score)", len(tb.Rows))})
	return s
}

// cdfQuantiles is the number of quantiles the prompt_weight CDF is drawn
// with: 201 (every 0.5%) follow any curve closely whatever the number of
// requests pooled, and keep the page small.
const cdfQuantiles = 201

// promptWeightSection: seconds per prefill token at the decision, and the
// weights it gives.
func (b *builder) promptWeightSection() *section {
	s := &section{ID: "prompt-weight", Title: "prompt_weight"}
	pw := b.in.PromptWeight
	h := b.head
	at := b.in.Decision.Point
	s.text("AGING orders requests by time_weight·wait_seconds + prompt_weight·remaining_prompt_tokens. Expressing remaining prompt tokens in seconds makes the two terms commensurable: with s the seconds per prefill token (prefill_time_execution_plus_preemption_normalized) measured at the decided %s and pooled over its %d repeats (%d requests), set time_weight = 1 and prompt_weight = −s, or equivalently time_weight = 1/s and prompt_weight = −1 (the same order).",
		present.PointName(h.Params, at), len(pw.Files), pw.N)
	if c, err := PromptWeightChart(pw, present.PointName(h.Params, at)); err != nil {
		s.text("%s", err) // not reached: Input.check rejects a result without values
	} else {
		s.add(block{Chart: c})
	}
	tb := &table{
		Caption: fmt.Sprintf("Weights from each statistic (95%% intervals: %s)", pw.CIMethods()),
		Header:  []string{"statistic", "s (s/token)", "95% interval", "time_weight = 1: prompt_weight", "prompt_weight = −1: time_weight"},
		Num:     []bool{false, true, false, true, true},
	}
	for _, st := range pw.Stats {
		tb.Rows = append(tb.Rows, []string{st.Stat, present.Num(st.Seconds), present.Interval(st.CI95),
			present.Num(st.TimeWeightOne.PromptWeight), present.Num(st.PromptWeightOne.TimeWeight)})
	}
	dtw1, dpw1 := analysis.WeightingsFor(pw.Default.SecondsPerToken())
	tb.Rows = append(tb.Rows, []string{"engine default", present.Num(pw.Default.SecondsPerToken()), "–",
		present.Num(dtw1.PromptWeight), present.Num(dpw1.TimeWeight)})
	tb.Mark = make([]bool, len(tb.Rows))
	s.add(block{Table: tb})
	means := make([]string, len(pw.FileMeans))
	for i, m := range pw.FileMeans {
		means[i] = present.Num(m)
	}
	s.text("Per-repeat means of s: %s. The intervals treat requests as independent draws and so do not include this run-to-run spread.", strings.Join(means, ", "))
	for _, note := range pw.CINotes() {
		s.text("Note: %s.", note)
	}
	b.confirmationBlocks(s)
	if c := b.promptWeightCurve(); c != nil {
		s.text("The experiment swept prompt_weight: the score curve below is the headline score against prompt_weight, the other parameters at the decision (marked).")
		s.add(block{Chart: c})
	}
	return s
}

// promptWeightCurve is the headline score against prompt_weight when the
// experiment sweeps it (other parameters fixed at the decision, which is
// marked); nil when it does not.
func (b *builder) promptWeightCurve() *Chart {
	t := b.in.Table
	k := slices.Index(t.Params, "prompt_weight")
	if k < 0 {
		return nil
	}
	h := b.head
	best := b.in.Decision.Point
	bestScore := math.NaN()
	var labels []string
	var ys []float64
	for _, r := range h.Rows {
		if r.Point.Compare(best) == 0 {
			bestScore = r.Score
		}
		same := true
		for j := range r.Point {
			if j != k && r.Point[j] != best[j] {
				same = false
			}
		}
		if same {
			labels = append(labels, strconv.FormatFloat(r.Point[k], 'g', -1, 64))
			ys = append(ys, r.Score)
		}
	}
	f := frame{Title: "Score against prompt_weight", Subtitle: "preset " + h.Preset + ", " + h.Agg, XName: "prompt_weight (s/token)", YName: "score (weighted ratio, 1)"}
	return lineChart("chart-pw-score", f, labels, []lineSeries{{Name: "score", Y: ys,
		Marks: []mark{{Label: labels[slices.Index(labels, strconv.FormatFloat(best[k], 'g', -1, 64))], X: strconv.FormatFloat(best[k], 'g', -1, 64), Y: bestScore}}}})
}

// observed says whether any present cell of t has metric (a client-side
// benchmark cannot observe execution times: run_summary.json's unavailable).
func observed(t *analysis.Table, metric string) bool {
	for _, row := range t.Cells {
		for _, c := range row {
			if c.Present && !slices.Contains(c.Unavailable, metric) {
				return true
			}
		}
	}
	return false
}
