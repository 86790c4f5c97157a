package analysis

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/schedlab/schedlab/lab/present"
	"github.com/schedlab/schedlab/lab/spec"
)

// DecisionVerdict says whether the decision changes the parameter.
type DecisionVerdict string

// Decision verdicts: Change to another point, or Keep the baseline.
const (
	Change DecisionVerdict = "change"
	Keep   DecisionVerdict = "keep"
)

// Blocker kinds: why a point that looked like a candidate is not the
// decision.
const (
	// BlockedGuardWorse: significantly better on the score, but some guard
	// is wholly beyond the margin.
	BlockedGuardWorse = "guard-worse"
	// BlockedGuardInconclusive: significantly better on the score, no
	// guard worse, but some guard cannot rule out a regression beyond
	// the margin.
	BlockedGuardInconclusive = "guard-inconclusive"
	// BlockedNotSignificant: the old script's lowest score, not
	// significantly better than the baseline.
	BlockedNotSignificant = "not-significant"
)

// LowestScore is the old script's choice: the point with the smallest
// aggregated score (ties to the smallest point), bit-identical to
// Selection.Recommended and its Row.Score.
type LowestScore struct {
	Point Point
	Score float64
}

// Blocked is one candidate the decision did not take, and why.
type Blocked struct {
	Point Point
	// Kind is BlockedGuardWorse, BlockedGuardInconclusive or
	// BlockedNotSignificant.
	Kind string
	// Guards are the guards that did not pass (worse first), empty for
	// BlockedNotSignificant.
	Guards []GuardResult
	// Text is the sentence: "min_chunk_threshold = 38: score −9.8%
	// [−11%, −8.5%] vs 0, p = 0.002 (Holm) but TTFT p95 +12% [+10%, +14%]:
	// rejected".
	Text string
}

// Decision is the lab's answer for one selection: the baseline unless
// another point is significantly better on the score (Significance:
// paired sign-flip test, Holm, interval beyond the margin) AND passes
// every guard (CheckGuards); among such points the one with the lowest
// score (ties to the smallest point).
type Decision struct {
	Param  string
	Params []string
	// Point is the decided point; Baseline the point it was compared with.
	Point    Point
	Baseline Point
	Verdict  DecisionVerdict
	// Reason is one sentence saying what was decided and why.
	Reason string
	// LowestScore is the old script's argmin, shown beside the decision.
	LowestScore LowestScore
	// Blocked lists every significantly better point that a guard
	// blocked, then (when it is neither the decision nor blocked) the
	// lowest-score point as not significant; by score, lowest first.
	Blocked []Blocked
	// Guards are every point's guard results (parallel to the selection's
	// rows).
	Guards *GuardCheck
	// Warnings are the guard check's (skipped guards, cells lacking one).
	Warnings []string
}

// Decide makes the decision for selection s of table t with its
// significance sig (computed from s), checking guards (nil or empty: no
// guards). It works on whatever points s has, so a caller deciding per
// condition selects on a sub-table (Table.Subset) and calls it once per
// condition.
func Decide(t *Table, s *Selection, sig *Significance, guards []spec.Guard) (*Decision, error) {
	if len(sig.Points) != len(s.Rows) {
		return nil, fmt.Errorf("analysis: significance has %d points, selection %d rows: not computed from this selection", len(sig.Points), len(s.Rows))
	}
	gc, err := CheckGuards(t, s, sig.Baseline, guards, sig.Options)
	if err != nil {
		return nil, err
	}
	best := s.Rows[s.Best]
	d := &Decision{
		Param: s.Param, Params: s.Params, Baseline: sig.Baseline, Point: sig.Baseline, Verdict: Keep,
		LowestScore: LowestScore{Point: best.Point, Score: best.Score},
		Guards:      gc, Warnings: gc.Warnings,
	}
	// Candidates: significantly better, lowest score first (rows are
	// sorted by point, so a stable sort breaks ties to the smaller point).
	var cands []int
	for i := range sig.Points {
		if sig.Points[i].Verdict == Better && !sig.Points[i].Baseline {
			cands = append(cands, i)
		}
	}
	slices.SortStableFunc(cands, func(a, b int) int {
		switch {
		case s.Rows[a].Score < s.Rows[b].Score:
			return -1
		case s.Rows[a].Score > s.Rows[b].Score:
			return 1
		}
		return 0
	})
	chosen := -1
	for _, i := range cands {
		pg := &gc.Points[i]
		if pg.OK() {
			if chosen < 0 {
				chosen = i
			}
			continue
		}
		d.Blocked = append(d.Blocked, s.blocked(sig, &sig.Points[i], pg, gc.Margin))
	}
	if chosen < 0 && !sig.Points[s.Best].Baseline && sig.Points[s.Best].Verdict != Better {
		ps := &sig.Points[s.Best]
		d.Blocked = append(d.Blocked, Blocked{Point: ps.Point, Kind: BlockedNotSignificant,
			Text: fmt.Sprintf("%s (the old script's lowest score): %s: not significantly better", s.pointName(ps.Point), sig.describe(ps))})
	}
	nGuards := len(gc.Guards)
	switch {
	case chosen >= 0:
		ps := &sig.Points[chosen]
		d.Point, d.Verdict = ps.Point, Change
		d.Reason = fmt.Sprintf("change to %s: %s, and %s", s.pointName(ps.Point), sig.describe(ps), guardsOK(nGuards, gc.Margin))
		if n := len(d.Blocked); n > 0 {
			d.Reason += fmt.Sprintf(" (%d point%s with a better score failed a guard)", n, plural(n))
		}
	case len(cands) > 0:
		d.Reason = fmt.Sprintf("keep %s: every significantly better point fails a guard; %s", s.pointName(sig.Baseline), d.Blocked[0].Text)
		if n := len(cands) - 1; n > 0 {
			d.Reason += fmt.Sprintf(" (and %d more)", n)
		}
	default:
		d.Reason = fmt.Sprintf("keep %s: no other point is significantly better on the score", s.pointName(sig.Baseline))
		if !sig.Points[s.Best].Baseline {
			d.Reason += fmt.Sprintf(" (the old script's lowest score, %s: %s)", present.PointValue(best.Point), sig.describe(&sig.Points[s.Best]))
		}
	}
	return d, nil
}

// blocked describes a significantly better point that a guard blocked.
func (s *Selection) blocked(sig *Significance, ps *PointSignificance, pg *PointGuards, margin float64) Blocked {
	b := Blocked{Point: ps.Point, Kind: BlockedGuardInconclusive}
	var worse, unsure []string
	for _, r := range pg.Results {
		switch r.Verdict {
		case GuardWorse:
			b.Kind = BlockedGuardWorse
			b.Guards = append(b.Guards, r)
			worse = append(worse, r.Describe())
		}
	}
	for _, r := range pg.Results {
		if r.Verdict == GuardInconclusive {
			b.Guards = append(b.Guards, r)
			unsure = append(unsure, r.Describe())
		}
	}
	var parts []string
	if len(worse) > 0 {
		parts = append(parts, strings.Join(worse, ", ")+": rejected")
	}
	if len(unsure) > 0 {
		what := "a regression"
		if len(unsure) == 1 && higherBetter(b.Guards[len(b.Guards)-1].Guard) {
			what = "a loss"
		}
		parts = append(parts, fmt.Sprintf("%s: cannot rule out %s beyond %s: more repeats", strings.Join(unsure, ", "), what, present.Percent(margin)))
	}
	b.Text = fmt.Sprintf("%s: %s but %s", s.pointName(ps.Point), sig.describe(ps), strings.Join(parts, "; "))
	return b
}

// guardsOK is "all 7 guards ok within the 1% margin" (or "no guards").
func guardsOK(n int, margin float64) string {
	switch n {
	case 0:
		return "no guards checked"
	case 1:
		return fmt.Sprintf("its guard is ok within the %s margin", present.Percent(margin))
	}
	return fmt.Sprintf("all %d guards ok within the %s margin", n, present.Percent(margin))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Subset returns a table with only the given points of t (those t has),
// sharing the cells: a condition's sub-grid for a per-condition decision.
func (t *Table) Subset(points []Point) *Table {
	sub := NewTable(t.Params, points, t.Repeats)
	sub.Param = t.Param
	sub.Points = slices.DeleteFunc(sub.Points, func(p Point) bool { return t.PointIndex(p) < 0 })
	for r := range sub.Cells {
		sub.Cells[r] = make([]Cell, len(sub.Points))
		for i, p := range sub.Points {
			sub.Cells[r][i] = t.Cells[r][t.PointIndex(p)]
		}
	}
	sub.Warnings = slices.Clone(t.Warnings)
	return sub
}

// nanNull returns nil for NaN (JSON null), else a pointer to v.
func nanNull(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}
