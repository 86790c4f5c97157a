package experiment

import (
	"github.com/schedlab/schedlab/lab/internal/engine/sim"
	"github.com/schedlab/schedlab/lab/report"
)

// schedulerCounters averages the scheduler counters (sim.json, gpu.json) of
// the ok cells per point, in point order: how often min_chunk_threshold
// acted, so that a flat curve can be told apart from a knob that never
// fired. Nil for engines without a scheduler of ours or when no cell has
// counters.
func (x *Experiment) schedulerCounters(cells []Cell) ([]report.PointCounters, error) {
	if k := x.Spec.Engine.Kind(); k != "sim" && k != "gpu" {
		return nil, nil
	}
	names := x.Spec.ParamNames()
	var out []report.PointCounters
	index := map[string]int{}
	for i := range cells {
		c := &cells[i]
		if c.State != OK {
			continue
		}
		n, ok, err := sim.ReadCounters(x.Store.CellDir(c.Hash))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		pt := SpecPoint(c.Point, names)
		k := pt.String()
		j, seen := index[k]
		if !seen {
			j = len(out)
			index[k] = j
			out = append(out, report.PointCounters{Point: pt})
		}
		pc := &out[j]
		pc.Cells++
		pc.ThresholdBlockedAdmissions += float64(n.ThresholdBlockedAdmissions)
		pc.PredictorBlockedAdmissions += float64(n.PredictorBlockedAdmissions)
		pc.SkipsThreshold += float64(n.SkipsThreshold)
		pc.SkipsBudget += float64(n.SkipsBudget)
		pc.SkipsPredictor += float64(n.SkipsPredictor)
		pc.ForcedSingleToken += float64(n.ForcedSingleToken)
		pc.Preemptions += float64(n.Preemptions)
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
