package report

import (
	"bytes"
	"fmt"
	"github.com/schedlab/schedlab/lab/present"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/internal/fsutil"
)

// CompareInput is what a comparison page shows: the two experiments'
// report inputs (their selections and statistics, each computed on its own)
// and analysis.Compare's pairing of their cells.
type CompareInput struct {
	// LabelA and LabelB name the two sides in headings and legends
	// ("min-chunk-threshold (store .lab-a)").
	LabelA, LabelB string
	A, B           *Input
	Comparison     *analysis.Comparison
	Generated      time.Time
}

// Decision is the statistics' decision of one experiment: change to the
// recommended point when it is significantly better than the baseline,
// keep the baseline otherwise.
type Decision struct {
	Change bool
	// Point is the point the decision keeps or changes to.
	Point      analysis.Point
	Conclusion string
}

// DecisionOf returns in's decision; ok is false when in has no statistics.
func DecisionOf(in *Input) (d Decision, ok bool) {
	if in.Significance == nil {
		return Decision{}, false
	}
	h := in.headline()
	if in.Significance.Significant {
		return Decision{Change: true, Point: h.Recommended(), Conclusion: in.Significance.Conclusion}, true
	}
	return Decision{Point: in.Significance.Baseline, Conclusion: in.Significance.Conclusion}, true
}

// String is "change to 6" or "keep 0".
func (d Decision) String() string {
	if d.Change {
		return "change to " + d.Point.String()
	}
	return "keep " + d.Point.String()
}

// SameDecision says whether two decisions agree (and false when either
// experiment has no statistics).
func SameDecision(a, b *Input) bool {
	da, oka := DecisionOf(a)
	db, okb := DecisionOf(b)
	return oka && okb && da.Change == db.Change && da.Point.Compare(db.Point) == 0
}

// WriteCompareHTML writes the comparison page to path (its folder created),
// atomically.
func WriteCompareHTML(path string, in *CompareInput) error {
	var b bytes.Buffer
	if err := RenderCompare(&b, in); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return fsutil.WriteFileAtomic(path, b.Bytes())
}

// RenderCompare writes the comparison page: the two decisions, the ratio
// B/A per metric with its interval at every point, the table of every
// comparison, and the report's selection charts of both experiments side
// by side. Like the report, it works offline.
func RenderCompare(w io.Writer, in *CompareInput) error {
	for _, side := range []*Input{in.A, in.B} {
		if err := side.check(); err != nil {
			return err
		}
	}
	if in.Comparison == nil {
		return fmt.Errorf("report: comparison of %s and %s: no comparison", in.LabelA, in.LabelB)
	}
	c := in.Comparison
	p := &page{Title: "schedlab comparison: " + in.LabelB + " against " + in.LabelA, Generated: generatedString(in.Generated)}
	add := func(k, v string) { p.Meta = append(p.Meta, metaRow{k, v}) }
	for _, s := range []struct {
		label string
		in    *Input
	}{{"A", in.A}, {"B", in.B}} {
		add(s.label, fmt.Sprintf("%s — engine %s, hash %.12s, %d cells ok", labelOf(in, s.label), s.in.Engine, s.in.Hash, s.in.Cells.OK))
	}
	add("Paired", fmt.Sprintf("%d points × %d repeats (by sweep point and repeat name)", len(c.Points), len(c.Repeats)))
	add("Generated", generatedString(in.Generated))

	dec := &section{ID: "decision", Title: "1. The decisions"}
	da, oka := DecisionOf(in.A)
	db, okb := DecisionOf(in.B)
	switch {
	case !oka || !okb:
		dec.strong("The decisions cannot be compared: an experiment has no statistics.")
	case SameDecision(in.A, in.B):
		dec.strong("Same decision: %s.", da)
	default:
		dec.strong("The decisions differ: A says %s, B says %s.", da, db)
	}
	if oka {
		dec.text("A (%s): %s", in.LabelA, present.Capitalize(da.Conclusion))
	}
	if okb {
		dec.text("B (%s): %s", in.LabelB, present.Capitalize(db.Conclusion))
	}
	counts := c.Counts()
	dec.text("Per point and metric, B against A: %d better, %d same, %d worse (of %d; better means B is lower by more than the %s margin with Holm-adjusted p ≤ %s).",
		counts[analysis.Better], counts[analysis.Same], counts[analysis.Worse], c.Compared, present.Percent(c.Options.Margin), present.Num(c.Options.Alpha))
	if len(c.OnlyA)+len(c.OnlyB) > 0 {
		dec.text("Not paired: %d points only in A, %d only in B.", len(c.OnlyA), len(c.OnlyB))
	}

	ratios := &section{ID: "ratios", Title: "2. B ÷ A per metric"}
	ratios.text("Each metric's per-cell summary of B divided by A's, cell by cell (same point, same repeat): the geometric mean over the repeats with its %s BCa interval; p is an exact sign-flip test of the log ratios, Holm-adjusted over the %d points of each metric.", present.Percent(c.Options.Level), len(c.Points))
	labels := make([]string, len(c.Points))
	for i, pc := range c.Points {
		labels[i] = pc.Point.String()
	}
	a := newAxis(in.A.Table.Param, in.A.Table.Params, pointsOf(c))
	names := analysis.MetricNames()
	tb := &table{Header: []string{in.A.Table.Param, "metric", "pairs", "B ÷ A", present.Percent(c.Options.Level) + " interval", "p (Holm)", "verdict"},
		Num: []bool{true, false, true, true, false, true, false}}
	for k, m := range metricViews {
		ratio := make([]float64, len(c.Points))
		ci := make([][2]float64, len(c.Points))
		verdicts := make([]string, len(c.Points))
		for i, pc := range c.Points {
			mc := pc.Metrics[k]
			ratio[i], ci[i], verdicts[i] = mc.Ratio, mc.CI, string(mc.Verdict)
		}
		f := a.frame(m.summary+": B ÷ A", "dots coloured by verdict", "B ÷ A (1)", true)
		band := [2]float64{1 - c.Options.Margin, 1 + c.Options.Margin}
		ratios.add(block{Chart: ciChart("chart-cmp-"+m.key, f, labels, ratio, ci, verdicts, []hline{{Label: "A", Y: 1}}, band, "±"+present.Percent(c.Options.Margin)+" margin")})
	}
	for _, pc := range c.Points {
		for k, mc := range pc.Metrics {
			tb.Rows = append(tb.Rows, []string{pc.Point.String(), names[k], strconv.Itoa(mc.Pairs), present.Num(mc.Ratio), present.Interval(mc.CI), present.Num(mc.P), string(mc.Verdict)})
			tb.Mark = append(tb.Mark, mc.Verdict != analysis.Same)
		}
	}
	ratios.add(block{Table: tb, Collapse: fmt.Sprintf("Every comparison (%d rows; highlighted: better or worse)", len(tb.Rows))})

	side := &section{ID: "side-by-side", Title: "3. Side by side"}
	side.text("Left: A (%s). Right: B (%s). Each is the chart of its own report: ratios to its own baseline, its own selection.", in.LabelA, in.LabelB)
	pair := func(id string, make func(*Input) (*Chart, error)) {
		var cs [2]*Chart
		for i, s := range []*Input{in.A, in.B} {
			ch, err := make(s)
			if err != nil {
				side.text("%s: %s", []string{"A", "B"}[i], err)
				return
			}
			ch.ID = id + "-" + []string{"a", "b"}[i]
			cs[i] = ch
		}
		side.add(block{Pair: cs[:]})
	}
	pair("chart-cmp-score", func(s *Input) (*Chart, error) {
		h := s.headline()
		return ScoreChart("Score, preset "+h.Preset, (&builder{in: s}).presetSelections(h.Preset))
	})
	for _, m := range metricViews {
		pair("chart-cmp-norm-"+m.key, func(s *Input) (*Chart, error) { return NormalizationChart(s.headline(), m.key) })
	}
	for _, m := range metricViews {
		pair("chart-cmp-agg-"+m.key, func(s *Input) (*Chart, error) {
			h := s.headline()
			return AggregationChart((&builder{in: s}).presetSelections(h.Preset), m.key, h.Agg)
		})
	}
	p.Sections = []*section{dec, ratios, side}
	return p.render(w)
}

func labelOf(in *CompareInput, side string) string {
	if side == "A" {
		return in.LabelA
	}
	return in.LabelB
}

func pointsOf(c *analysis.Comparison) []analysis.Point {
	out := make([]analysis.Point, len(c.Points))
	for i, p := range c.Points {
		out[i] = p.Point
	}
	return out
}

// CompareText writes the comparison as text: the decisions, then one row
// per point × metric.
func CompareText(w io.Writer, in *CompareInput) error {
	c := in.Comparison
	var b strings.Builder
	fmt.Fprintf(&b, "A: %s\nB: %s\n", in.LabelA, in.LabelB)
	fmt.Fprintf(&b, "paired: %d points × %d repeats", len(c.Points), len(c.Repeats))
	if len(c.OnlyA)+len(c.OnlyB) > 0 {
		fmt.Fprintf(&b, " (not paired: %d points only in A, %d only in B)", len(c.OnlyA), len(c.OnlyB))
	}
	b.WriteString("\n")
	da, oka := DecisionOf(in.A)
	db, okb := DecisionOf(in.B)
	if oka && okb {
		same := "no"
		if SameDecision(in.A, in.B) {
			same = "yes"
		}
		fmt.Fprintf(&b, "decision A: %s\ndecision B: %s\nsame decision: %s\n", da, db, same)
	} else {
		b.WriteString("decision: not compared (an experiment has no statistics)\n")
	}
	counts := c.Counts()
	fmt.Fprintf(&b, "B ÷ A per point and metric, paired by repeat (sign-flip test, Holm over the %d points of each metric, %s BCa intervals, margin %s): %d better, %d same, %d worse\n",
		len(c.Points), present.Percent(c.Options.Level), present.Percent(c.Options.Margin), counts[analysis.Better], counts[analysis.Same], counts[analysis.Worse])
	cols := [][]string{{in.A.Table.Param}, {"metric"}, {"pairs"}, {"B÷A"}, {present.Percent(c.Options.Level) + " CI"}, {"p (Holm)"}, {"verdict"}}
	names := analysis.MetricNames()
	for _, pc := range c.Points {
		for k, mc := range pc.Metrics {
			for j, v := range []string{pc.Point.String(), names[k], strconv.Itoa(mc.Pairs), ratioText(mc.Ratio), ciText(mc.CI), present.Num(mc.P), string(mc.Verdict)} {
				cols[j] = append(cols[j], v)
			}
		}
	}
	for row := range cols[0] {
		var line strings.Builder
		for j, col := range cols {
			width := 0
			for _, v := range col {
				width = max(width, len([]rune(v)))
			}
			if j > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width-len([]rune(col[row])))
			if j == 1 || j == len(cols)-1 {
				line.WriteString(col[row] + pad)
			} else {
				line.WriteString(pad + col[row])
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ratioText(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

func ciText(iv [2]float64) string {
	if math.IsNaN(iv[0]) {
		return "–"
	}
	return "[" + ratioText(iv[0]) + ", " + ratioText(iv[1]) + "]"
}
