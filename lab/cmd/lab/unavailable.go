package main

import (
	"path/filepath"

	"github.com/schedlab/schedlab/lab/metrics/source"

	"github.com/schedlab/schedlab/lab/sarathi"
)

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
