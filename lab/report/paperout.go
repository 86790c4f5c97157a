package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schedlab/schedlab/lab/present"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/fsutil"
	"github.com/schedlab/schedlab/lab/report/paper"
)

// The paper outputs: static figures and tables drawn from a Summary — the
// numbers written to summary.json, and nothing else — so every figure and
// table can be made again from summary.json alone (ReadSummary, then
// PaperFigures / PaperTables), by a notebook as well as by Write.

// Folders of the paper outputs inside a report folder.
const (
	FiguresDir = "figures"
	TablesDir  = "tables"
)

// ReadSummary reads a summary.json written by Write.
func ReadSummary(path string) (*Summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Schema != SummarySchema {
		return nil, fmt.Errorf("%s: schema %q, want %q", path, s.Schema, SummarySchema)
	}
	if len(s.Selections) == 0 || len(s.Points) == 0 {
		return nil, fmt.Errorf("%s: no selections or points", path)
	}
	return &s, nil
}

// WritePaper writes the figures into dir/figures and the tables into
// dir/tables (both created), each file written atomically. Generated
// files of an earlier report that are no longer produced (e.g. a heatmap
// after the experiment became one-dimensional) are removed.
func WritePaper(dir string, s *Summary) error {
	figs, err := PaperFigures(s)
	if err != nil {
		return err
	}
	tabs, err := PaperTables(s)
	if err != nil {
		return err
	}
	files := map[string][]byte{}
	encoded, err := encodeFigures(figs, summaryTime(s))
	if err != nil {
		return err
	}
	for i, f := range figs {
		for j, format := range paper.Formats {
			files[filepath.Join(FiguresDir, f.Name+"."+format)] = encoded[i][j]
		}
	}
	for _, t := range tabs {
		var tex, md bytes.Buffer
		if err := t.WriteLaTeX(&tex); err != nil {
			return err
		}
		if err := t.WriteMarkdown(&md); err != nil {
			return err
		}
		files[filepath.Join(TablesDir, t.Label+".tex")] = tex.Bytes()
		files[filepath.Join(TablesDir, t.Label+".md")] = md.Bytes()
	}
	for _, sub := range []string{FiguresDir, TablesDir} {
		d := filepath.Join(dir, sub)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		old, _ := os.ReadDir(d)
		for _, e := range old {
			name := filepath.Join(sub, e.Name())
			ext := filepath.Ext(name)
			if _, keep := files[name]; !keep && !e.IsDir() && slices.Contains([]string{".svg", ".pdf", ".png", ".tex", ".md"}, ext) {
				os.Remove(filepath.Join(dir, name))
			}
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := fsutil.WriteFileAtomic(filepath.Join(dir, n), files[n]); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	return nil
}

// encodeFigures encodes every figure in every format (encoded[i][j] is
// figs[i] in paper.Formats[j]), the figures on all cores: drawing and
// compressing them was most of a report's time, and figures share nothing.
// A figure's formats are drawn one after another, as a plot may adjust its
// own axes while it draws. The first error in figure order is returned.
func encodeFigures(figs []*paper.Figure, date time.Time) ([][][]byte, error) {
	encoded := make([][][]byte, len(figs))
	errs := make([]error, len(figs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(figs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(figs) {
					return
				}
				f := figs[i]
				f.PDFDate = date
				encoded[i] = make([][]byte, len(paper.Formats))
				for j, format := range paper.Formats {
					if encoded[i][j], errs[i] = f.Bytes(format); errs[i] != nil {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return encoded, nil
}

// summaryTime is the report's generated time (the zero time when unknown).
func summaryTime(s *Summary) time.Time {
	t, err := time.Parse("2006-01-02 15:04 UTC", s.Generated)
	if err != nil {
		return time.Time{}
	}
	return t
}

// paperView holds what every figure of a summary needs.
type paperView struct {
	s    *Summary
	head *SelectionSummary
	// x are the points' x coordinates: the parameter's value for a
	// one-parameter sweep, the point's index otherwise; xAxis goes with it.
	x     []float64
	xAxis paper.Axis
	// rowAt maps each point's key to its row in the headline selection.
	rowAt map[string]int
}

func newPaperView(s *Summary) (*paperView, error) {
	v := &paperView{s: s, rowAt: map[string]int{}}
	for i := range s.Selections {
		sel := &s.Selections[i]
		if sel.Preset == s.Headline.Preset && sel.RunAgg == s.Headline.Aggregation {
			v.head = sel
		}
	}
	if v.head == nil {
		return nil, fmt.Errorf("report %s: summary has no selection for the headline (preset %q, aggregation %q)", s.Experiment, s.Headline.Preset, s.Headline.Aggregation)
	}
	v.x = make([]float64, len(s.Points))
	if len(s.Params) <= 1 {
		for i, p := range s.Points {
			if len(p) != 1 {
				return nil, fmt.Errorf("report %s: point %d has %d values for one parameter", s.Experiment, i, len(p))
			}
			v.x[i] = p[0]
		}
		v.xAxis = paper.Axis{Label: axisLabel(s.Param)}
	} else {
		ticks := make([]string, len(s.Points))
		for i, p := range s.Points {
			v.x[i] = float64(i)
			ticks[i] = p.String()
		}
		v.xAxis = paper.Axis{Label: "(" + strings.Join(s.Params, ", ") + ")", Ticks: ticks}
	}
	for i, r := range v.head.Thresholds {
		v.rowAt[analysis.Point(r.Threshold).String()] = i
	}
	return v, nil
}

// axisLabel names a swept parameter with its unit.
func axisLabel(param string) string {
	if u, ok := paramUnits[param]; ok {
		return param + " (" + u + ")"
	}
	return param
}

// column returns f of the row of sel at each point (NaN where sel has no
// row for it).
func (v *paperView) column(sel *SelectionSummary, f func(RowSummary) float64) []float64 {
	at := map[string]int{}
	for i, r := range sel.Thresholds {
		at[analysis.Point(r.Threshold).String()] = i
	}
	out := make([]float64, len(v.s.Points))
	for p, pt := range v.s.Points {
		out[p] = math.NaN()
		if i, ok := at[pt.String()]; ok {
			out[p] = f(sel.Thresholds[i])
		}
	}
	return out
}

// presetSelections returns the summary's selections of preset, in the
// order of analysis.Aggregations.
func (v *paperView) presetSelections(preset string) []*SelectionSummary {
	var out []*SelectionSummary
	for _, agg := range analysis.Aggregations {
		for i := range v.s.Selections {
			if sel := &v.s.Selections[i]; sel.Preset == preset && sel.RunAgg == agg {
				out = append(out, sel)
			}
		}
	}
	return out
}

// PaperFigures returns the figures of s: per metric the normalization
// (each repeat's ratio, the headline aggregate over it) and the
// aggregation (mean, median, p90, max), the score per preset, the
// statistics (score ratio with its interval per point, by verdict), the
// prompt_weight CDF and, for a two-parameter grid, heatmaps of the score
// and of the score ratio.
func PaperFigures(s *Summary) ([]*paper.Figure, error) {
	v, err := newPaperView(s)
	if err != nil {
		return nil, err
	}
	var figs []*paper.Figure
	add := func(f *paper.Figure, err error) error {
		if err != nil {
			return err
		}
		figs = append(figs, f)
		return nil
	}
	for _, m := range metricViews {
		if err := add(v.normalizationFigure(m)); err != nil {
			return nil, err
		}
	}
	for _, m := range metricViews {
		if err := add(v.aggregationFigure(m)); err != nil {
			return nil, err
		}
	}
	var presets []string
	for _, sel := range s.Selections {
		if !slices.Contains(presets, sel.Preset) {
			presets = append(presets, sel.Preset)
		}
	}
	for _, p := range presets {
		if err := add(v.scoreFigure(p, len(presets) > 1)); err != nil {
			return nil, err
		}
	}
	if v.head.SummaryJSON != nil && s.Statistics != nil {
		if err := add(v.statisticsFigure()); err != nil {
			return nil, err
		}
	}
	if s.PromptWeight != nil && len(s.PromptWeight.Quantiles) > 1 {
		if err := add(v.promptWeightFigure()); err != nil {
			return nil, err
		}
	}
	if len(s.Params) == 2 {
		if err := add(v.gridHeatmap("heatmap-score", "score ("+s.Headline.Preset+", "+s.Headline.Aggregation+")",
			func(r RowSummary) float64 { return r.Score })); err != nil {
			return nil, err
		}
		if v.head.SummaryJSON != nil {
			if err := add(v.gridHeatmap("heatmap-score-ratio", "score / baseline score", func(r RowSummary) float64 {
				if r.RowJSON == nil || r.ScoreRatio == nil {
					return math.NaN()
				}
				return *r.ScoreRatio
			})); err != nil {
				return nil, err
			}
		}
	}
	return figs, nil
}

// ratioLabel is the y axis of a metric's ratio.
func ratioLabel(m metricView) string {
	return m.key + " ratio to baseline (1)"
}

func (v *paperView) normalizationFigure(m metricView) (*paper.Figure, error) {
	c := &paper.Chart{X: v.xAxis, Y: paper.Axis{Label: ratioLabel(m), Include: []float64{1}}, Legend: true,
		HLines: []paper.HLine{{Y: 1, Label: "baseline"}}}
	for r := range v.s.Repeats {
		ys := v.column(v.head, func(row RowSummary) float64 {
			if r >= len(row.PerRepeat) || row.PerRepeat[r] == nil {
				return math.NaN()
			}
			return m.ratio(row.PerRepeat[r].RatiosJSON.Ratios())
		})
		name := ""
		if r == 0 {
			name = "one repeat"
		}
		c.Series = append(c.Series, paper.Series{Name: name, X: v.x, Y: ys, Style: paper.Thin})
	}
	c.Series = append(c.Series, paper.Series{Name: v.head.RunAgg + " of repeats", X: v.x,
		Y: v.column(v.head, func(row RowSummary) float64 { return m.ratio(row.RatiosJSON.Ratios()) })})
	f, err := paper.Line("normalization-"+m.key, c)
	if err == nil {
		f.Caption = fmt.Sprintf("%s of each repeat divided by that repeat's baseline (grey), and their %s (preset %s).", m.summary, v.head.RunAgg, v.head.Preset)
	}
	return f, err
}

func (v *paperView) aggregationFigure(m metricView) (*paper.Figure, error) {
	c := &paper.Chart{X: v.xAxis, Y: paper.Axis{Label: ratioLabel(m), Include: []float64{1}}, Legend: true}
	for i, sel := range v.presetSelections(v.head.Preset) {
		c.Series = append(c.Series, paper.Series{Name: sel.RunAgg, X: v.x, Color: i,
			Y: v.column(sel, func(row RowSummary) float64 { return m.ratio(row.RatiosJSON.Ratios()) })})
	}
	f, err := paper.Line("aggregation-"+m.key, c)
	if err == nil {
		f.Caption = fmt.Sprintf("%s ratio to the baseline, aggregated across repeats by mean, median, p90 and max.", m.summary)
	}
	return f, err
}

func (v *paperView) scoreFigure(preset string, several bool) (*paper.Figure, error) {
	c := &paper.Chart{X: v.xAxis, Y: paper.Axis{Label: "score (weighted ratio, 1)"}, Legend: true}
	for i, sel := range v.presetSelections(preset) {
		ys := v.column(sel, func(row RowSummary) float64 { return row.Score })
		c.Series = append(c.Series, paper.Series{Name: sel.RunAgg, X: v.x, Y: ys, Color: i})
		for _, r := range sel.Thresholds {
			if r.Chosen {
				label := ""
				if i == 0 {
					label = "choice"
				}
				c.Marks = append(c.Marks, paper.Mark{X: v.x[v.pointIndex(analysis.Point(r.Threshold))], Y: r.Score, Label: label})
			}
		}
	}
	name := "score"
	if several {
		name += "-" + fileSafe(preset)
	}
	f, err := paper.Line(name, c)
	if err == nil {
		f.Caption = fmt.Sprintf("Score of preset %s under each aggregation; rings mark each curve's minimum (its choice).", preset)
	}
	return f, err
}

func (v *paperView) pointIndex(p analysis.Point) int {
	for i, q := range v.s.Points {
		if q.Compare(p) == 0 {
			return i
		}
	}
	return 0
}

// paperVerdicts pair each verdict with a palette colour (and so a marker).
var paperVerdicts = []struct {
	verdict analysis.Verdict
	color   int
}{{analysis.Better, 2}, {analysis.Same, 0}, {analysis.Worse, 3}}

func (v *paperView) statisticsFigure() (*paper.Figure, error) {
	o := v.s.Statistics
	c := &paper.Chart{X: v.xAxis, Y: paper.Axis{Label: "score / baseline score (1)", Include: []float64{1 - o.Margin, 1 + o.Margin}}, Legend: true,
		HLines: []paper.HLine{{Y: 1, Label: "baseline"}}}
	for _, vc := range paperVerdicts {
		get := func(f func(RowSummary) float64) []float64 {
			return v.column(v.head, func(r RowSummary) float64 {
				if r.RowJSON == nil || r.Verdict != vc.verdict || r.ScoreRatio == nil {
					return math.NaN()
				}
				return f(r)
			})
		}
		ys := get(func(r RowSummary) float64 { return *r.ScoreRatio })
		lo := get(func(r RowSummary) float64 {
			if r.ScoreRatioCI == nil {
				return math.NaN()
			}
			return r.ScoreRatioCI[0]
		})
		hi := get(func(r RowSummary) float64 {
			if r.ScoreRatioCI == nil {
				return math.NaN()
			}
			return r.ScoreRatioCI[1]
		})
		if !slices.ContainsFunc(ys, func(y float64) bool { return !math.IsNaN(y) }) {
			continue
		}
		c.Series = append(c.Series, paper.Series{Name: string(vc.verdict), X: v.x, Y: ys, Lo: lo, Hi: hi, Style: paper.Points, Color: vc.color})
	}
	if len(c.Series) == 0 {
		return nil, fmt.Errorf("report %s: the statistics have no score ratio to draw", v.s.Experiment)
	}
	for _, m := range []float64{1 - o.Margin, 1 + o.Margin} {
		c.Series = append(c.Series, paper.Series{X: []float64{v.x[0], v.x[len(v.x)-1]}, Y: []float64{m, m}, Style: paper.Thin})
	}
	f, err := paper.Line("statistics", c)
	if err == nil {
		f.Caption = fmt.Sprintf("Score ratio of each point to the baseline (geometric mean over paired repeats) with its %s BCa interval, by verdict; grey lines: the ±%s margin.", present.Percent(o.Level), present.Percent(o.Margin))
	}
	return f, err
}

func (v *paperView) promptWeightFigure() (*paper.Figure, error) {
	pw := v.s.PromptWeight
	xs := pw.Quantiles
	qs := make([]float64, len(xs))
	for i := range qs {
		qs[i] = float64(i) / float64(len(xs)-1)
	}
	c := &paper.Chart{X: paper.Axis{Label: "seconds per prefill token (s/token)"}, Y: paper.Axis{Label: "fraction of requests (1)", Include: []float64{0, 1}},
		Legend: true, LegendBottom: true}
	if lo, hi := xs[0], xs[len(xs)-1]; lo > 0 && hi/lo > 10 {
		c.X.Log = true
		c.X.Label = "seconds per prefill token (s/token, log)"
	}
	c.Series = append(c.Series, paper.Series{Name: "CDF", X: xs, Y: qs, Style: paper.Curve})
	for i, st := range pw.Stats {
		c.Series = append(c.Series, paper.Series{Name: st.Stat, X: []float64{st.Seconds, st.Seconds}, Y: []float64{0, 1}, Style: paper.Curve, Color: i + 1})
	}
	f, err := paper.Line("prompt-weight-cdf", c)
	if err == nil {
		f.Caption = fmt.Sprintf("Distribution of seconds per prefill token at %s over %d requests, with its mean, median and p80.", present.PointName(v.s.Params, analysis.Point(pw.Point)), pw.N)
	}
	return f, err
}

// gridHeatmap draws f of the headline rows over a two-parameter grid.
func (v *paperView) gridHeatmap(name, zLabel string, f func(RowSummary) float64) (*paper.Figure, error) {
	var xs, ys []float64
	for _, p := range v.s.Points {
		if !slices.Contains(xs, p[0]) {
			xs = append(xs, p[0])
		}
		if !slices.Contains(ys, p[1]) {
			ys = append(ys, p[1])
		}
	}
	slices.Sort(xs)
	slices.Sort(ys)
	z := make([][]float64, len(ys))
	for j := range z {
		z[j] = make([]float64, len(xs))
		for i := range z[j] {
			z[j][i] = math.NaN()
		}
	}
	var mark *[2]int
	for _, r := range v.head.Thresholds {
		p := analysis.Point(r.Threshold)
		i, j := slices.Index(xs, p[0]), slices.Index(ys, p[1])
		if i < 0 || j < 0 {
			continue
		}
		z[j][i] = f(r)
		if r.Chosen {
			mark = &[2]int{i, j}
		}
	}
	d := &paper.HeatmapData{X: xs, Y: ys, Z: z, XLabel: axisLabel(v.s.Params[0]), YLabel: axisLabel(v.s.Params[1]), ZLabel: zLabel, Mark: mark, Annotate: true}
	return Heatmap(name, d)
}

// Heatmap draws a value over a two-parameter grid in the paper style (one
// call: x values, y values, the z matrix with z[j][i] at (x[i], y[j]),
// and the labels in d). The joint-grid and per-condition analyses use it.
func Heatmap(name string, d *paper.HeatmapData) (*paper.Figure, error) {
	f, err := paper.Heatmap(name, d)
	if err == nil {
		f.Caption = fmt.Sprintf("%s over %s × %s; the ring marks the choice.", d.ZLabel, d.XLabel, d.YLabel)
	}
	return f, err
}

// sentence capitalizes s and ends it with a full stop.
func sentence(s string) string {
	return present.Capitalize(strings.TrimSuffix(strings.TrimSpace(s), ".")) + "."
}

// fileSafe turns a name into a file name stem.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// PaperTables returns the tables of s: "decision" (the choice of every
// preset × aggregation, the headline marked, the statistics' conclusion as
// the caption), "statistics" (per point: pairs, score ratio with its
// interval, Holm p, verdict, win probability; the choice marked; only with
// statistics) and "prompt-weight" (each statistic with its interval and
// the weights it gives).
func PaperTables(s *Summary) ([]*paper.Table, error) {
	v, err := newPaperView(s)
	if err != nil {
		return nil, err
	}
	tabs := []*paper.Table{v.decisionTable()}
	if v.head.SummaryJSON != nil && s.Statistics != nil {
		tabs = append(tabs, v.statisticsTable())
	}
	if s.PromptWeight != nil {
		tabs = append(tabs, v.promptWeightTable())
	}
	return tabs, nil
}

// tnum formats a number for a table: four significant digits, "–" for
// none.
func tnum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func tinterval(iv *[2]float64) string {
	if iv == nil {
		return "–"
	}
	return "[" + tnum(iv[0]) + ", " + tnum(iv[1]) + "]"
}

// ratioDecimals is the number of decimals (3 to 6) that shows how far
// each of ratios is from 1: a ratio of 0.99987 prints as 0.99987, not 1.
func ratioDecimals(ratios ...float64) int {
	d := 3
	for _, r := range ratios {
		if dist := math.Abs(r - 1); dist > 0 && !math.IsNaN(dist) {
			d = max(d, int(math.Ceil(-math.Log10(dist)))+1)
		}
	}
	return min(d, 6)
}

func fixed(v float64, d int) string { return strconv.FormatFloat(v, 'f', d, 64) }

// decisionTable has one row per preset × aggregation. A decision row or
// guard columns are further entries of Columns and cells of each row.
func (v *paperView) decisionTable() *paper.Table {
	s := v.s
	t := &paper.Table{Label: "decision", MarkNote: "the headline selection (its lowest score is the old script's choice; the decision is in the caption)",
		Columns: []paper.Column{{Head: "preset"}, {Head: "aggregation"}, {Head: "lowest score at", Right: true},
			{Head: "score", Right: true}, {Head: "baseline score", Right: true}, {Head: "change", Right: true}}}
	t.Caption = fmt.Sprintf("%s in experiment %s (%d repeats). %s The rows are each preset and aggregation's lowest score, as the old script chose.",
		s.Param, s.Experiment, len(s.Repeats), decisionSentence(s))
	for i := range s.Selections {
		sel := &s.Selections[i]
		var best, base *RowSummary
		for k := range sel.Thresholds {
			r := &sel.Thresholds[k]
			if r.Chosen {
				best = r
			}
			if sel.Baseline != nil && analysis.Point(r.Threshold).Compare(analysis.Point(sel.Baseline)) == 0 {
				base = r
			}
		}
		if best == nil {
			continue
		}
		baseScore, change := "–", "–"
		if base != nil {
			baseScore = tnum(base.Score)
			change = fmt.Sprintf("%+.2f%%", 100*(best.Score/base.Score-1))
		}
		t.Rows = append(t.Rows, []string{sel.Preset, sel.RunAgg, analysis.Point(best.Threshold).String(), tnum(best.Score), baseScore, change})
		t.Marked = append(t.Marked, sel == v.head)
	}
	if v.head.SummaryJSON != nil && v.head.PowerNote != "" {
		t.Notes = append(t.Notes, sentence(v.head.PowerNote))
	}
	return t
}

func (v *paperView) statisticsTable() *paper.Table {
	o := v.s.Statistics
	t := &paper.Table{Label: "statistics", MarkNote: "the decision",
		Columns: []paper.Column{{Head: v.s.Param, Right: true}, {Head: "pairs", Right: true}, {Head: "score ratio", Right: true},
			{Head: present.Percent(o.Level) + " interval", Right: true}, {Head: "p (Holm)", Right: true}, {Head: "verdict"}, {Head: "win prob.", Right: true}}}
	t.Caption = fmt.Sprintf("Each %s against the baseline %s, paired by repeat: geometric-mean score ratio with its %s BCa interval, sign-flip p-value (Holm-adjusted), verdict (margin ±%s) and the share of %d resamples in which the point wins. %s",
		v.s.Param, analysis.Point(v.head.Baseline).String(), present.Percent(o.Level), present.Percent(o.Margin), o.WinResamples, sentence(v.head.Conclusion))
	// One number of decimals for the whole column, enough for every row.
	var all []float64
	for _, r := range v.head.Thresholds {
		if r.RowJSON != nil && r.ScoreRatio != nil {
			all = append(all, *r.ScoreRatio)
			if r.ScoreRatioCI != nil {
				all = append(all, r.ScoreRatioCI[0], r.ScoreRatioCI[1])
			}
		}
	}
	d := ratioDecimals(all...)
	for _, r := range v.head.Thresholds {
		ratio, ci, p := "–", "–", "–"
		if r.RowJSON == nil {
			continue
		}
		if r.ScoreRatio != nil {
			ratio = fixed(*r.ScoreRatio, d)
			if r.ScoreRatioCI != nil {
				ci = "[" + fixed(r.ScoreRatioCI[0], d) + ", " + fixed(r.ScoreRatioCI[1], d) + "]"
			}
		}
		if r.PValue != nil {
			p = tnum(*r.PValue)
		}
		t.Rows = append(t.Rows, []string{analysis.Point(r.Threshold).String(), strconv.Itoa(r.Pairs), ratio, ci, p,
			string(r.Verdict), strconv.FormatFloat(100*r.WinProbability, 'f', 1, 64) + "%"})
		t.Marked = append(t.Marked, v.s.DecisionFieldsJSON != nil && analysis.Point(r.Threshold).Compare(analysis.Point(v.s.Decision.Point)) == 0)
	}
	return t
}

// decisionSentence states the summary's decision ("Decision: keep
// min_chunk_threshold = 0: …"), the one every output leads with.
func decisionSentence(s *Summary) string {
	if s.DecisionFieldsJSON == nil {
		return ""
	}
	d := s.Decision
	verb := "keep"
	if d.Verdict != analysis.Keep {
		verb = "change to"
	}
	return fmt.Sprintf("Decision: %s %s: %s.", verb, present.PointName(s.Params, analysis.Point(d.Point)), strings.TrimSuffix(strings.TrimSpace(d.Reason), "."))
}

func (v *paperView) promptWeightTable() *paper.Table {
	pw := v.s.PromptWeight
	t := &paper.Table{Label: "prompt-weight",
		Columns: []paper.Column{{Head: "statistic"}, {Head: "s (s/token)", Right: true}, {Head: "95% interval", Right: true},
			{Head: "prompt_weight (time_weight = 1)", Right: true}, {Head: "time_weight (prompt_weight = −1)", Right: true}}}
	t.Caption = fmt.Sprintf("Seconds per prefill token at %s over %d requests (95%% intervals: %s) and the AGING weights they give.",
		present.PointName(v.s.Params, analysis.Point(pw.Point)), pw.N, pw.CIMethods())
	for _, st := range pw.Stats {
		ci := st.CI95
		t.Rows = append(t.Rows, []string{st.Stat, tnum(st.Seconds), tinterval(&ci), tnum(st.TimeWeightOne.PromptWeight), tnum(st.PromptWeightOne.TimeWeight)})
	}
	return t
}

// PaperFigure returns the paper figure name ("statistics",
// "prompt-weight-cdf", "score-default", …: the file stems under figures/)
// of in, drawn from in's summary exactly as Write draws it. Notebooks call
// it to make a paper figure in one cell.
func PaperFigure(in *Input, name string) (*paper.Figure, error) {
	s, err := BuildSummary(in)
	if err != nil {
		return nil, err
	}
	figs, err := PaperFigures(s)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range figs {
		if f.Name == name {
			return f, nil
		}
		names = append(names, f.Name)
	}
	return nil, fmt.Errorf("report %s: no figure %q; the figures are %s", in.Name, name, strings.Join(names, ", "))
}
