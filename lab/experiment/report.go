package experiment

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	labversion "github.com/schedlab/schedlab/lab/internal/version"
	"github.com/schedlab/schedlab/lab/report"
)

// ReportInput is what the report of a shows: the analysis itself, the
// cells' states, the provenance their records hold (hosts, GPUs) and the
// scheduler's counters per point.
func (x *Experiment) ReportInput(a *Analysis) (*report.Input, error) {
	s := x.Spec
	in := &report.Input{
		Name:        s.Name,
		Description: s.Description,
		Spec:        s,
		Hash:        s.Hash(),
		Engine:      x.Engine.Kind(),
		LabVersion:  labversion.String(),
		VCSCommit:   labversion.VCSCommit(),
		GoVersion:   runtime.Version(),
		// The simulator's outputs depend only on the spec and its seed.
		Deterministic:    x.Engine.Kind() == "sim",
		Table:            a.Table,
		Selections:       a.Selections,
		Headline:         report.Headline{Preset: a.Headline.Preset, Aggregation: a.Headline.Agg},
		Significance:     a.HeadlineSignificance(),
		NoStatistics:     a.NoStatistics,
		PromptWeight:     a.PromptWeight,
		Decision:         a.Decision,
		Confirmation:     a.Confirmation.Report(),
		ConfirmationNote: a.ConfirmationNote,
		Joint:            a.Joint,
		Conditions:       a.Conditions,
	}
	if id, err := json.MarshalIndent(x.Engine.Identity(), "", "  "); err == nil {
		in.EngineConfig = string(id)
	}
	names := s.ParamNames()
	hosts, gpus := map[string]bool{}, map[string]bool{}
	for i := range a.Cells {
		c := &a.Cells[i]
		in.Cells.Total++
		switch c.State {
		case OK:
			in.Cells.OK++
		case Failed:
			in.Cells.Failed++
			in.FailedCells = append(in.FailedCells, fmt.Sprintf("%s: exit %d: %s", c.Where(names), c.Record.ExitCode, c.Reason))
		case Corrupt:
			in.Cells.Failed++
			in.FailedCells = append(in.FailedCells, fmt.Sprintf("%s: corrupt: %s", c.Where(names), c.Reason))
		default: // missing, or running: no results yet
			in.Cells.Missing++
		}
		if rec := c.Record; rec != nil {
			if rec.Host != "" {
				hosts[rec.Host] = true
			}
			if rec.GPUName != "" {
				g := rec.GPUName
				if rec.GPUDriver != "" {
					g += " (driver " + rec.GPUDriver + ")"
				}
				gpus[g] = true
			}
		}
	}
	in.Hosts, in.GPUs = sortedSet(hosts), sortedSet(gpus)
	counters, err := x.schedulerCounters(a.Cells)
	if err != nil {
		return nil, err
	}
	in.Counters = counters
	return in, nil
}

// WriteReport writes the report of a (the spec's own analysis,
// Analyze(AnalyzeOptions{})) into <outRoot>/<experiment>/ and returns the
// page's path; now is the date it shows.
func (x *Experiment) WriteReport(a *Analysis, outRoot string, now time.Time) (string, error) {
	in, err := x.ReportInput(a)
	if err != nil {
		return "", err
	}
	in.Generated = now
	dir := report.Dir(outRoot, x.Spec.Name)
	if err := report.Write(dir, in); err != nil {
		return "", err
	}
	return filepath.Join(dir, report.HTMLFile), nil
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
