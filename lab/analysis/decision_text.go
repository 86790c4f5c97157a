package analysis

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/schedlab/schedlab/lab/present"
)

// NoStatisticsDecision is the decision when the statistics cannot be
// computed (ErrNotPositive): without a test nothing is shown to beat the
// baseline, so the baseline is kept. why is the reason to print.
func NoStatisticsDecision(s *Selection, why string) *Decision {
	b := s.Rows[s.comparisonBaseline()].Point
	best := s.Rows[s.Best]
	return &Decision{
		Param: s.Param, Params: s.Params, Point: b, Baseline: b, Verdict: Keep,
		Reason:      fmt.Sprintf("keep %s: %s", s.pointName(b), why),
		LowestScore: LowestScore{Point: best.Point, Score: best.Score},
		Guards:      &GuardCheck{Baseline: b, Points: make([]PointGuards, len(s.Rows))},
	}
}

// WriteDecision prints the decision (one line), what blocked each
// candidate, the old script's lowest score, labelled as such, and the
// guard table: each point's guard ratios to the baseline with their
// verdicts.
func WriteDecision(w io.Writer, s *Selection, d *Decision) error {
	if _, err := fmt.Fprintf(w, "decision: %s\n", d.Reason); err != nil {
		return err
	}
	for i, b := range d.Blocked {
		if i == 0 && d.Verdict == Keep {
			continue // the reason already names it
		}
		if _, err := fmt.Fprintf(w, "  not chosen: %s\n", b.Text); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(w, "the old script's lowest score: %s (score %s)\n", s.pointName(d.LowestScore.Point),
		strconv.FormatFloat(d.LowestScore.Score, 'f', 6, 64)); err != nil {
		return err
	}
	gc := d.Guards
	if len(gc.Guards) == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(w, "guards vs %s, paired by repeat (non-inferiority: ok when the interval stays below +%s, throughput above −%s; ? = inconclusive):\n",
		s.pointName(gc.Baseline), present.Percent(gc.Margin), present.Percent(gc.Margin)); err != nil {
		return err
	}
	cols := [][]string{{s.Param}}
	for _, g := range gc.Guards {
		cols = append(cols, []string{GuardName(g)})
	}
	for _, pg := range gc.Points {
		cols[0] = append(cols[0], pg.Point.String())
		for k, r := range pg.Results {
			cell := "–"
			if !math.IsNaN(r.Ratio) {
				cell = present.Change(r.Ratio)
			}
			switch {
			case pg.Baseline:
				cell = "baseline"
			case r.Verdict == GuardWorse:
				cell += " worse"
			case r.Verdict == GuardInconclusive:
				cell += " ?"
			}
			cols[k+1] = append(cols[k+1], cell)
		}
	}
	return present.WriteColumns(w, cols, "  ")
}
