package source

import (
	"errors"
	"path/filepath"

	"github.com/schedlab/schedlab/lab/sarathi"
)

// RunSummary is run_summary.json: facts about one cell that are not
// per-request metrics (the file format lives with the other metric files,
// in lab/sarathi). Every field but Source is optional: nil means the source
// did not report it (never a made-up zero).
type RunSummary = sarathi.RunSummary

// RunSummaryFile is the cell-level facts file, next to the plots folder
// (replica_0/run_summary.json).
const RunSummaryFile = "run_summary.json"

// ReadRunSummary reads replicaDir/run_summary.json. A cell without one
// (engines and trees from before the file existed) gives nil and no error.
func ReadRunSummary(replicaDir string) (*RunSummary, error) {
	s, err := sarathi.ReadRunSummary(filepath.Join(replicaDir, RunSummaryFile))
	if errors.Is(err, sarathi.ErrNoRunSummary) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}
