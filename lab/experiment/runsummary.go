package experiment

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/schedlab/schedlab/lab/metrics/source"
)

// runFacts gathers the run_summary.json facts of an experiment's cells for
// LoadTable: which metrics the sources could not observe, and how many
// requests failed, so both show among the table's warnings (`lab select`,
// its --json, the report and summary.json print those).
type runFacts struct {
	unavailable map[string][]string // source → metrics
	requests    int
	failed      int
	cellsFailed int
	cells       int
	worst       string
	worstShare  float64
}

// add reads the cell's run_summary.json (replicaDir is its replica_0
// folder) and returns the metrics its source could not observe.
func (f *runFacts) add(replicaDir, where string) ([]string, error) {
	rs, err := source.ReadRunSummary(replicaDir)
	if err != nil || rs == nil {
		return nil, err
	}
	f.cells++
	if len(rs.Unavailable) > 0 {
		if f.unavailable == nil {
			f.unavailable = map[string][]string{}
		}
		for _, m := range rs.Unavailable {
			if !slices.Contains(f.unavailable[rs.Source], m) {
				f.unavailable[rs.Source] = append(f.unavailable[rs.Source], m)
			}
		}
	}
	if rs.Requests != nil && rs.RequestsFailed != nil {
		n, k := *rs.Requests, *rs.RequestsFailed
		f.requests += n
		f.failed += k
		if k > 0 {
			f.cellsFailed++
			if share := float64(k) / float64(max(n, 1)); share > f.worstShare {
				f.worstShare, f.worst = share, fmt.Sprintf("%s: %d of %d", where, k, n)
			}
		}
	}
	return rs.Unavailable, nil
}

// warnings words the facts, one line each (none for Sarathi-only tables).
func (f *runFacts) warnings() []string {
	var out []string
	srcs := make([]string, 0, len(f.unavailable))
	for s := range f.unavailable {
		srcs = append(srcs, s)
	}
	slices.Sort(srcs)
	for _, s := range srcs {
		ms := slices.Sorted(slices.Values(f.unavailable[s]))
		out = append(out, fmt.Sprintf("metrics %s cannot observe (absent, their weights must be 0): %s", s, strings.Join(ms, ", ")))
	}
	if f.failed > 0 {
		out = append(out, fmt.Sprintf("failed requests: %d of %d in %d of %d cells (the most: %s); their latencies are not in the metrics",
			f.failed, f.requests, f.cellsFailed, f.cells, f.worst))
	}
	return out
}

func replicaDir(plotsDir string) string { return filepath.Dir(plotsDir) }
