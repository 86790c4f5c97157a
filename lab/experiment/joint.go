package experiment

import (
	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/spec"
)

// Decider is the decision every view of a grid or a condition states (CLI,
// report, notebooks): Decide with the spec's guards, so they cannot
// disagree.
func Decider(s *spec.Spec) analysis.DecideFunc {
	return func(t *analysis.Table, sel *analysis.Selection, sig *analysis.Significance) (*analysis.Decision, error) {
		return Decide(s, t, sel, sig, nil)
	}
}

// conditions makes one decision per condition of a spec with select.by
// (nil, nil without it): the knobs' selection under the headline preset
// and aggregation, against the spec's baseline restricted to the knobs,
// with significance options sopt.
func conditions(s *spec.Spec, t *analysis.Table, sopt analysis.SignificanceOptions) (*analysis.Conditions, error) {
	if len(s.Select.By) == 0 {
		return nil, nil
	}
	p := Presets(s)[0]
	opt := analysis.Options{Baseline: SpecBaseline(s), Weights: p.Weights, Agg: s.Select.Aggregation, Preset: p.Name}
	return analysis.ByCondition(t, s.Select.By, opt, sopt, Decider(s))
}

// joint is the joint analysis of a sweep of two or more parameters around
// the decision d on the headline selection (nil, nil for one parameter,
// with select.by, whose conditions are analysed separately, or without
// statistics).
func joint(s *spec.Spec, head *analysis.Selection, sig *analysis.Significance, d *analysis.Decision) (*analysis.Joint, error) {
	if len(head.Params) < 2 || len(s.Select.By) > 0 || sig == nil {
		return nil, nil
	}
	return analysis.NewJoint(head, sig, d)
}
