package exec

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/schedlab/schedlab/lab/internal/engine"
	"github.com/schedlab/schedlab/lab/internal/fsutil"
	"github.com/schedlab/schedlab/lab/metrics"
	"github.com/schedlab/schedlab/lab/metrics/source"
	"github.com/schedlab/schedlab/lab/sarathi"
	"github.com/schedlab/schedlab/lab/spec"
)

// readMetrics runs the configured metrics reader on the command's output
// folder out (which stays in the cell as the raw record) and writes the
// metric files and run_summary.json into replicaDir. A file the reader
// cannot use, or more failed requests than max_failed_share allows, fails
// the cell with that reason; the first failure messages go to stderr.log.
func (e *Engine) readMetrics(out, replicaDir string, stderr io.Writer) error {
	res, err := metrics.ConvertCell(e.reader, out, replicaDir)
	if err != nil {
		return &engine.ExitError{Reason: fmt.Sprintf("the command exited 0 but its %s results cannot be read: %v", e.reader, err)}
	}
	for _, m := range res.Errors {
		fmt.Fprintf(stderr, "lab: failed %s\n", m)
	}
	limit := spec.DefaultMaxFailedShare
	if e.maxFail != nil {
		limit = *e.maxFail
	}
	if res.Completed() == 0 {
		return &engine.ExitError{Reason: fmt.Sprintf("all %d requests failed (%s)", res.Requests, firstOr(res.Errors))}
	}
	if share := res.FailedShare(); share > limit {
		return &engine.ExitError{Reason: fmt.Sprintf("%d of %d requests failed (%s%%), more than max_failed_share %s%% (%s)",
			res.Failed, res.Requests, pct(share), pct(limit), firstOr(res.Errors))}
	}
	return nil
}

// writeSarathiSummary writes the run_summary.json of a cell whose command
// wrote Sarathi's metric files itself: only the source is known (Sarathi's
// files record neither failed requests nor the benchmark's duration).
func writeSarathiSummary(cellDir string) error {
	b, err := (&source.RunSummary{Source: source.Sarathi}).Marshal()
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(filepath.Join(cellDir, filepath.Dir(sarathi.PlotsDir), source.RunSummaryFile), b)
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'g', 4, 64) }

func firstOr(errs []string) string {
	if len(errs) == 0 {
		return "no error message"
	}
	return "first: " + errs[0]
}
