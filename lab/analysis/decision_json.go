package analysis

// DecisionJSON is the top-level "decision" object of `lab select --json`
// and summary.json.
type DecisionJSON struct {
	Point   PointJSON       `json:"point"`
	Verdict DecisionVerdict `json:"verdict"`
	Reason  string          `json:"reason"`
	// Blocked lists what blocked each candidate (Decision.Blocked).
	Blocked []BlockedJSON `json:"blocked"`
	// Warnings name skipped guards and cells lacking a guard metric.
	Warnings []string `json:"warnings,omitempty"`
}

// BlockedJSON is one blocked candidate.
type BlockedJSON struct {
	Point  PointJSON   `json:"point"`
	Kind   string      `json:"kind"`
	Guards []GuardJSON `json:"guards,omitempty"`
	Text   string      `json:"text"`
}

// LowestScoreJSON is the old script's choice.
type LowestScoreJSON struct {
	Point PointJSON `json:"point"`
	Score float64   `json:"score"`
}

// GuardJSON is one guard at one point. Ratio and CI are null where they
// do not exist (no pair; fewer than 2 pairs for the interval).
type GuardJSON struct {
	Metric  string       `json:"metric"`
	Stat    string       `json:"stat"`
	Ratio   *float64     `json:"ratio"`
	CI95    *[2]float64  `json:"ci95"`
	Verdict GuardVerdict `json:"verdict"`
	Pairs   int          `json:"pairs"`
	Note    string       `json:"note,omitempty"`
}

// DecisionFieldsJSON are the decision's top-level fields of a selection
// object.
type DecisionFieldsJSON struct {
	Decision    DecisionJSON    `json:"decision"`
	LowestScore LowestScoreJSON `json:"lowest_score"`
}

// JSON returns the guard result's JSON form.
func (r GuardResult) JSON() GuardJSON {
	g := GuardJSON{Metric: r.Guard.Metric, Stat: r.Guard.Stat, Ratio: nanNull(r.Ratio), Verdict: r.Verdict, Pairs: r.Pairs, Note: r.Note}
	if lo, hi := nanNull(r.CI[0]), nanNull(r.CI[1]); lo != nil && hi != nil {
		g.CI95 = &[2]float64{*lo, *hi}
	}
	return g
}

// JSON returns the decision's top-level JSON fields.
func (d *Decision) JSON() DecisionFieldsJSON {
	out := DecisionFieldsJSON{
		Decision:    DecisionJSON{Point: PointJSON(d.Point), Verdict: d.Verdict, Reason: d.Reason, Blocked: []BlockedJSON{}, Warnings: d.Warnings},
		LowestScore: LowestScoreJSON{Point: PointJSON(d.LowestScore.Point), Score: d.LowestScore.Score},
	}
	for _, b := range d.Blocked {
		bj := BlockedJSON{Point: PointJSON(b.Point), Kind: b.Kind, Text: b.Text}
		for _, g := range b.Guards {
			bj.Guards = append(bj.Guards, g.JSON())
		}
		out.Decision.Blocked = append(out.Decision.Blocked, bj)
	}
	return out
}

// GuardsJSON returns the guards of point i of the decision's selection
// (an empty list when no guard was checked).
func (d *Decision) GuardsJSON(i int) []GuardJSON {
	out := []GuardJSON{}
	for _, r := range d.Guards.Points[i].Results {
		out = append(out, r.JSON())
	}
	return out
}

// AddDecision adds "decision" and "lowest_score" to a selection's JSON and
// "guards" to each of its points (d must come from the same selection).
func (j *SelectionJSON) AddDecision(d *Decision) {
	f := d.JSON()
	j.DecisionFieldsJSON = &f
	for i := range j.Thresholds {
		j.Thresholds[i].Guards = d.GuardsJSON(i)
	}
}
