package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/present"
)

// choiceSection leads the page with the decision (analysis.Decide): what
// to run and why, what blocked each candidate, then the old script's
// lowest score, labelled as such, and the guard table.
func (b *builder) choiceSection() *section {
	s := &section{ID: "choice", Title: "The decision"}
	h := b.head
	d := b.in.Decision
	s.strong("Decision: %s.", strings.TrimSuffix(d.Reason, "."))
	var items []string
	for i, bl := range d.Blocked {
		if i == 0 && d.Verdict == analysis.Keep {
			continue // the decision's sentence names it
		}
		items = append(items, "Not chosen: "+bl.Text+".")
	}
	if len(items) > 0 {
		s.add(block{Items: items})
	}
	best := h.Rows[h.Best]
	s.text("The old script's lowest score: %s (preset %s, %s of %d repeats), score %s — the point select_threshold.py would have recommended.",
		present.PointName(h.Params, best.Point), h.Preset, h.Agg, best.Runs, present.Num(best.Score))
	if bi := rowIndex(h, h.Baseline); bi >= 0 && bi != h.Best {
		base := h.Rows[bi]
		s.text("At the baseline %s the score is %s, so the lowest score differs from it by %s.",
			present.PointName(h.Params, base.Point), present.Num(base.Score), present.Change(best.Score/base.Score))
	}
	if sig := b.in.Significance; sig != nil {
		s.text("Score alone (section 6): %s.", strings.TrimSuffix(sig.Conclusion, "."))
	} else if b.in.NoStatistics != "" {
		s.text("Not tested: %s.", strings.TrimSuffix(b.in.NoStatistics, "."))
	}
	if a := agreement(b.in.Selections); a != "" {
		s.text("%s", a)
	}
	if tb := guardTable(h, d); tb != nil {
		s.add(block{Table: tb})
	}
	s.text("How to read this page: section 2 shows the measured numbers, section 3 divides each repeat by its own baseline, section 4 combines the repeats, section 5 weighs the five ratios into a score (the old script's choice is the smallest score); the decision above also needs the score to be significantly better than the baseline (section 6) and every guard to stay within the margin (table above).")
	return s
}

// guardTable is every point's guard ratios to the baseline with their
// intervals and verdicts; the decided point is highlighted. nil when no
// guard was checked.
func guardTable(h *analysis.Selection, d *analysis.Decision) *table {
	gc := d.Guards
	if len(gc.Guards) == 0 {
		return nil
	}
	tb := &table{
		Caption: fmt.Sprintf("Guards: ratio to the baseline %s, paired by repeat, with 95%% intervals. ok: the interval stays below 1 + %s (throughput: above 1 − %s); worse: wholly beyond; ?: cannot tell (more repeats). Highlighted: the decision.",
			present.PointName(h.Params, gc.Baseline), present.Percent(gc.Margin), present.Percent(gc.Margin)),
		Header: []string{h.Param},
		Num:    []bool{true},
	}
	for _, g := range gc.Guards {
		tb.Header = append(tb.Header, analysis.GuardName(g))
		tb.Num = append(tb.Num, false)
	}
	for _, pg := range gc.Points {
		row := []string{pg.Point.String()}
		for _, r := range pg.Results {
			cell := "–"
			switch {
			case pg.Baseline:
				cell = "baseline"
			case !math.IsNaN(r.CI[0]):
				cell = fmt.Sprintf("%s %s %s", present.Num(r.Ratio), present.Interval(r.CI), verdictMark(r.Verdict))
			case !math.IsNaN(r.Ratio):
				cell = fmt.Sprintf("%s %s", present.Num(r.Ratio), verdictMark(r.Verdict))
			}
			row = append(row, cell)
		}
		tb.Rows = append(tb.Rows, row)
		tb.Mark = append(tb.Mark, pg.Point.Compare(d.Point) == 0)
	}
	return tb
}

func verdictMark(v analysis.GuardVerdict) string {
	if v == analysis.GuardInconclusive {
		return "?"
	}
	return string(v)
}

// Confirmation is the prompt_weight confirmation as the page shows it: a
// sentence, a table (one row per weight; Mark highlights the decided
// weight) and the object summary.json carries as
// "prompt_weight_confirmation" (experiment.Confirmation fills it).
type Confirmation struct {
	Sentence string
	Header   []string
	Rows     [][]string
	Mark     []bool
	JSON     any
}

// confirmationBlocks shows the confirmation, or why there is none.
func (b *builder) confirmationBlocks(s *section) {
	c := b.in.Confirmation
	switch {
	case c != nil:
		s.add(block{Heading: "Confirmation: the derived weight, run"})
		s.strong("%s.", strings.TrimSuffix(c.Sentence, "."))
		num := make([]bool, len(c.Header))
		for i := range num {
			num[i] = i != 1 && i < len(c.Header)-2
		}
		s.add(block{Table: &table{Caption: "Each weight against the configured one at the decision, paired by repeat (same seeds); guards as in section 1",
			Header: c.Header, Rows: c.Rows, Mark: c.Mark, Num: num}})
	case b.in.ConfirmationNote != "":
		s.text("Not confirmed by a run: %s.", strings.TrimSuffix(b.in.ConfirmationNote, "."))
	}
}
