package report

import (
	"fmt"
	"github.com/schedlab/schedlab/lab/present"

	"github.com/schedlab/schedlab/lab/analysis"
)

// PointCounters are the scheduler's counters at one sweep point (sim and
// gpu engines: sim.json, gpu.json), each the mean over the point's cells.
// They tell a flat curve apart from a knob that never acted: a threshold
// that blocked no admission and skipped no prefill cannot have changed the
// schedule.
type PointCounters struct {
	Point analysis.Point `json:"point"`
	// Cells is the number of cells averaged.
	Cells                      int     `json:"cells"`
	ThresholdBlockedAdmissions float64 `json:"threshold_blocked_admissions"`
	PredictorBlockedAdmissions float64 `json:"predictor_blocked_admissions"`
	SkipsThreshold             float64 `json:"running_prefill_skips_threshold"`
	SkipsBudget                float64 `json:"running_prefill_skips_budget"`
	SkipsPredictor             float64 `json:"running_prefill_skips_predictor"`
	ForcedSingleToken          float64 `json:"forced_single_token"`
	Preemptions                float64 `json:"preemptions"`
}

// countersSection shows Input.Counters per point: a chart of the
// threshold's two actions and a table of every counter.
func (b *builder) countersSection() *section {
	s := &section{ID: "counters", Title: "Scheduler counters: did the knob act?"}
	s.text("Mean per cell, at each point: admissions stopped only because 0 < budget left < min_chunk_threshold (the threshold's only effect under greedy chunking), running prefills that got no chunk in an iteration (by reason: threshold, budget, time-budget predictor), admissions stopped by the predictor, chunks forced to a single token, and preemptions. A point whose threshold counters are 0 ran the same schedule as threshold 0 would have.")
	byLabel := make(map[string]PointCounters, len(b.in.Counters))
	for _, c := range b.in.Counters {
		byLabel[c.Point.String()] = c
	}
	blocked := make([]float64, len(b.labels))
	for i, l := range b.labels {
		blocked[i] = byLabel[l].ThresholdBlockedAdmissions + byLabel[l].SkipsThreshold
	}
	f := b.frame("Threshold actions per cell", "admissions blocked + running prefills skipped by min_chunk_threshold (mean over repeats)", "actions per cell", false)
	f.YMin = 0
	s.add(block{Chart: barChart("chart-counters-threshold", f, b.labels, "threshold actions", blocked, "#bf8700")})
	tb := &table{
		Header: []string{b.axis.name, "cells", "threshold-blocked admissions", "skips: threshold", "skips: budget", "skips: predictor", "predictor-blocked admissions", "forced 1-token chunks", "preemptions"},
		Num:    []bool{true, true, true, true, true, true, true, true, true},
	}
	for _, c := range b.in.Counters {
		tb.Rows = append(tb.Rows, []string{c.Point.String(), fmt.Sprint(c.Cells), present.Num(c.ThresholdBlockedAdmissions), present.Num(c.SkipsThreshold),
			present.Num(c.SkipsBudget), present.Num(c.SkipsPredictor), present.Num(c.PredictorBlockedAdmissions), present.Num(c.ForcedSingleToken), present.Num(c.Preemptions)})
	}
	s.add(block{Table: tb, Collapse: fmt.Sprintf("Every point's counters (%d rows)", len(tb.Rows))})
	return s
}
