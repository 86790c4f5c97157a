package main

import (
	"github.com/schedlab/schedlab/lab"
	"github.com/schedlab/schedlab/lab/internal/engine/sim"
	"github.com/schedlab/schedlab/lab/internal/runner"
	"github.com/schedlab/schedlab/lab/internal/store"
	"github.com/schedlab/schedlab/lab/report"
	"github.com/schedlab/schedlab/lab/spec"
)

// schedulerCounters averages the scheduler counters of the finished cells
// of a sim or gpu experiment per point, in point order; nil for other
// engines or when no cell has counters.
func schedulerCounters(s *spec.Spec, st *store.Store, plan []runner.Planned) ([]report.PointCounters, error) {
	if k := s.Engine.Kind(); k != "sim" && k != "gpu" {
		return nil, nil
	}
	names := s.ParamNames()
	var out []report.PointCounters
	index := map[string]int{}
	for _, p := range plan {
		rec, err := st.Get(p.Hash)
		if err != nil {
			return nil, err
		}
		if rec == nil || !rec.OK() {
			continue
		}
		c, ok, err := sim.ReadCounters(st.CellDir(p.Hash))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		pt := lab.SpecPoint(p.Cell.Point, names)
		k := pt.String()
		i, seen := index[k]
		if !seen {
			i = len(out)
			index[k] = i
			out = append(out, report.PointCounters{Point: pt})
		}
		pc := &out[i]
		pc.Cells++
		pc.ThresholdBlockedAdmissions += float64(c.ThresholdBlockedAdmissions)
		pc.PredictorBlockedAdmissions += float64(c.PredictorBlockedAdmissions)
		pc.SkipsThreshold += float64(c.SkipsThreshold)
		pc.SkipsBudget += float64(c.SkipsBudget)
		pc.SkipsPredictor += float64(c.SkipsPredictor)
		pc.ForcedSingleToken += float64(c.ForcedSingleToken)
		pc.Preemptions += float64(c.Preemptions)
	}
	for i := range out {
		pc := &out[i]
		n := float64(pc.Cells)
		pc.ThresholdBlockedAdmissions /= n
		pc.PredictorBlockedAdmissions /= n
		pc.SkipsThreshold /= n
		pc.SkipsBudget /= n
		pc.SkipsPredictor /= n
		pc.ForcedSingleToken /= n
		pc.Preemptions /= n
	}
	return out, nil
}
