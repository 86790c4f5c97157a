package analysis

import (
	"fmt"
	"math"
	"slices"
)

// DecideFunc makes the decision for one selection of table t (all points
// of t, scored against the baseline) given its significance: Decide with
// the experiment's guards.
type DecideFunc func(t *Table, s *Selection, sig *Significance) (*Decision, error)

// ConditionResult is the decision under one condition: the knobs' own
// selection, significance and choice on the sub-table where the condition
// parameters have Values.
type ConditionResult struct {
	// Values are the condition parameters' values, in Conditions.By order.
	Values       Point
	Table        *Table
	Selection    *Selection
	Significance *Significance
	Decision     *Decision
	// Effect is the paired score ratio of the decision to the baseline,
	// with its interval (1 [1, 1] when the decision keeps the baseline).
	Effect   float64
	EffectCI [2]float64
	// LowestRatio and LowestCI are the paired ratio to the baseline of the
	// old script's choice under this condition (Decision.LowestScore).
	LowestRatio float64
	LowestCI    [2]float64
}

// Conditions are the per-condition decisions of a sweep whose parameters
// By are conditions (load, max_num_seqs, …) and whose others, Knobs, are
// chosen separately under each.
type Conditions struct {
	By, Knobs []string
	Results   []ConditionResult
}

// ByCondition splits t by the values of the parameters named in by and
// makes one decision per condition with decide: the knobs' selection under
// opt (opt.Baseline, a point of t, restricted to the knobs — the knob's
// baseline within each condition) and its significance under sopt.
// Conditions are in sorted order of their values.
func ByCondition(t *Table, by []string, opt Options, sopt SignificanceOptions, decide DecideFunc) (*Conditions, error) {
	conds, err := t.Conditions(by)
	if err != nil {
		return nil, err
	}
	c := &Conditions{By: slices.Clone(by)}
	var keep []int
	for i, p := range t.Params {
		if !slices.Contains(by, p) {
			c.Knobs = append(c.Knobs, p)
			keep = append(keep, i)
		}
	}
	if len(c.Knobs) == 0 {
		return nil, fmt.Errorf("analysis: every swept parameter is a condition (%v); one must remain as the knob", by)
	}
	for _, v := range conds {
		at := make(map[string]float64, len(by))
		for k, name := range by {
			at[name] = v[k]
		}
		sub, err := t.Sub(at)
		if err != nil {
			return nil, err
		}
		o := opt
		if opt.Baseline != nil {
			o.Baseline = project(opt.Baseline, keep)
		}
		sel, err := Select(sub, o)
		if err != nil {
			return nil, fmt.Errorf("analysis: condition %s: %w", formatAt(t.Params, at), err)
		}
		sig, err := sel.Significance(sopt)
		if err != nil {
			return nil, fmt.Errorf("analysis: condition %s: %w", formatAt(t.Params, at), err)
		}
		d, err := decide(sub, sel, sig)
		if err != nil {
			return nil, fmt.Errorf("analysis: condition %s: %w", formatAt(t.Params, at), err)
		}
		r := ConditionResult{Values: v, Table: sub, Selection: sel, Significance: sig, Decision: d}
		r.Effect, r.EffectCI = ratioOf(sel, sig, d.Point)
		r.LowestRatio, r.LowestCI = ratioOf(sel, sig, d.LowestScore.Point)
		c.Results = append(c.Results, r)
	}
	return c, nil
}

// ratioOf is p's paired score ratio to the baseline and its interval (NaN
// when p is not a row).
func ratioOf(s *Selection, sig *Significance, p Point) (float64, [2]float64) {
	i := s.rowIndex(p)
	if i < 0 {
		return math.NaN(), [2]float64{math.NaN(), math.NaN()}
	}
	return sig.Points[i].ScoreRatio, sig.Points[i].ScoreCI
}

// ConditionJSON is one condition in JSON (summary.json's "conditions",
// `lab select --json`): the condition, its decision and the old script's
// lowest score as everywhere else (points are the knobs' values: a number
// for one knob, an array for several, in "knobs" order), the decision's
// effect and the lowest score's ratio to the baseline; numbers that do not
// exist are null.
type ConditionJSON struct {
	Condition map[string]float64 `json:"condition"`
	DecisionFieldsJSON
	Baseline PointJSON `json:"baseline"`
	// Effect is the decided point's paired score ratio to the baseline.
	Effect           RatioJSON `json:"effect"`
	LowestScoreRatio RatioJSON `json:"lowest_score_ratio"`
}

// RatioJSON is a score ratio with its 95% interval.
type RatioJSON struct {
	ScoreRatio *float64    `json:"score_ratio"`
	CI95       *[2]float64 `json:"ci95"`
}

// ConditionsJSON is the JSON form of c.
type ConditionsJSON struct {
	By         []string        `json:"by"`
	Knobs      []string        `json:"knobs"`
	Conditions []ConditionJSON `json:"conditions"`
}

// JSON returns c's JSON form.
func (c *Conditions) JSON() ConditionsJSON {
	out := ConditionsJSON{By: c.By, Knobs: c.Knobs, Conditions: []ConditionJSON{}}
	for _, r := range c.Results {
		m := make(map[string]float64, len(c.By))
		for k, name := range c.By {
			m[name] = r.Values[k]
		}
		out.Conditions = append(out.Conditions, ConditionJSON{
			Condition: m, DecisionFieldsJSON: r.Decision.JSON(), Baseline: PointJSON(r.Decision.Baseline),
			Effect: ratioJSON(r.Effect, r.EffectCI), LowestScoreRatio: ratioJSON(r.LowestRatio, r.LowestCI),
		})
	}
	return out
}

func ratioJSON(v float64, ci [2]float64) RatioJSON {
	var r RatioJSON
	if !math.IsNaN(v) {
		r.ScoreRatio = &v
	}
	if !math.IsNaN(ci[0]) && !math.IsNaN(ci[1]) {
		r.CI95 = &ci
	}
	return r
}

// Rows are the per-condition table that `lab select` prints and the report
// shows, one row per condition: the condition's values, the decision, its
// verdict, its effect on the score (effect(Effect, EffectCI) when it
// changes the knob, "—" when it keeps the baseline), the old script's
// lowest score with its ratio, and why(Decision). The callers choose the
// wording of the numbers and of the reason (terse in a terminal, whole on a
// page); changed counts the conditions that change the knob.
func (c *Conditions) Rows(effect func(ratio float64, ci [2]float64) string, why func(d *Decision) string) (rows [][]string, changed int) {
	for _, r := range c.Results {
		var row []string
		for k := range c.By {
			row = append(row, r.Values[k:k+1].String())
		}
		d := r.Decision
		eff := "—"
		if d.Verdict == Change {
			eff = effect(r.Effect, r.EffectCI)
			changed++
		}
		row = append(row, d.Point.String(), string(d.Verdict), eff,
			d.LowestScore.Point.String()+": "+effect(r.LowestRatio, r.LowestCI), why(d))
		rows = append(rows, row)
	}
	return rows, changed
}
