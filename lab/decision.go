package lab

import (
	"context"
	"errors"
	"runtime"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/spec"
)

// Decide is the experiment's decision for its headline selection head (of
// table t) with its significance: analysis.Decide with the spec's guards
// (select.guards). sigErr is the error the significance came with: when it
// is analysis.ErrNotPositive there are no statistics, and the decision
// keeps the baseline saying so; any other error is returned. `lab run`,
// `lab select`, the report and the notebooks all decide here, so they
// state the same decision.
func Decide(s *spec.Spec, t *analysis.Table, head *analysis.Selection, sig *analysis.Significance, sigErr error) (*analysis.Decision, error) {
	var guards []spec.Guard
	if s != nil {
		guards = s.Select.GuardList()
	} else {
		guards = spec.DefaultGuards
	}
	switch {
	case errors.Is(sigErr, analysis.ErrNotPositive):
		return analysis.NoStatisticsDecision(head, "no statistics: "+sigErr.Error()), nil
	case sigErr != nil:
		return nil, sigErr
	}
	return analysis.Decide(t, head, sig, guards)
}

// HeadlineDecision selects t with the spec's first preset, takes the
// headline selection, computes its significance with the spec's options
// and decides: what `lab prompt-weight SPEC` and the notebooks use when
// they need the decided point without the other presets.
func HeadlineDecision(s *spec.Spec, t *analysis.Table) (*analysis.Selection, *analysis.Decision, error) {
	sels, err := analysis.SelectAll(t, Presets(s)[:1], SpecBaseline(s))
	if err != nil {
		return nil, nil, err
	}
	head := Headline(s, sels)
	sig, sigErr := head.Significance(SignificanceOptions(s))
	d, err := Decide(s, t, head, sig, sigErr)
	return head, d, err
}

// Decide is the decision for sel (one of x.SelectAll's) with its
// significance, as `lab select` makes it (Decide with the spec's guards).
func (x *Experiment) Decide(sel *analysis.Selection) (*analysis.Decision, error) {
	sig, err := x.Significance(sel)
	return Decide(x.Spec, x.Table, sel, sig, err)
}

// Confirmation runs (cells the store lacks) and analyses the prompt_weight
// confirmation at decision d with the derived weight of pw, as `lab run`
// does after its selection.
func (x *Experiment) Confirmation(ctx context.Context, d *analysis.Decision, pw *analysis.PromptWeightResult) (*Confirmation, error) {
	return Confirm(ctx, x.Spec, x.Store, d, pw, ConfirmOptions{Run: true, Jobs: runtime.GOMAXPROCS(0)})
}
