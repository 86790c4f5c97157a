package analysis

import "github.com/schedlab/schedlab/lab/sarathi"

// PromptWeightAt derives prompt_weight at point p of t: seconds per
// prefill token pooled over every repeat with results at p (the
// prefill_time_execution_plus_preemption_normalized files). It fails when
// p is not a point of t or has no results.
func (t *Table) PromptWeightAt(p Point, opt PromptWeightOptions) (*PromptWeightResult, error) {
	files, err := t.Files(p, sarathi.PrefillExecPlusPreemptNorm)
	if err != nil {
		return nil, err
	}
	return SecondsPerPrefillToken(files, opt)
}
