package main

import (
	"path/filepath"

	"errors"
	"github.com/schedlab/schedlab/lab/metrics/source"

	"github.com/schedlab/schedlab/lab/analysis"
	"github.com/schedlab/schedlab/lab/sarathi"
)

// promptWeightAt derives prompt_weight at point p, or says why it cannot:
// the cells' source (a client-side benchmark) cannot observe the
// per-prefill-token times it pools. That is a note for the output, not an
// error: the selection stands without it.
func promptWeightAt(t *analysis.Table, p analysis.Point, opt analysis.PromptWeightOptions) (*analysis.PromptWeightResult, string, error) {
	files, err := t.Files(p, sarathi.PrefillExecPlusPreemptNorm)
	if errors.Is(err, analysis.ErrUnavailable) {
		return nil, "prompt_weight not derived: " + err.Error(), nil
	}
	if err != nil {
		return nil, "", err
	}
	pw, err := analysis.SecondsPerPrefillToken(files, opt)
	return pw, "", err
}

// addRunFacts copies an ok cell's run_summary.json facts into its status
// row: `lab status` shows how many requests failed in cells that count.
func addRunFacts(row *cellRow, cellDir string) error {
	rs, err := source.ReadRunSummary(filepath.Join(cellDir, filepath.Dir(sarathi.PlotsDir)))
	if err != nil || rs == nil {
		return err
	}
	row.Requests, row.RequestsFailed, row.Unavailable = rs.Requests, rs.RequestsFailed, rs.Unavailable
	if row.Requests == nil && row.RequestsFailed != nil {
		row.RequestsFailed = nil // "k of ?" would say nothing
	}
	return nil
}
