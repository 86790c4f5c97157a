package experiment

import (
	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/spec"
)

// Decide is the decision for selection head (of table t) with its
// significance: analysis.Decide with the spec's guards (select.guards; a
// nil spec, a legacy tree, has the default guards). sigErr is the error
// the significance came with: when NoStatistics recognizes it there are no
// statistics, and the decision keeps the baseline saying so; any other
// error is returned. Analyze decides through it once per analysis, so
// `lab select`, `lab run`, `lab prompt-weight`, the report and the
// notebooks state the same decision.
func Decide(s *spec.Spec, t *analysis.Table, head *analysis.Selection, sig *analysis.Significance, sigErr error) (*analysis.Decision, error) {
	guards := spec.DefaultGuards
	if s != nil {
		guards = s.Select.GuardList()
	}
	if none, ok := NoStatistics(sigErr); ok {
		return analysis.NoStatisticsDecision(head, none), nil
	}
	if sigErr != nil {
		return nil, sigErr
	}
	return analysis.Decide(t, head, sig, guards)
}
