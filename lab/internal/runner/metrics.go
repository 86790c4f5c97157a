package runner

import (
	"path/filepath"

	"github.com/schedlab/schedlab/lab/metrics/source"
	"github.com/schedlab/schedlab/lab/sarathi"
)

// checkMetrics verifies a finished cell's metric files: the five required
// ones, less those its run_summary.json declares unavailable (a client-side
// benchmark cannot observe execution times).
func checkMetrics(cellDir string) error {
	plots := filepath.Join(cellDir, sarathi.PlotsDir)
	rs, err := source.ReadRunSummary(filepath.Dir(plots))
	if err != nil {
		return err
	}
	var un []string
	if rs != nil {
		un = rs.Unavailable
	}
	return sarathi.CheckExcept(plots, un)
}
